/**
 * Google's Event resource to and from the provider-neutral shapes of lib/model/events.ts. Reading
 * is lenient: a field that is missing or malformed is dropped, not fatal, so one odd event in a
 * calendar never stops a sync. Only an event that cannot be identified (no id, unknown status)
 * or placed at all (a live event without start or end) comes back as unreadable.
 */
import type { calendar_v3 } from "@googleapis/calendar";
import { z } from "zod";
import type { MarkedEvent, UnreadableEvent } from "../sync/provider.ts";
import type { Attendee, EventTime, Mirror, ResponseStatus, SourceEvent } from "../model/events.ts";

/** A field that is kept when it parses and dropped otherwise; Google's JSON may say `null`. */
function lenient<T extends z.ZodType>(schema: T) {
  return schema.nullish().catch(undefined).transform((v) => v ?? undefined);
}

const GoogleTime = z.object({
  date: lenient(z.string()),
  dateTime: lenient(z.string()),
  timeZone: lenient(z.string()),
});

const RESPONSES = ["needsAction", "declined", "tentative", "accepted"] as const;
const VISIBILITIES = ["default", "public", "private", "confidential"] as const;

/**
 * The parts of `calendar_v3.Schema$Event` busysync reads. Only `id` is required; everything
 * else is optional and forgiving. Strings have no length limit: a huge description is still an
 * event (what a mirror copies of it is the core's decision).
 */
const GoogleEvent = z.object({
  id: z.string().min(1),
  status: lenient(z.string()),
  summary: lenient(z.string()),
  description: lenient(z.string()),
  location: lenient(z.string()),
  start: lenient(GoogleTime),
  end: lenient(GoogleTime),
  recurringEventId: lenient(z.string()),
  originalStartTime: lenient(GoogleTime),
  transparency: lenient(z.enum(["opaque", "transparent"])),
  visibility: lenient(z.enum(VISIBILITIES)),
  eventType: lenient(z.string()),
  updated: lenient(z.string()),
  attendees: lenient(z.array(z.unknown())),
  iCalUID: lenient(z.string().min(1)),
  organizer: lenient(z.object({ email: lenient(z.string().min(1)) })),
  extendedProperties: lenient(z.object({ private: lenient(z.record(z.string(), z.unknown())) })),
});

/**
 * GoogleEvent for the common case, every field absent or of its type: the same fields and
 * checks, without a catch and a transform per field, which made parsing every listed event a
 * tenth of a full reconcile's CPU. Its output is what GoogleEvent gives for such an item; an
 * item it refuses (a null, a malformed field) is parsed again by GoogleEvent, which drops the
 * bad field instead of the event.
 */
const GoogleTimeTyped = z.object({
  date: z.string().optional(),
  dateTime: z.string().optional(),
  timeZone: z.string().optional(),
});
const GoogleEventTyped = z.object({
  id: z.string().min(1),
  status: z.string().optional(),
  summary: z.string().optional(),
  description: z.string().optional(),
  location: z.string().optional(),
  start: GoogleTimeTyped.optional(),
  end: GoogleTimeTyped.optional(),
  recurringEventId: z.string().optional(),
  originalStartTime: GoogleTimeTyped.optional(),
  transparency: z.enum(["opaque", "transparent"]).optional(),
  visibility: z.enum(VISIBILITIES).optional(),
  eventType: z.string().optional(),
  updated: z.string().optional(),
  attendees: z.array(z.unknown()).optional(),
  iCalUID: z.string().min(1).optional(),
  organizer: z.object({ email: z.string().min(1).optional() }).optional(),
  extendedProperties: z.object({ private: z.record(z.string(), z.unknown()).optional() })
    .optional(),
});
/** What both schemas give: GoogleEvent's output fits it. */
type ReadEvent = z.output<typeof GoogleEventTyped>;

const SelfAttendee = z.object({
  self: z.literal(true),
  responseStatus: z.enum(RESPONSES),
});

/** A guest entry busysync can use: an address and an answer (Google's default is needsAction). */
const GuestEntry = z.object({
  email: z.string().min(1),
  responseStatus: z.enum(RESPONSES).catch("needsAction"),
});

export type ReadResult =
  | { ok: true; event: SourceEvent }
  | { ok: false; unreadable: UnreadableEvent };

/**
 * Reads one item of an events.list response. Cancelled events keep only what Google guarantees
 * for them: id, and for a cancelled instance recurringEventId and originalStartTime (notes §1).
 * A live event's times are copied as Google wrote them; whether they make sense (a parseable
 * date, a known zone) is for the core to judge, which skips them as `unreadable_time`.
 */
