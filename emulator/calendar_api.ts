/**
 * Calendar API v3 routes (mounted at /calendar/v3): calendarList.list, calendars.get and the
 * events methods. Every call is counted, may meet an injected fault, and needs a bearer token
 * with a scope the method accepts (api_access.ts, notes §7).
 */
import { CALENDAR_COLORS, CALENDAR_FOREGROUND } from "./calendar_colors.ts";
import { type Context, Hono } from "hono";
import { z } from "zod";
import {
  type ApiEnv,
  createGuard,
  GET_CALENDAR,
  jsonBody,
  LIST_CALENDARS,
  READ_EVENTS,
  resolveCalendar,
  WRITE_EVENTS,
} from "./api_access.ts";
import { type ListedEvent, listEvents, listInstances } from "./event_reads.ts";
import { renderEvent, renderTombstone, type View } from "./event_render.ts";
import type { StoredEvent } from "./event_resource.ts";
import { deleteEvent, getEvent, insertEvent, patchEvent, updateEvent } from "./event_writes.ts";
import type { FaultInjector } from "./faults.ts";
import { fullSyncRequired, invalidParameter } from "./google_errors.ts";
import { writeInviting } from "./invitations.ts";
import type { OAuthServer } from "./oauth.ts";
import type { RequestCounts } from "./request_counts.ts";
import type { UsageLimits } from "./usage_limits.ts";
import {
  type AccessRole,
  type CalendarRecord,
  decodeToken,
  type EmulatorState,
  encodeToken,
  roleAtLeast,
} from "./state.ts";
import { isValidTimeZone, parseDateTime } from "./time_zones.ts";

export interface CalendarApiDeps {
  state: EmulatorState;
  oauth: OAuthServer;
  faults: FaultInjector;
  limits: UsageLimits;
  counts: RequestCounts;
}

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const instant = z.string().transform((v, ctx) => {
  // Google wants RFC 3339 with an offset here (notes §1).
  const parsed = parseDateTime(v);
  if (!parsed || parsed.floating) {
    ctx.addIssue({ code: "custom", message: `Invalid value '${v}'` });
    return z.NEVER;
  }
  return parsed.ms;
});
const zone = z.string().refine(isValidTimeZone, "Invalid time zone");
/** Page sizes over the maximum are lowered to it (a guess: Google does not say it refuses them). */
const pageSize = (fallback: number, max: number) =>
  z.coerce.number().int().min(1).optional().transform((v) => Math.min(v ?? fallback, max));

const EventsListParams = z.object({
  maxResults: pageSize(250, 2500),
  pageToken: z.string().optional(),
  syncToken: z.string().optional(),
  singleEvents: bool.optional().transform((v) => v ?? false),
  showDeleted: bool.optional(),
  timeMin: instant.optional(),
  timeMax: instant.optional(),
  updatedMin: instant.optional(),
  orderBy: z.enum(["startTime", "updated"]).optional(),
  q: z.string().optional(),
  iCalUID: z.string().optional(),
  privateExtendedProperty: z.array(z.string()).default([]),
  sharedExtendedProperty: z.array(z.string()).default([]),
  eventTypes: z.array(z.string()).default([]),
  timeZone: zone.optional(),
  maxAttendees: z.coerce.number().int().min(1).optional(),
});
const REPEATED = new Set(["privateExtendedProperty", "sharedExtendedProperty", "eventTypes"]);

const InstancesParams = z.object({
  maxResults: pageSize(250, 2500),
  pageToken: z.string().optional(),
  timeMin: instant.optional(),
  timeMax: instant.optional(),
  showDeleted: bool.optional().transform((v) => v ?? false),
  originalStart: z.string().optional(),
  timeZone: zone.optional(),
  maxAttendees: z.coerce.number().int().min(1).optional(),
});

const GetParams = z.object({
  timeZone: zone.optional(),
  maxAttendees: z.coerce.number().int().min(1).optional(),
});

const CalendarListParams = z.object({
  maxResults: pageSize(100, 250),
  pageToken: z.string().optional(),
  syncToken: z.string().optional(),
  minAccessRole: z.enum(["freeBusyReader", "reader", "writer", "owner"]).optional(),
  showOwnOrganizationOnly: bool.optional(),
});

