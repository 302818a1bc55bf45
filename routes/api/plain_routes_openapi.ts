/**
 * OpenAPI entries for the API routes written as plain Hono handlers (sign-in and the account:
 * routes/api/auth.tsx and routes/api/user.ts; Google's push webhook: routes/api/webhooks.ts;
 * the reference itself: routes/api/docs.ts), built from the zod schemas those handlers parse
 * with, so /api/openapi.json lists every route under /api. They stay plain handlers because
 * they answer HTML forms with redirects, Google, or browsers fetching files, which a JSON
 * route definition cannot express.
 */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { UserSettingsSchema } from "../../lib/db/users.ts";
import { errorResponses, jsonResponse, SESSION_ONLY, SIGNED_IN } from "../../lib/http/openapi.ts";
import {
  CalDavConnectBody,
  CalendarsQuery,
  CallbackQuery,
  ConnectBody,
  DisconnectQuery,
  IcsConnectBody,
  LoginQuery,
  NotificationHeaders,
  RemoveMirrorsQuery,
} from "./schemas.ts";
import { CONNECTION_KINDS, CONNECTION_STATUSES } from "../../lib/db/connections.ts";

const redirect = (description: string) => ({ description });
const ConnectionSchema = z.object({
  id: z.string(),
  kind: z.enum(CONNECTION_KINDS),
  email: z.string().describe(
    'Google\'s address of the account; for CalDAV, user name @ host; for a feed, "Feed from" and its host.',
  ),
  server: z.string().optional().describe("CalDAV only: the origin its calendars live at."),
  feed: z.string().optional().describe(
    "ICS feeds only: the feed's address masked to its scheme and host (`https://host/…`).",
  ),
  status: z.enum(CONNECTION_STATUSES).describe(
    "`disconnected`: disconnected with its rules kept (paused, no access stored) until the " +
      "same Google account is connected again.",
  ),
  statusReason: z.string().optional(),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("Connection");
const CalendarSchema = z.object({
  connectionId: z.string(),
  accountEmail: z.string(),
  calendarId: z.string(),
  summary: z.string(),
  primary: z.boolean(),
  accessRole: z.enum(["freeBusyReader", "reader", "writer", "owner"]),
  timeZone: z.string(),
  /** Its colour in the person's Google list, `#rrggbb`, when known. */
  color: z.string().optional(),
  writable: z.boolean(),
}).openapi("Calendar");
const Id = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const Anything = z.record(z.string(), z.unknown());
const DisconnectResult = z.object({
  removedRules: z.array(z.string()).describe(
    "The ids of the rules and groups deleted with it (each used one of its calendars).",
  ),
  pausedRules: z.array(z.string()).optional().describe(
    "With keepRules=true: the ids of the rules and groups kept, paused until it is connected " +
      "again (groups go on between their other members).",
  ),
  blocksLeft: z.number().int().optional().describe(
    "With removeMirrors=true on an account disconnected earlier: the busy blocks left in its " +
      "calendars, which busysync can no longer reach (connect it again first to remove them). " +
      "The blocks its events made in other accounts are removed.",
  ),
  revoked: z.boolean(),
  reason: z.enum(["shared", "unsupported"]).optional().describe(
    "Why the grant was left at Google: another user's connection holds the same Google " +
      "account, or the issuer offers no revocation endpoint.",
  ),
  message: z.string().optional(),
});

/** Registers the plain routes in `registry`, the /api app's: paths are relative to `/api`. */
export function registerPlainRoutes(registry: OpenAPIHono["openAPIRegistry"]): void {
  const auth = ["Sign-in"];
  registry.registerPath({
    method: "get",
    path: "/auth/login",
    tags: auth,
    summary: "Start signing in with Google (a browser navigation)",
    request: { query: LoginQuery },
    responses: { 302: redirect("To Google's consent page."), ...errorResponses(400, 429) },
  });
  registry.registerPath({
    method: "get",
    path: "/auth/callback",
    tags: auth,
    summary: "Google's redirect back after sign-in or connecting an account",
    request: { query: CallbackQuery },
    responses: {
      303: redirect("Signed in or connected: on to the page that started it."),
      403: { description: "An HTML page: the account is not allowed, or the flow was not yours." },
      ...errorResponses(429),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/auth/refresh",
    tags: auth,
    summary: "Rotate the session's refresh cookie and get an access JWT for Bearer use",
    responses: {
      200: jsonResponse(
        z.object({
          accessToken: z.string(),
          tokenType: z.literal("Bearer"),
          expiresAt: z.string(),
        }),
        "A short-lived access token.",
      ),
      ...errorResponses(401, 403),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/auth/logout",
    tags: auth,
    summary: "Sign out (a form post is redirected to /)",
    responses: {
      204: { description: "Signed out." },
      303: redirect("Form post: to /."),
      ...errorResponses(403),
    },
  });

  const account = ["Account"];
  registry.registerPath({
    method: "get",
    path: "/me",
    tags: account,
    security: SIGNED_IN,
    summary: "The signed-in user",
    responses: {
      200: jsonResponse(
        z.object({
          id: z.string(),
          email: z.string(),
          name: z.string(),
          createdAt: z.string(),
          settings: UserSettingsSchema,
        }),
        "The user.",
      ),
      ...errorResponses(401),
    },
  });
  registry.registerPath({
    method: "patch",
    path: "/me/settings",
    tags: account,
    security: SIGNED_IN,
    summary: "Change settings",
    request: { body: { content: { "application/json": { schema: UserSettingsSchema } } } },
    responses: {
      200: jsonResponse(UserSettingsSchema, "The settings."),
      ...errorResponses(400, 401),
    },
  });
  registry.registerPath({
    method: "delete",
    path: "/me",
    tags: account,
    security: SESSION_ONLY,
    summary: "Delete the account (and, by default, every busy block busysync made)",
    request: { query: RemoveMirrorsQuery },
    responses: { 204: { description: "Deleted." }, ...errorResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: "get",
    path: "/user/connections",
    tags: account,
    security: SIGNED_IN,
    summary: "Connected Google and CalDAV accounts and ICS feeds",
    responses: {
      200: jsonResponse(z.object({ items: z.array(ConnectionSchema) }), "The connections."),
      ...errorResponses(401),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/user/calendars/connect",
    tags: account,
    security: SESSION_ONLY,
    summary: "Start connecting a Google account ({ url } to open; a form post is redirected)",
    request: { body: { content: { "application/json": { schema: ConnectBody } } } },
    responses: {
      200: jsonResponse(z.object({ url: z.string() }), "Google's consent page."),
      303: redirect("Form post: to Google."),
      ...errorResponses(400, 401, 429),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/user/connections/caldav",
    tags: account,
    security: SESSION_ONLY,
    summary: "Connect a CalDAV account (iCloud, Fastmail, Nextcloud, any server): the address " +
      "is discovered and the password checked before anything is stored",
    request: { body: { content: { "application/json": { schema: CalDavConnectBody } } } },
    responses: {
      201: jsonResponse(
        z.object({ connection: ConnectionSchema, calendars: z.array(Anything) }),
        "Connected (or renewed: the same account keeps its id), with its calendars.",
      ),
      ...errorResponses(400, 401, 429, 502),
      422: {
        ...errorResponses(422)[422],
        description: "caldav_auth (wrong user name or password), not_caldav, " +
          "caldav_unreachable or address_refused (a private address, or plain http, that this " +
          "instance does not allow).",
      },
    },
  });
  registry.registerPath({
    method: "post",
    path: "/user/connections/ics",
    tags: account,
    security: SESSION_ONLY,
    summary: "Add an ICS feed (a timetable, TripIt, a published work calendar) as a read-only " +
      "source: the address is fetched once, and must answer a calendar, before it is stored " +
      "(sealed; shown only as scheme and host)",
    request: { body: { content: { "application/json": { schema: IcsConnectBody } } } },
    responses: {
      201: jsonResponse(
        z.object({ connection: ConnectionSchema, calendars: z.array(Anything) }),
        "Added (or renewed: the same address keeps its id), with its one calendar, `feed`.",
      ),
      ...errorResponses(400, 401, 429),
      422: {
        ...errorResponses(422)[422],
        description: "invalid_feed_url (not https, http or webcal), address_refused (a " +
          "private address, or plain http, that this instance does not allow), " +
          "feed_unreachable, feed_refused (an HTTP error) or not_a_feed (the answer is no " +
          "calendar). Messages name the host only.",
      },
    },
  });
  registry.registerPath({
    method: "post",
    path: "/user/connections/{id}/reconnect",
    tags: account,
    security: SESSION_ONLY,
    summary: "Connect an account again (after its access died)",
    request: { params: Id, body: { content: { "application/json": { schema: ConnectBody } } } },
    responses: {
      200: jsonResponse(z.object({ url: z.string() }), "Google's consent page."),
      303: redirect("Form post: to Google."),
      ...errorResponses(400, 401, 404, 429),
    },
  });
  registry.registerPath({
    method: "delete",
    path: "/user/connections/{id}",
    tags: account,
    security: SIGNED_IN,
    summary: "Disconnect an account: delete its rules (by default with their busy blocks), " +
      "or with keepRules=true pause them and keep the connection, without its access, until " +
      "the account is connected again",
    request: { params: Id, query: DisconnectQuery },
    responses: {
      200: jsonResponse(DisconnectResult, "What was removed, and whether access was revoked."),
      ...errorResponses(400, 401, 404),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/user/calendars",
    tags: account,
    security: SIGNED_IN,
    summary: "Calendars of every connected account (cached; `refresh=true` asks Google)",
    request: { query: CalendarsQuery },
    responses: {
      200: jsonResponse(
        z.object({ items: z.array(CalendarSchema), failures: z.array(Anything).optional() }),
        "The calendars.",
      ),
      ...errorResponses(400, 401),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/user/export",
    tags: account,
    security: SIGNED_IN,
    summary: "Download settings, connections (no tokens) and rules as JSON",
    responses: { 200: jsonResponse(Anything, "The export document."), ...errorResponses(401) },
  });
  registry.registerPath({
    method: "post",
    path: "/user/import",
    tags: account,
    security: SIGNED_IN,
    summary: "Apply an export document",
    request: { body: { content: { "application/json": { schema: Anything } } } },
    responses: {
      200: jsonResponse(Anything, "What was imported."),
      ...errorResponses(400, 401, 422),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/webhooks/google",
    tags: ["Push"],
    summary: "Google Calendar push notifications (Google calls this, not clients)",
    description: "Authenticated by the channel's token; a notification only queues a sync.",
    request: { headers: NotificationHeaders },
    responses: {
      204: { description: "Taken (ignored ones too: an error only makes Google retry)." },
      400: { description: "Not a Google push notification." },
      403: { description: "The channel token does not match." },
    },
  });

  const reference = ["Reference"];
  registry.registerPath({
    method: "get",
    path: "/openapi.json",
    tags: reference,
    summary: "This document (OpenAPI 3.1)",
    responses: { 200: jsonResponse(Anything, "The document.") },
  });
  registry.registerPath({
    method: "get",
    path: "/docs",
    tags: reference,
    summary: "The interactive reference (HTML)",
    responses: { 200: { description: "An HTML page." } },
  });
  registry.registerPath({
    method: "get",
    path: "/docs/{file}",
    tags: reference,
    summary: "The reference's own files (Swagger UI, served by this app)",
    request: {
      params: z.object({
        file: z.enum(["init.js", "swagger-ui.css", "swagger-ui-bundle.js"]).openapi({
          param: { name: "file", in: "path" },
        }),
      }),
    },
    responses: {
      200: { description: "JavaScript or CSS." },
      404: { description: "No such file." },
    },
  });
}
