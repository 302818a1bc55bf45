/**
 * The working-hours filter: does an event touch the user's working time?
 *
 * Working time is, for each listed weekday, the wall-clock interval [start, end) on that date in
 * the rule's zone; an end at or before the start runs into the next day (a night shift belongs
 * to the day it starts). Wall times become instants through the zone's rules on that very date,
 * so a window stays 09:00-17:00 local across DST changes. A wall time skipped by a DST jump is
 * read as the instant after the jump, an ambiguous one as the earlier instant (Temporal's
 * "compatible" choice, the same as a calendar app).
 */
import { WEEKDAYS, type WorkingHours } from "./rule.ts";
import type { EventSpan } from "./time_window.ts";

const DAY_MS = 86_400_000;

/** Any week holds every weekday's working time, so a span this long always overlaps one. */
const ALWAYS_OVERLAPS_MS = 8 * DAY_MS;

/**
 * True when the event overlaps working time. A timed event passes if any moment of it (or, for
 * a zero-length event, its instant) falls inside a working interval. An all-day event passes if
 * any of its dates is a working weekday: its dates are floating, so only the weekday can count.
 */
export function overlapsWorkingHours(span: EventSpan, hours: WorkingHours): boolean {
  const days = new Set(hours.days.map((d) => WEEKDAYS.indexOf(d) + 1)); // Temporal: Monday is 1
  if (span.allDay) {
    const first = Temporal.PlainDate.from(span.startDate);
    const count = first.until(Temporal.PlainDate.from(span.endDate)).days;
    if (count >= 7) return true;
    for (let i = 0; i < count; i++) if (days.has(first.add({ days: i }).dayOfWeek)) return true;
    return false;
  }
  if (span.end - span.start >= ALWAYS_OVERLAPS_MS) return true;
  // Start a day early: yesterday's overnight window may reach into the event.
  const first = localDate(span.start, hours.timeZone).subtract({ days: 1 });
  const last = localDate(Math.max(span.start, span.end - 1), hours.timeZone);
  for (let d = first; !earlier(last, d); d = d.add({ days: 1 })) {
    if (!days.has(d.dayOfWeek)) continue;
    const from = wallClock(d, hours.start, hours.timeZone);
    const to = hours.end === "24:00" || hours.end <= hours.start
      ? wallClock(d.add({ days: 1 }), hours.end === "24:00" ? "00:00" : hours.end, hours.timeZone)
      : wallClock(d, hours.end, hours.timeZone);
    const overlaps = span.start === span.end
      ? span.start >= from && span.start < to
      : span.start < to && span.end > from;
    if (overlaps) return true;
  }
  return false;
}

function earlier(a: Temporal.PlainDate, b: Temporal.PlainDate): boolean {
  return Temporal.PlainDate.compare(a, b) < 0;
}

function localDate(instant: number, zone: string): Temporal.PlainDate {
  return Temporal.Instant.fromEpochMilliseconds(instant).toZonedDateTimeISO(zone).toPlainDate();
}

function wallClock(date: Temporal.PlainDate, time: string, zone: string): number {
  return date.toZonedDateTime({ timeZone: zone, plainTime: Temporal.PlainTime.from(time) })
    .epochMilliseconds;
}
