/**
 * Placing events on the timeline: the sync window and an event's span. Instants are epoch
 * milliseconds; zone arithmetic uses the built-in Temporal API (stable in Deno 2.9), whose
 * zone rules come from the same ICU data as Intl, so DST is handled without a library.
 */
import type { RuleWindow } from "./rule.ts";
import type { DateTime, EventTime, LiveSourceEvent } from "./events.ts";

const DAY_MS = 86_400_000;

/** A half-open interval of instants, [start, end). */
export interface TimeWindow {
  start: Date;
  end: Date;
}

/**
 * The window a rule mirrors: [now - daysBack × 24 h, now + daysAhead × 24 h). Whole 24-hour
 * days, not calendar days, so the window does not depend on anyone's time zone.
 */
export function computeWindow(now: Date, days: RuleWindow): TimeWindow {
  return {
    start: new Date(now.getTime() - days.daysBack * DAY_MS),
    end: new Date(now.getTime() + days.daysAhead * DAY_MS),
  };
}

/**
 * The smallest window holding all of `windows`: what a listing of a source read by several
 * rules asks Google for (each rule then keeps only its own window). Throws on an empty list.
 */
export function spanWindows(windows: readonly TimeWindow[]): TimeWindow {
  if (windows.length === 0) throw new RangeError("spanWindows needs at least one window");
  return {
    start: new Date(Math.min(...windows.map((w) => w.start.getTime()))),
    end: new Date(Math.max(...windows.map((w) => w.end.getTime()))),
  };
}

/**
 * Where an event sits: instants for both kinds; an all-day event also keeps its dates (end
 * exclusive), placed on the timeline in the zone given to readEventSpan.
 */
export type EventSpan =
  | { allDay: false; start: number; end: number }
  | { allDay: true; start: number; end: number; startDate: string; endDate: string };

/**
 * Reads an event's span. All-day dates become instants at the start of those days in
 * `allDayZone` (the source calendar's zone: where Google itself places them when listing).
 * Returns undefined when the times cannot be read (malformed, or one all-day and one timed).
 */
export function readEventSpan(event: LiveSourceEvent, allDayZone: string): EventSpan | undefined {
  try {
    const { start, end } = event;
    if ("date" in start && "date" in end) {
      return {
        allDay: true,
        start: startOfDay(start.date, allDayZone),
        end: startOfDay(end.date, allDayZone),
        startDate: start.date,
        endDate: end.date,
      };
    }
    if (isTimed(start) && isTimed(end)) {
      return { allDay: false, start: parseInstant(start), end: parseInstant(end) };
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
  return undefined;
}

function isTimed(t: EventTime): t is DateTime {
  return "dateTime" in t;
}

function startOfDay(date: string, zone: string): number {
  return Temporal.PlainDate.from(date).toZonedDateTime(zone).epochMilliseconds;
}

/**
 * RFC 3339 as Google writes it (seconds, optional milliseconds, Z or ±hh:mm), which is also
 * ECMAScript's date-time string format, so Date.parse reads it exactly, at a fifth of the cost
 * of Temporal.Instant.from (a full reconcile reads every listed event's times). Date.parse is
 * laxer than Temporal in two ways, both sent on to Temporal to be refused as before: 24:00
 * (excluded here) and a day past the month's end (2026-02-30 becomes March 2; checked below).
 */
const ECMA_DATE_TIME =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{3})?(Z|[+-]\d\d:\d\d)$/;

/** Google always sends an offset; a bare local time is read in its `timeZone`, as Google would. */
function parseInstant(t: DateTime): number {
  const parts = ECMA_DATE_TIME.exec(t.dateTime);
  if (parts) {
    const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
    // Day 0 of the next month is the last day of this one.
    if (day <= new Date(Date.UTC(year, month, 0)).getUTCDate()) return Date.parse(t.dateTime);
  }
  if (/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(t.dateTime)) {
    return Temporal.Instant.from(t.dateTime).epochMilliseconds;
  }
  if (!t.timeZone) throw new RangeError(`no offset and no zone: ${t.dateTime}`);
  return Temporal.PlainDateTime.from(t.dateTime).toZonedDateTime(t.timeZone).epochMilliseconds;
}

/**
 * Whether a span overlaps a window with Google's `events.list` semantics: `timeMin` is an
 * exclusive bound on the event's end and `timeMax` an exclusive bound on its start, so an event
 * ending exactly at the window's start, or starting exactly at its end, is outside.
 */
export function overlapsWindow(span: { start: number; end: number }, window: TimeWindow): boolean {
  return span.end > window.start.getTime() && span.start < window.end.getTime();
}
