/**
 * What a client may send as an event (zod) and how it becomes the stored resource Google would
 * return (notes §2): validation, server-owned fields, extended-property limits, merge patches.
 */
import { z } from "zod";
import {
  type Attendee,
  EVENT_TYPES,
  type EventResource,
  type EventTime,
  type EventType,
  type ExtendedProperties,
  formatTime,
  type Person,
  type Timing,
} from "./event_resource.ts";
import { badRequest } from "./google_errors.ts";
import { parseSeries, type Series } from "./recurrence.ts";
import {
  floatingToInstant,
  instantToFloating,
  isValidTimeZone,
  parseDate,
  parseDateTime,
} from "./time_zones.ts";

/** Types that exist only on primary calendars (notes §2, [TYPES]). */
const PRIMARY_ONLY_TYPES: readonly EventType[] = ["focusTime", "outOfOffice", "workingLocation"];
/** Status events that decline conflicting invitations (`autoDeclineMode`): always busy. */
const BUSY_STATUS_TYPES: readonly EventType[] = ["focusTime", "outOfOffice"];

const EventTimeInput = z.looseObject({
  date: z.string().nullish(),
  dateTime: z.string().nullish(),
  timeZone: z.string().nullish(),
});

const PropertyMap = z.record(z.string(), z.string().nullable());

/** What a client may send for insert/update (and what a merged patch must satisfy). */
const EventInput = z.looseObject({
  id: z.string().nullish(),
  status: z.enum(["confirmed", "tentative", "cancelled"]).nullish(),
  summary: z.string().nullish(),
  description: z.string().nullish(),
  location: z.string().nullish(),
  start: EventTimeInput.nullish(),
  end: EventTimeInput.nullish(),
  recurrence: z.array(z.string()).nullish(),
  transparency: z.enum(["opaque", "transparent"]).nullish(),
  visibility: z.enum(["default", "public", "private", "confidential"]).nullish(),
  eventType: z.enum(EVENT_TYPES).nullish(),
  iCalUID: z.string().nullish(),
  attendees: z.array(z.looseObject({
    email: z.string().nullish(),
    displayName: z.string().nullish(),
    responseStatus: z.enum(["needsAction", "declined", "tentative", "accepted"]).nullish(),
    optional: z.boolean().nullish(),
  })).nullish(),
  extendedProperties: z.object({
    private: PropertyMap.nullish(),
    shared: PropertyMap.nullish(),
  }).nullish(),
  creator: z.looseObject({ email: z.string(), displayName: z.string().nullish() }).nullish(),
  organizer: z.looseObject({ email: z.string(), displayName: z.string().nullish() }).nullish(),
  reminders: z.unknown().optional(),
});
type Input = z.infer<typeof EventInput>;

/**
 * Fields not copied verbatim into the stored event: the server owns some (notes §2: read-only,
 * e.g. `updated`, `sequence`, instance identity), the rest are validated and set explicitly below.
 * Every other field a client sends is stored and echoed as given.
 */
const NOT_PASSED_THROUGH = new Set([
  "kind",
  "etag",
  "htmlLink",
  "created",
  "updated",
  "sequence",
  "recurringEventId",
  "originalStartTime",
  "hangoutLink",
  "id",
  "creator",
  "organizer",
  "iCalUID",
  "start",
  "end",
  "recurrence",
  "transparency",
  "visibility",
  "attendees",
  "extendedProperties",
  "status",
  "eventType",
  "reminders",
]);

/** Parses a request body as an event; a 400 `invalid` names the first bad field. */
export function parseEventInput(body: unknown): Input {
  const parsed = EventInput.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest("invalid", `Invalid value for: ${issue.path.join(".") || "body"}`);
  }
  return parsed.data;
}

const BASE32HEX = /^[a-v0-9]{5,1024}$/;

/** Google's rule for client-chosen ids: base32hex (a-v, 0-9), 5 to 1024 characters (notes §2). */
export function isValidEventId(id: string): boolean {
  return BASE32HEX.test(id);
}

/** A server-generated id: 26 random base32hex characters, the length Google's own ids have. */
export function newEventId(): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuv";
  const bytes = crypto.getRandomValues(new Uint8Array(26));
  return Array.from(bytes, (b) => alphabet[b & 31]).join("");
}