export function readGoogleEvent(raw: unknown): ReadResult {
  const typed = GoogleEventTyped.safeParse(raw);
  const parsed: { success: true; data: ReadEvent } | { success: false } = typed.success
    ? typed
    : GoogleEvent.safeParse(raw);
  if (!parsed.success) {
    const id = (raw as { id?: unknown } | null)?.id;
    return fail(typeof id === "string" ? id : undefined, "the event has no id");
  }
  const e = parsed.data;
  const base = {
    id: e.id,
    recurringEventId: e.recurringEventId,
    originalStartTime: e.originalStartTime && readTime(e.originalStartTime),
    privateProps: readProps(e.extendedProperties?.private),
    updated: e.updated,
  };
  // Google's default status is confirmed (notes §2), so an absent one is read as such.
  const status = e.status ?? "confirmed";
  if (status === "cancelled") return { ok: true, event: compact({ ...base, status }) };
  if (status !== "confirmed" && status !== "tentative") {
    return fail(e.id, `unknown status "${status}"`);
  }
  const start = e.start && readTime(e.start);
  const end = e.end && readTime(e.end);
  if (!start || !end) return fail(e.id, "a live event without start or end");
  return {
    ok: true,
    event: compact({
      ...base,
      status,
      start,
      end,
      summary: e.summary,
      description: e.description,
      location: e.location,
      transparency: e.transparency,
      visibility: e.visibility,
      eventType: e.eventType,
      selfResponseStatus: selfResponse(e.attendees),
      iCalUID: e.iCalUID,
      organizerEmail: e.organizer?.email,
      attendees: guests(e.attendees),
    }),
  };
}

function fail(id: string | undefined, problem: string): ReadResult {
  return { ok: false, unreadable: id === undefined ? { problem } : { id, problem } };
}

/** Leaves out keys whose value is undefined, so a read event holds only what Google sent. */
function compact<T extends object>(o: T): T {
  // A loop, not Object.fromEntries(entries.filter(...)): this runs for every listed event.
  const out: Record<string, unknown> = {};
  for (const key in o) if (o[key] !== undefined) out[key] = o[key];
  return out as T;
}

/**
 * A dateTime wins over a date if a hostile payload sends both. A zone that is not a known IANA
 * name is dropped when the dateTime carries its own offset (the instant is intact, and a mirror
 * carrying the bad zone would be refused by Google); without an offset it is kept, and the core
 * finds the time unreadable.
 */
function readTime(t: z.output<typeof GoogleTimeTyped>): EventTime | undefined {
  if (t.dateTime !== undefined) {
    const keepZone = t.timeZone !== undefined &&
      (isKnownZone(t.timeZone) || !/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(t.dateTime));
    return keepZone ? { dateTime: t.dateTime, timeZone: t.timeZone } : { dateTime: t.dateTime };
  }
  return t.date !== undefined ? { date: t.date } : undefined;
}

function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** String values only: Google's private properties are a string map [EXT]. */
function readProps(props: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!props) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (typeof v === "string") out[k] = v;
  return out;
}

/** The response of this calendar's own attendee entry (`self: true`: notes §2). */
function selfResponse(attendees: unknown[] | undefined): ResponseStatus | undefined {
  for (const a of attendees ?? []) {
    const parsed = SelfAttendee.safeParse(a);
    if (parsed.success) return parsed.data.responseStatus;
  }
  return undefined;
}

/** The guest list, leaving out entries without an address; undefined when there is none. */
function guests(attendees: unknown[] | undefined): Attendee[] | undefined {
  const out: Attendee[] = [];
  for (const a of attendees ?? []) {
    const parsed = GuestEntry.safeParse(a);
    if (parsed.success) out.push(parsed.data);
  }
  return out.length ? out : undefined;
}

/**
 * Reads an item of a marker search (events.list with privateExtendedProperty); undefined for
 * an item without an id, which cannot be acted on anyway.
 */
export function readMarkedEvent(raw: unknown): MarkedEvent | undefined {
  const read = readGoogleEvent(raw);
  if (!read.ok) return undefined;
  const e = read.event;
  return compact({
    id: e.id,
    recurringEventId: e.recurringEventId,
    privateProps: e.privateProps ?? {},
    status: e.status,
  });
}

/**
 * The body of a new mirror: exactly the mirror's fields, always busy, never ringing, with the
 * marker in the private properties; no attendees and no conference data, so Google sends no
 * invitation and creates no meeting link.
 */
export function mirrorInsertBody(m: Mirror): calendar_v3.Schema$Event {
  return compact({
    summary: m.summary,
    description: m.description,
    location: m.location,
    start: writeTime(m.start),
    end: writeTime(m.end),
    transparency: m.transparency,
    visibility: m.visibility,
    reminders: { useDefault: false, overrides: [] },
    extendedProperties: { private: m.privateProps },
    status: "confirmed",
  });
}

/**
 * The patch that makes an existing event equal `m` (and brings a cancelled one back, since the
 * status is confirmed). A patch leaves omitted fields as they were, so fields the mirror lacks
 * are sent as `null` to clear them (a rule switched from "full" to "busy" privacy must lose its
 * description), and start/end carry both forms so a timed mirror can become all-day and back.
 * Private properties merge, so marker keys are overwritten and nothing else is touched.
 */
export function mirrorPatchBody(m: Mirror): calendar_v3.Schema$Event {
  return {
    ...mirrorInsertBody(m),
    description: m.description ?? null,
    location: m.location ?? null,
    start: { date: null, dateTime: null, timeZone: null, ...writeTime(m.start) },
    end: { date: null, dateTime: null, timeZone: null, ...writeTime(m.end) },
  };
}

function writeTime(t: EventTime): calendar_v3.Schema$EventDateTime {
  if ("date" in t) return { date: t.date };
  return t.timeZone ? { dateTime: t.dateTime, timeZone: t.timeZone } : { dateTime: t.dateTime };
}
