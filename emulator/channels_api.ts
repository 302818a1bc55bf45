/**
 * events.watch and channels.stop (notes §6), mounted at /calendar/v3 beside calendar_api.ts and
 * guarded the same way (api_access.ts). Unlike Google, which wants HTTPS with a valid
 * certificate, http:// addresses are accepted: the receivers of tests and the demo are local.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import {
  type ApiEnv,
  createGuard,
  type GuardDeps,
  jsonBody,
  resolveCalendar,
  STOP_CHANNELS,
  WATCH_EVENTS,
} from "./api_access.ts";
import { type Channel, type ChannelRegistry, resourceIdFor } from "./channels.ts";
import { badRequest } from "./google_errors.ts";
import type { PushDelivery } from "./push.ts";
import type { EmulatorState } from "./state.ts";

export interface ChannelsApiDeps extends GuardDeps {
  state: EmulatorState;
  channels: ChannelRegistry;
  push: PushDelivery;
}

/** Int64 fields arrive as decimal strings from the Node client ([V3] Schema$Channel). */
const int64 = z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(Number);

/** The Channel resource a watch request sends (notes §6). */
const WatchBody = z.object({
  id: z.string().min(1).max(64),
  type: z.enum(["web_hook", "webhook"]),
  address: z.url({ protocol: /^https?$/ }),
  token: z.string().max(256).nullish(),
  expiration: int64.nullish(),
  params: z.object({ ttl: int64.pipe(z.number().positive()).optional() }).loose().nullish(),
});

const StopBody = z.object({ id: z.string().min(1), resourceId: z.string().min(1) });

/**
 * The list-style parameters events.watch takes ([V3] Params$Resource$Events$Watch). They only
 * name the watched resource here: notifications are not filtered by them (a guess; the notes say
 * nothing about filtering).
 */
const WATCH_QUERY = new Set([
  "alwaysIncludeEmail",
  "eventTypes",
  "iCalUID",
  "maxAttendees",
  "maxResults",
  "orderBy",
  "pageToken",
  "privateExtendedProperty",
  "q",
  "sharedExtendedProperty",
  "showDeleted",
  "showHiddenInvitations",
  "singleEvents",
  "syncToken",
  "timeMax",
  "timeMin",
  "timeZone",
  "updatedMin",
]);

/** The watch's list parameters in a canonical order, so equal queries name one resource. */
function canonicalQuery(c: Context): string {
  const pairs: [string, string][] = [];
  for (const [key, values] of Object.entries(c.req.queries())) {
    if (WATCH_QUERY.has(key)) { for (const v of values) pairs.push([key, v]); }
  }
  pairs.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1);
  return new URLSearchParams(pairs).toString();
}

/** Parses a request body; a missing field is 400 required, a bad one 400 invalid. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue.path.join(".") || "body";
  const missing = issue.code === "invalid_type" && issue.input === undefined;
  throw missing
    ? badRequest("required", "Required", { type: "body", name })
    : badRequest("invalid", `Invalid value for ${name}: ${issue.message}`, { type: "body", name });
}

/** The watch response: Google's Channel resource (notes §6), expiration as an ms string. */
function renderChannel(channel: Channel) {
  return {
    kind: "api#channel",
    id: channel.id,
    resourceId: channel.resourceId,
    resourceUri: channel.resourceUri,
    ...(channel.token ? { token: channel.token } : {}),
    expiration: String(channel.expiration),
  };
}

/** Creates the hono sub-app serving events.watch and channels.stop under /calendar/v3. */
export function createChannelsApi(deps: ChannelsApiDeps): Hono<ApiEnv> {
  const { state, channels, push } = deps;
  const api = new Hono<ApiEnv>();
  const guard = createGuard(deps);

  api.post(
    "/calendars/:calendarId/events/watch",
    guard("events.watch", WATCH_EVENTS),
    async (c) => {
      const { calendar } = resolveCalendar(state, c);
      const body = parseBody(WatchBody, await jsonBody(c));
      const query = canonicalQuery(c);
      // Google's resourceUri echoes the calendar id as the caller wrote it (`primary` included) and
      // is version-specific (notes §6); here it points at the emulator's own API.
      const path = encodeURIComponent(c.req.param("calendarId")).replace(/%40/g, "@");
      const channel = channels.open({
        id: body.id,
        resourceId: await resourceIdFor(calendar.id, query),
        resourceUri: `${new URL(c.req.url).origin}/calendar/v3/calendars/${path}/events?alt=json` +
          (query ? `&${query}` : ""),
        calendarId: calendar.id,
        email: c.var.token.email,
        clientId: c.var.token.clientId,
        address: body.address,
        token: body.token ?? undefined,
        expiration: body.expiration ?? undefined,
        ttlSeconds: body.params?.ttl,
      });
      // The sync message may reach the receiver before this response does, as at Google (§6).
      push.announce(channel);
      return c.json(renderChannel(channel));
    },
  );

  api.post("/channels/stop", guard("channels.stop", STOP_CHANNELS), async (c) => {
    const { id, resourceId } = parseBody(StopBody, await jsonBody(c));
    channels.stop(id, resourceId, c.var.token);
    return c.body(null, 204);
  });

  return api;
}