/** RFC 7386 merge patch: objects merge recursively, `null` deletes a key, arrays are replaced. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? { ...target as Record<string, unknown> }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

const MAX_KEY_LENGTH = 44;
const MAX_VALUE_LENGTH = 1024;
const MAX_PROPERTIES = 300;
const MAX_TOTAL_BYTES = 32 * 1024;

/**
 * Applies Google's extended-property limits ([EXT], notes §2): keys over 44 characters are
 * silently dropped, values over 1024 characters silently truncated, and more than 300 properties
 * or 32 kB in total is a 400. Null values (left by a patch) are removed.
 */
function limitExtendedProperties(
  input: Input["extendedProperties"],
): ExtendedProperties | undefined {
  if (!input) return undefined;
  const out: ExtendedProperties = {};
  let count = 0;
  let bytes = 0;
  const encoder = new TextEncoder();
  for (const kind of ["private", "shared"] as const) {
    const map = input[kind];
    if (!map) continue;
    const kept: Record<string, string> = {};
    for (const [key, value] of Object.entries(map)) {
      if (value === null || key.length > MAX_KEY_LENGTH) continue;
      const v = value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value;
      kept[key] = v;
      count++;
      bytes += encoder.encode(key).length + encoder.encode(v).length;
    }
    out[kind] = kept;
  }
  if (count > MAX_PROPERTIES || bytes > MAX_TOTAL_BYTES) {
    throw badRequest(
      "invalid",
      "The event has too many extended properties or they are too large.",
    );
  }
  return out;
}

interface ParsedTime {
  allDay: boolean;
  /** Instant (timed) or floating midnight (all-day). */
  at: number;
  timeZone?: string;
}

function parseTime(t: Input["start"], which: "start" | "end"): ParsedTime {
  if (!t || (!t.date && !t.dateTime)) throw badRequest("required", `Missing ${which} time.`);
  if (t.date && t.dateTime) throw badRequest("invalid", `Invalid ${which} time.`);
  const timeZone = t.timeZone ?? undefined;
  if (timeZone !== undefined && !isValidTimeZone(timeZone)) {
    throw badRequest("invalid", `Invalid time zone definition for ${which} time.`);
  }
  if (t.date) {
    const at = parseDate(t.date);
    if (at === null) throw badRequest("invalid", `Invalid ${which} time.`);
    return { allDay: true, at, timeZone };
  }
  const parsed = parseDateTime(t.dateTime!);
  if (!parsed) throw badRequest("invalid", `Invalid ${which} time.`);
  if (!parsed.floating) return { allDay: false, at: parsed.ms, timeZone };
  // A dateTime without an offset is a wall-clock time in its timeZone, which is then required.
  if (!timeZone) throw badRequest("required", `Missing time zone definition for ${which} time.`);
  return { allDay: false, at: floatingToInstant(parsed.ms, timeZone), timeZone };
}

export interface CalendarContext {
  id: string;
  timeZone: string;
  primary: boolean;
}

/** What the server decides about an event, merged over the client's fields. */
export interface ServerFields {
  id: string;
  created: string;
  creator: Person;
  organizer: Person;
  iCalUID: string;
  recurringEventId?: string;
  originalStartTime?: EventTime;
}

/**
 * Validates a client's event and produces the resource to store (etag, updated and sequence are
 * filled in by the write) with its timing and, for a series, its parsed recurrence. Throws a 400
 * GoogleApiError for anything Google rejects. `previousType` enforces that eventType never
 * changes ([TYPES]).
 */
