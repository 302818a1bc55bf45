/**
 * The signed-in user's account, as two sub-apps: meRoutes at `/api/me` (profile, settings,
 * deletion) and userRoutes at `/api/user` (connected Google accounts and their calendars, and
 * export/import). Every lookup is scoped to the signed-in user, so another user's ids answer
 * 404 exactly like ids that never existed.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { refreshAllCalendars } from "../../lib/accounts/calendars.ts";
import { applyImport, buildExport, ImportError } from "../../lib/accounts/export_import.ts";
import {
  deleteAccount,
  disconnectConnection,
  MirrorRemovalError,
} from "../../lib/accounts/lifecycle.ts";
import { beginFlow } from "../../lib/accounts/oauth_flows.ts";
import { connectCalDav } from "../../lib/accounts/caldav_connect.ts";
import { connectIcsFeed } from "../../lib/accounts/ics_connect.ts";
import {
  FeedHttpError,
  FeedNotCalendarError,
  FeedUnreachableError,
} from "../../lib/ics/feed_errors.ts";
import { FeedUrlError } from "../../lib/ics/feed_url.ts";
import {
  CalDavAuthError,
  CalDavError,
  CalDavNotFoundError,
  CalDavUnreachableError,
} from "../../lib/caldav/dav_errors.ts";
import { OutboundRefusedError } from "../../lib/net/outbound_errors.ts";

import { isWritable, listCalendars } from "../../lib/db/calendars.ts";
import { type Connection, getConnectionEntry, listConnections } from "../../lib/db/connections.ts";
import { updateUserSettings, UserSettingsSchema } from "../../lib/db/users.ts";
import { refuseApiTokens, requireUser, userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { requireNextPath } from "../../lib/http/next_path.ts";
import { rateLimit } from "../../lib/http/rate_limit.ts";
import { clearSessionCookies, ensureBindingCookie } from "../../lib/http/session_cookies.ts";
import {
  isFormPost,
  parseFormOrJson,
  parseJsonBody,
  parseQuery,
  parseWith,
} from "../../lib/http/validate.ts";
import { idParam } from "../../lib/http/openapi.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import {
  CalDavConnectBody,
  CalendarsQuery,
  ConnectBody,
  DisconnectQuery,
  IcsConnectBody,
  RemoveMirrorsQuery,
} from "./schemas.ts";

/** userRoutes' routes (under its base) that a plain HTML form posts to: the connections page's. */
export const FORM_ROUTES = [
  "POST /calendars/connect",
  "POST /connections/:id/reconnect",
];

/** Bounded like every id in a path: an unbounded one would exceed Deno KV's key size (a 500). */
const ConnectionId = idParam("id", "The connection's id.");
/** An export of a person's settings and connections is a few KB; rules keep it far below this. */
const IMPORT_MAX_BYTES = 1024 * 1024;

/** A connection as the API shows it: never its tokens. */
function publicConnection(c: Connection) {
  return {
    id: c.id,
    kind: c.kind,
    email: c.email,
    ...(c.caldav ? { server: new URL(c.caldav.homeUrl).origin } : {}),
    // Scheme and host only: the rest of a feed's address is its secret.
    ...(c.ics ? { feed: c.ics.maskedUrl } : {}),
    status: c.status,
    ...(c.statusReason ? { statusReason: c.statusReason } : {}),
    scopes: c.scopes,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

const notFound = () => new HttpError(404, "not_found", "No such connection.");

/** The signed-in user (mounted at `/api/me`): profile, settings, deleting the account. */
export function meRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requireUser());

  app.get("/", (c) => {
    const user = userOf(c);
    return c.json({
      id: user.id,
      email: user.email,
      name: user.name,
      createdAt: user.createdAt,
      settings: user.settings,
    });
  });

  app.patch("/settings", async (c) => {
    const settings = await parseJsonBody(c, UserSettingsSchema.strict());
    const user = await updateUserSettings(deps.kv, userOf(c).id, settings);
    if (!user) throw new HttpError(401, "unauthenticated", "Sign in first.");
    return c.json(user.settings);
  });

  app.delete("/", refuseApiTokens(), async (c) => {
    const { removeMirrors } = parseQuery(c, RemoveMirrorsQuery);
    await deleteAccount(deps, userOf(c).id, { removeMirrors }).catch(mirrorRemovalFailed);
    clearSessionCookies(c, deps.secureCookies);
    return c.body(null, 204);
  });

  return app;
}

/**
 * The signed-in user's connected accounts and their calendars, export and import (mounted at
 * `/api/user`).
 */
