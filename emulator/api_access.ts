/**
 * What every Calendar API route does before its own work: count the call, meet an injected fault,
 * check the bearer token and the method's scopes (notes §7), and resolve the calendar in the path
 * as the caller may see it (notes §3). Shared by the event routes (calendar_api.ts) and the push
 * channel routes (channels_api.ts) so both answer auth and access failures identically.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { FaultInjector } from "./faults.ts";
import {
  authError,
  badRequest,
  insufficientScopes,
  notFound,
  writeAccessRequired,
} from "./google_errors.ts";
import type { OAuthServer, TokenInfo } from "./oauth.ts";
import type { RequestCounts } from "./request_counts.ts";
import { type AccessRole, type CalendarRecord, type EmulatorState, roleAtLeast } from "./state.ts";

const SCOPE = "https://www.googleapis.com/auth/";
const scopes = (...names: string[]) => names.map((n) => SCOPE + n);

/** Scopes each kind of call accepts, from the method samples in [V3] (notes §7). */
export const READ_EVENTS = scopes(
  "calendar",
  "calendar.readonly",
  "calendar.events",
  "calendar.events.readonly",
  "calendar.events.owned",
  "calendar.events.owned.readonly",
  "calendar.app.created",
);
export const WRITE_EVENTS = scopes(
  "calendar",
  "calendar.events",
  "calendar.events.owned",
  "calendar.app.created",
);
/** events.watch: the read scopes plus the two [V3]'s watch sample adds (notes §7). */
export const WATCH_EVENTS = [
  ...READ_EVENTS,
  ...scopes("calendar.events.freebusy", "calendar.events.public.readonly"),
];
/** channels.stop: any Calendar scope that can open a channel on some resource ([V3] sample). */
export const STOP_CHANNELS = scopes(
  "calendar",
  "calendar.acls",
  "calendar.acls.readonly",
  "calendar.app.created",
  "calendar.calendarlist",
  "calendar.calendarlist.readonly",
  "calendar.events",
  "calendar.events.freebusy",
  "calendar.events.owned",
  "calendar.events.owned.readonly",
  "calendar.events.public.readonly",
  "calendar.events.readonly",
  "calendar.readonly",
  "calendar.settings.readonly",
);
export const LIST_CALENDARS = scopes(
  "calendar",
  "calendar.readonly",
  "calendar.calendarlist",
  "calendar.calendarlist.readonly",
);
export const GET_CALENDAR = scopes(
  "calendar",
  "calendar.readonly",
  "calendar.calendars",
  "calendar.calendars.readonly",
  "calendar.calendarlist",
  "calendar.calendarlist.readonly",
  "calendar.app.created",
);

/** Hono env of Calendar routes: the guard puts the caller's token in `c.var.token`. */
export type ApiEnv = { Variables: { token: TokenInfo } };

export interface GuardDeps {
  oauth: OAuthServer;
  faults: FaultInjector;
  counts: RequestCounts;
}

/**
 * Returns a middleware factory: `guard(method, scopes)` counts the call as `method`, applies the
 * fault due for it, then demands a valid bearer token (401 authError) holding one of `scopes`
 * (403 insufficientPermissions), in that order. A lost-response fault lets the call run and then
 * replaces its answer, whatever it was.
 */
export function createGuard(
  { oauth, faults, counts }: GuardDeps,
): (method: string, accepted: string[]) => MiddlewareHandler<ApiEnv> {
  return (method, accepted) =>
    async function calendarGuard(c, next) {
      counts.count(method);
      const fault = await faults.apply(method);
      if (fault?.instead) return fault.instead;
      const header = c.req.header("Authorization") ?? "";
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const token = match ? oauth.verifyAccessToken(match[1]) : null;
      if (!token) throw authError();
      if (!token.scopes.some((s) => accepted.includes(s))) throw insufficientScopes(method);
      c.set("token", token);
      await next();
      if (fault?.afterCall) replaceResponse(c, fault.afterCall);
    };
}

/**
 * Puts `response` in place of the one the route produced. Hono's `c.res` setter copies the old
 * response's headers onto the new one, which could give the broken response a truthful
 * content-length, so the old one is cleared first.
 */
export function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}

/**
 * The calendar in the path as the token's user may see it: `primary` is their main calendar;
 * calendars not on their list are 404 (notes §3), and writes need writer or owner (403).
 */
export function resolveCalendar(
  state: EmulatorState,
  c: Context<ApiEnv>,
  write = false,
): { calendar: CalendarRecord; role: AccessRole } {
  const email = c.var.token.email;
  const raw = c.req.param("calendarId")!;
  const id = raw === "primary" ? state.primaryCalendarId(email) : raw;
  const calendar = id === undefined ? undefined : state.calendar(id);
  const role = id === undefined ? undefined : state.accessRole(email, id);
  // Free/busy readers see no event details; the API answers as if the calendar were unknown.
  if (!calendar || !role || role === "freeBusyReader") throw notFound();
  if (write && !roleAtLeast(role, "writer")) throw writeAccessRequired();
  return { calendar, role };
}

/** The request's JSON body; 400 parseError when it is not JSON. */
export async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw badRequest("parseError", "Parse Error");
  }
}