export function normalizeEvent(
  input: Input,
  server: ServerFields,
  calendar: CalendarContext,
  previousType?: EventType,
): { resource: EventResource; timing: Timing; series?: Series } {
  const start = parseTime(input.start, "start");
  const end = parseTime(input.end, "end");
  if (start.allDay !== end.allDay) {
    throw badRequest(
      "invalid",
      "Start and end times must either both be date or both be dateTime.",
    );
  }
  if (end.at < start.at) throw badRequest("timeRangeEmpty", "The specified time range is empty.");

  const eventType = input.eventType ?? previousType ?? "default";
  if (previousType !== undefined && eventType !== previousType) {
    throw badRequest("invalid", "The event type cannot be changed.");
  }
  if (previousType === undefined && eventType === "fromGmail") {
    throw badRequest("invalid", "Events of type fromGmail cannot be created.");
  }
  if (PRIMARY_ONLY_TYPES.includes(eventType) && !calendar.primary) {
    throw badRequest("invalid", `Events of type ${eventType} exist only on primary calendars.`);
  }
  // The calendar-status guide (developers.google.com/calendar/api/guides/calendar-status):
  // both are created opaque and timed, never all-day; they are how a person blocks time.
  if (BUSY_STATUS_TYPES.includes(eventType)) {
    if (start.allDay) throw badRequest("invalid", `A ${eventType} event cannot be all-day.`);
    if (input.transparency === "transparent") {
      throw badRequest("invalid", `A ${eventType} event must be opaque (busy).`);
    }
  }
  const recurrence = input.recurrence?.length ? input.recurrence : undefined;
  if (
    eventType === "birthday" &&
    (!start.allDay || !recurrence?.some((l) => /^RRULE:FREQ=YEARLY/i.test(l)))
  ) {
    throw badRequest("invalid", "A birthday event must be an all-day yearly event.");
  }

  let series: Series | undefined;
  if (recurrence) {
    if (server.recurringEventId) {
      throw badRequest("invalid", "An instance of a recurring event cannot recur itself.");
    }
    // Google requires start.timeZone for recurring timed events: it is the expansion zone (§2).
    if (!start.allDay && !start.timeZone) {
      throw badRequest("required", "Missing time zone definition for start time.");
    }
    const zone = start.timeZone ?? calendar.timeZone;
    series = parseSeries(recurrence, {
      allDay: start.allDay,
      timeZone: zone,
      firstStart: start.allDay ? start.at : instantToFloating(start.at, zone),
    });
  }

  const organizer = server.organizer;
  const attendees = input.attendees?.map((a) => {
    if (!a.email) throw badRequest("required", "Missing attendee email.");
    const { self: _self, organizer: _organizer, ...rest } = a;
    const attendee: Attendee = {
      ...stripNulls(rest),
      email: a.email,
      responseStatus: a.responseStatus ?? "needsAction",
    };
    if (a.email.toLowerCase() === organizer.email.toLowerCase()) attendee.organizer = true;
    return attendee;
  });

  const passThrough = Object.fromEntries(
    Object.entries(input).filter(([k, v]) => v !== null && !NOT_PASSED_THROUGH.has(k)),
  );

  const extendedProperties = limitExtendedProperties(input.extendedProperties);
  const resource: EventResource = {
    ...passThrough,
    kind: "calendar#event",
    etag: "",
    id: server.id,
    status: input.status ?? "confirmed",
    htmlLink: `https://www.google.com/calendar/event?eid=${
      btoa(`${server.id} ${calendar.id}`).replace(/=+$/, "")
    }`,
    created: server.created,
    updated: server.created,
    creator: server.creator,
    organizer,
    start: formatTime(start.allDay, start.at, start.timeZone, calendar.timeZone),
    end: formatTime(end.allDay, end.at, end.timeZone, calendar.timeZone),
    ...(recurrence ? { recurrence } : {}),
    ...(server.recurringEventId
      ? { recurringEventId: server.recurringEventId, originalStartTime: server.originalStartTime }
      : {}),
    // Google leaves default values out of responses; clients must read absence as the default.
    ...(input.transparency === "transparent" ? { transparency: "transparent" as const } : {}),
    ...(input.visibility && input.visibility !== "default" ? { visibility: input.visibility } : {}),
    iCalUID: server.iCalUID,
    sequence: 0,
    ...(attendees?.length ? { attendees } : {}),
    ...(extendedProperties ? { extendedProperties } : {}),
    reminders: input.reminders ?? { useDefault: true },
    eventType,
  };
  return { resource, timing: { allDay: start.allDay, start: start.at, end: end.at }, series };
}

function stripNulls<T extends Record<string, unknown>>(obj: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== undefined));
}