export function userRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const startLimit = rateLimit({
    kv: deps.kv,
    now: deps.now,
    trustProxy: deps.config.trustProxy,
    bucket: "oauthStart",
  });
  app.use("*", requireUser());

  app.get("/connections", async (c) => {
    const connections = await listConnections(deps.kv, userOf(c).id);
    return c.json({ items: connections.map(publicConnection) });
  });

  /** Starts a connect flow; a script gets `{ url }`, a plain form a 303 to Google. */
  const connect = async (c: Context<AppEnv>, loginHint?: string) => {
    const { next } = await parseFormOrJson(c, ConnectBody);
    const target = requireNextPath(next, deps.config.publicUrl);
    const url = await beginFlow(deps, {
      flow: "connect",
      userId: userOf(c).id,
      next: target,
      binding: ensureBindingCookie(c, deps.secureCookies),
      loginHint,
    });
    return isFormPost(c) ? c.redirect(url, 303) : c.json({ url });
  };

  // Adding an account is session-only: one a leaked token added (the attacker's own server or
  // Google account, as a rule's target) would keep receiving titles after the token is revoked.
  app.post("/calendars/connect", refuseApiTokens(), startLimit, (c) => connect(c));

  const caldavLimit = rateLimit({
    kv: deps.kv,
    now: deps.now,
    trustProxy: deps.config.trustProxy,
    bucket: "caldavConnect",
  });
  /** Checks the password against the server before anything is stored; 201 with its calendars. */
  app.post("/connections/caldav", refuseApiTokens(), caldavLimit, async (c) => {
    const signIn = await parseJsonBody(c, CalDavConnectBody);
    const { connection, calendars } = await connectCalDav(deps, userOf(c).id, signIn)
      .catch(caldavRefused);
    return c.json({
      connection: publicConnection(connection),
      calendars: calendars.map((cal) => ({ ...cal, writable: isWritable(cal.accessRole) })),
    }, 201);
  });

  /** Fetches the feed once before anything is stored; 201 with its one calendar. */
  app.post("/connections/ics", refuseApiTokens(), caldavLimit, async (c) => {
    const add = await parseJsonBody(c, IcsConnectBody);
    const { connection, calendars } = await connectIcsFeed(deps, userOf(c).id, add)
      .catch(feedRefused);
    return c.json({
      connection: publicConnection(connection),
      calendars: calendars.map((cal) => ({ ...cal, writable: false })),
    }, 201);
  });

  app.post("/connections/:id/reconnect", refuseApiTokens(), startLimit, async (c) => {
    const { id } = parseWith(ConnectionId, c.req.param());
    const entry = await getConnectionEntry(deps.kv, userOf(c).id, id);
    if (!entry) throw notFound();
    // The hint pre-selects the account, so the person reconnects the same one.
    return await connect(c, entry.connection.email);
  });

  app.delete("/connections/:id", async (c) => {
    const options = parseQuery(c, DisconnectQuery);
    const { id } = parseWith(ConnectionId, c.req.param());
    const removed = await disconnectConnection(deps, userOf(c).id, id, options)
      .catch(mirrorRemovalFailed);
    if (!removed) throw notFound();
    return c.json(removed);
  });

  app.get("/calendars", async (c) => {
    const userId = userOf(c).id;
    const { refresh } = parseQuery(c, CalendarsQuery);
    const failures = refresh ? await refreshAllCalendars(deps, userId) : undefined;
    const emails = new Map(
      (await listConnections(deps.kv, userId)).map((conn) => [conn.id, conn.email]),
    );
    const items = (await listCalendars(deps.kv, userId))
      .filter((cal) => emails.has(cal.connectionId))
      .map((cal) => ({
        connectionId: cal.connectionId,
        accountEmail: emails.get(cal.connectionId)!,
        calendarId: cal.id,
        summary: cal.summary,
        primary: cal.primary,
        accessRole: cal.accessRole,
        timeZone: cal.timeZone,
        ...(cal.color ? { color: cal.color } : {}),
        // Calendars busysync cannot write are offered only as sources.
        writable: isWritable(cal.accessRole),
      }));
    return c.json(failures ? { items, failures } : { items });
  });

  app.get("/export", async (c) => {
    const doc = await buildExport(deps, userOf(c).id);
    const day = deps.now().toISOString().slice(0, 10);
    c.header("Content-Disposition", `attachment; filename="busysync-export-${day}.json"`);
    return c.json(doc);
  });

  app.post(
    "/import",
    bodyLimit({
      maxSize: IMPORT_MAX_BYTES,
      onError: () => {
        throw new HttpError(413, "too_large", "An export is at most 1 MB.");
      },
    }),
    async (c) => {
      const doc = await parseJsonBody(c, z.unknown());
      try {
        return c.json(await applyImport(deps, userOf(c).id, doc));
      } catch (err) {
        if (!(err instanceof ImportError)) throw err;
        const status = err.kind === "too_new" ? 422 : 400;
        throw new HttpError(status, `import_${err.kind}`, err.message, err.fields);
      }
    },
  );

  return app;
}

/** A failed mirror removal is Google's failure (502), with the way out in the message. */
/** A CalDAV connect the server or busysync's outbound rules refused, in the person's words. */
function caldavRefused(err: unknown): never {
  if (err instanceof CalDavAuthError) throw new HttpError(422, "caldav_auth", err.message);
  if (err instanceof CalDavNotFoundError) throw new HttpError(422, "not_caldav", err.message);
  if (err instanceof CalDavUnreachableError) {
    throw new HttpError(422, "caldav_unreachable", err.message);
  }
  if (err instanceof OutboundRefusedError) throw new HttpError(422, "address_refused", err.message);
  if (err instanceof CalDavError) throw new HttpError(502, "caldav_error", err.message);
  throw err;
}

/**
 * A feed that could not be added, in the person's words (each names the host only), under the
 * address field: every one of them is about the address.
 */
function feedRefused(err: unknown): never {
  const code = err instanceof FeedUrlError
    ? "invalid_feed_url"
    : err instanceof OutboundRefusedError
    ? "address_refused"
    : err instanceof FeedUnreachableError
    ? "feed_unreachable"
    : err instanceof FeedHttpError
    ? "feed_refused"
    : err instanceof FeedNotCalendarError
    ? "not_a_feed"
    : undefined;
  if (!code) throw err;
  const message = (err as Error).message;
  throw new HttpError(422, code, message, { url: message });
}

function mirrorRemovalFailed(err: unknown): never {
  if (err instanceof MirrorRemovalError) {
    throw new HttpError(
      502,
      "mirror_removal_failed",
      `${err.message} Try again, or pass removeMirrors=false to leave them in place.`,
    );
  }
  throw err;
}