/** Reads query parameters through a schema; a failure is 400 invalid naming the parameter. */
function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const raw: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(c.req.queries())) {
    raw[key] = REPEATED.has(key) ? values : values[0];
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? "query");
    throw invalidParameter(name, `Invalid value for ${name}: ${issue.message}`);
  }
  return parsed.data;
}

/** Creates the hono sub-app serving /calendar/v3. */
export function createCalendarApi(
  { state, oauth, faults, counts, limits }: CalendarApiDeps,
): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();

  const guard = createGuard({ oauth, faults, counts });
  const calendarFor = (c: Context<ApiEnv>, write = false) => resolveCalendar(state, c, write);

  const viewOf = (
    c: Context<ApiEnv>,
    calendar: CalendarRecord,
    params: { timeZone?: string; maxAttendees?: number },
  ): View => ({
    calendarId: calendar.id,
    viewerEmail: c.var.token.email,
    timeZone: params.timeZone,
    maxAttendees: params.maxAttendees,
  });

  const eventsResponse = (
    calendar: CalendarRecord,
    role: AccessRole,
    view: View,
    page: { items: ListedEvent[]; nextPageToken?: string; nextSyncToken?: string },
  ) => {
    let updated = 0;
    for (const e of calendar.events.values()) {
      updated = Math.max(updated, Date.parse(e.resource.updated));
    }
    return {
      kind: "calendar#events",
      etag: `"${state.currentSeq()}"`,
      summary: calendar.summary,
      ...(calendar.description ? { description: calendar.description } : {}),
      updated: new Date(updated || state.now()).toISOString(),
      timeZone: view.timeZone ?? calendar.timeZone,
      accessRole: role,
      defaultReminders: [],
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      ...(page.nextSyncToken ? { nextSyncToken: page.nextSyncToken } : {}),
      items: page.items.map((i) =>
        i.tombstone ? renderTombstone(i.event) : renderEvent(i.event, view)
      ),
    };
  };

  const eventResponse = (c: Context<ApiEnv>, event: StoredEvent, view: View) => {
    c.header("ETag", event.resource.etag);
    return c.json(renderEvent(event, view));
  };

  api.get("/users/me/calendarList", guard("calendarList.list", LIST_CALENDARS), (c) => {
    const params = parseQuery(c, CalendarListParams);
    const email = c.var.token.email;
    const version = state.calendarListVersion(email);
    let entries = state.calendarList(email);
    if (params.syncToken !== undefined) {
      if (params.minAccessRole || params.showOwnOrganizationOnly !== undefined) {
        throw invalidParameter("syncToken", "minAccessRole cannot be used with a syncToken.");
      }
      // The list changes rarely, so a token answers "nothing" or "everything" (a superset of
      // the changes, which an incremental client handles like any update).
      const pos = decodeToken<{ epoch: string; email: string; version: number }>(params.syncToken);
      if (!pos || pos.epoch !== state.epoch() || pos.email !== email) throw fullSyncRequired();
      if (pos.version === version) entries = [];
    } else if (params.minAccessRole) {
      entries = entries.filter((e) => roleAtLeast(e.accessRole, params.minAccessRole!));
    }
    let start = 0;
    if (params.pageToken !== undefined) {
      const pos = decodeToken<{ epoch: string; offset: number }>(params.pageToken);
      if (!pos || pos.epoch !== state.epoch() || typeof pos.offset !== "number") {
        throw invalidParameter("pageToken", "Invalid page token.");
      }
      start = pos.offset;
    }
    const page = entries.slice(start, start + params.maxResults);
    const more = start + params.maxResults < entries.length;
    return c.json({
      kind: "calendar#calendarList",
      etag: `"${version}"`,
      ...(more
        ? { nextPageToken: encodeToken({ epoch: state.epoch(), offset: start + page.length }) }
        : { nextSyncToken: encodeToken({ epoch: state.epoch(), email, version }) }),
      items: page.map(({ calendar, accessRole, primary, colorId }) => ({
        kind: "calendar#calendarListEntry",
        etag: calendar.etag,
        id: calendar.id,
        summary: calendar.summary,
        ...(calendar.description ? { description: calendar.description } : {}),
        timeZone: calendar.timeZone,
        colorId,
        backgroundColor: CALENDAR_COLORS[colorId],
        foregroundColor: CALENDAR_FOREGROUND,
        selected: true,
        accessRole,
        defaultReminders: [],
        ...(primary ? { primary: true } : {}),
      })),
    });
  });

  api.get("/calendars/:calendarId", guard("calendars.get", GET_CALENDAR), (c) => {
    const { calendar } = calendarFor(c);
    return c.json({
      kind: "calendar#calendar",
      etag: calendar.etag,
      id: calendar.id,
      summary: calendar.summary,
      ...(calendar.description ? { description: calendar.description } : {}),
      timeZone: calendar.timeZone,
    });
  });

  api.get("/calendars/:calendarId/events", guard("events.list", READ_EVENTS), (c) => {
    const { calendar, role } = calendarFor(c);
    const params = parseQuery(c, EventsListParams);
    const page = listEvents(state, calendar, params);
    return c.json(eventsResponse(calendar, role, viewOf(c, calendar, params), page));
  });

  api.post("/calendars/:calendarId/events", guard("events.insert", WRITE_EVENTS), async (c) => {
    const { calendar } = calendarFor(c, true);
    const body = await jsonBody(c);
    limits.countCreate(c.var.token.email);
    const event = writeInviting(
      state,
      calendar,
      undefined,
      () => insertEvent(state, calendar, body, { email: c.var.token.email }),
    );
    return eventResponse(c, event, viewOf(c, calendar, {}));
  });

  api.get(
    "/calendars/:calendarId/events/:eventId/instances",
    guard("events.instances", READ_EVENTS),
    (c) => {
      const { calendar, role } = calendarFor(c);
      const params = parseQuery(c, InstancesParams);
      const parent = getEvent(calendar, c.req.param("eventId"));
      const page = listInstances(state, calendar, parent, params);
      return c.json(eventsResponse(calendar, role, viewOf(c, calendar, params), page));
    },
  );

  api.get("/calendars/:calendarId/events/:eventId", guard("events.get", READ_EVENTS), (c) => {
    const { calendar } = calendarFor(c);
    const params = parseQuery(c, GetParams);
    const event = getEvent(calendar, c.req.param("eventId"));
    // If-None-Match with the current etag: 304, which the Node client counts as success (§3).
    const ifNoneMatch = c.req.header("If-None-Match");
    if (ifNoneMatch && ifNoneMatch.split(",").map((t) => t.trim()).includes(event.resource.etag)) {
      c.header("ETag", event.resource.etag);
      return c.body(null, 304);
    }
    return eventResponse(c, event, viewOf(c, calendar, params));
  });

  // events.patch merges the body into the event, events.update replaces it; both honour If-Match.
  for (
    const [method, name, write] of [
      ["patch", "events.patch", patchEvent],
      ["put", "events.update", updateEvent],
    ] as const
  ) {
    api[method](
      "/calendars/:calendarId/events/:eventId",
      guard(name, WRITE_EVENTS),
      async (c) => {
        const { calendar } = calendarFor(c, true);
        const body = await jsonBody(c);
        limits.checkWrite(c.var.token.email);
        const eventId = c.req.param("eventId");
        const event = writeInviting(
          state,
          calendar,
          eventId,
          () => write(state, calendar, eventId, body, { ifMatch: c.req.header("If-Match") }),
        );
        return eventResponse(c, event, viewOf(c, calendar, {}));
      },
    );
  }

  api.delete(
    "/calendars/:calendarId/events/:eventId",
    guard("events.delete", WRITE_EVENTS),
    (c) => {
      const { calendar } = calendarFor(c, true);
      limits.checkWrite(c.var.token.email);
      const eventId = c.req.param("eventId");
      writeInviting(
        state,
        calendar,
        eventId,
        () => deleteEvent(state, calendar, eventId, { ifMatch: c.req.header("If-Match") }),
      );
      // Success is an empty body; 204 is what the real API sends (notes "Not verified").
      return c.body(null, 204);
    },
  );

  return api;
}
