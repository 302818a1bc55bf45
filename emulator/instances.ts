/**
 * Instances of recurring events. Generated instances are never stored: they are computed from
 * the series parent whenever asked for. An instance that was edited or cancelled is stored as an
 * exception: its own event whose id is the instance id, with recurringEventId and
 * originalStartTime (notes §2), which then replaces the generated instance.
 */
import { type EventResource, formatTime, type StoredEvent, type Timing } from "./event_resource.ts";
import { expandStarts, hasInstanceAt, instanceId, parseInstanceId } from "./recurrence.ts";
import type { CalendarRecord } from "./state.ts";
import { floatingToInstant, instantToFloating } from "./time_zones.ts";

const DAY = 86_400_000;

/** The instants an event occupies: all-day dates are placed in the calendar's zone. */
export function instantRange(timing: Timing, calendarZone: string): [number, number] {
  if (!timing.allDay) return [timing.start, timing.end];
  return [
    floatingToInstant(timing.start, calendarZone),
    floatingToInstant(timing.end, calendarZone),
  ];
}

/** The generated (unedited) instance of `parent` whose original start is `floatingStart`. */
function instanceAt(
  parent: StoredEvent,
  floatingStart: number,
  calendarZone: string,
): StoredEvent {
  const series = parent.series!;
  const p = parent.resource;
  const allDay = series.allDay;
  const start = allDay ? floatingStart : floatingToInstant(floatingStart, series.timeZone);
  const end = start + (parent.timing.end - parent.timing.start);
  const { recurrence: _recurrence, ...rest } = p;
  const resource: EventResource = {
    ...rest,
    id: instanceId(series, p.id, floatingStart),
    recurringEventId: p.id,
    originalStartTime: formatTime(allDay, start, p.start.timeZone, calendarZone),
    start: formatTime(allDay, start, p.start.timeZone, calendarZone),
    end: formatTime(allDay, end, p.end.timeZone, calendarZone),
  };
  return { ...parent, series: undefined, resource, timing: { allDay, start, end } };
}

/**
 * How far past now a series is expanded when no timeMax bounds it (an incremental sync cannot send
 * one). Google stops open-ended expansions somewhere it does not document; two years is a guess.
 */
const HORIZON_MS = 2 * 366 * DAY;

/**
 * Generated instances of a series that overlap (timeMin, timeMax) in the notes §1 sense (end after
 * timeMin, start before timeMax). Without timeMax the expansion stops two years after `now`.
 */
export function expandInstances(
  parent: StoredEvent,
  calendarZone: string,
  now: number,
  window: { timeMin?: number; timeMax?: number } = {},
): StoredEvent[] {
  const series = parent.series!;
  const zone = series.allDay ? calendarZone : series.timeZone;
  const duration = parent.timing.end - parent.timing.start;
  const timeMax = window.timeMax ?? now + HORIZON_MS;
  // Rules run on floating values; a day of margin covers any zone offset, the exact test follows.
  const from = window.timeMin === undefined
    ? undefined
    : instantToFloating(window.timeMin, zone) - duration - DAY;
  const to = instantToFloating(timeMax, zone) + DAY;
  const out: StoredEvent[] = [];
  for (const start of expandStarts(series, from, to)) {
    const instance = instanceAt(parent, start, calendarZone);
    const [s, e] = instantRange(instance.timing, calendarZone);
    if (window.timeMin !== undefined && e <= window.timeMin) continue;
    if (s >= timeMax) continue;
    out.push(instance);
  }
  return out;
}

/**
 * The generated instance an instance id names, if the id's series exists in the calendar and has
 * an instance at that original start (EXDATEs excluded).
 */
export function findGeneratedInstance(
  calendar: CalendarRecord,
  eventId: string,
): StoredEvent | undefined {
  const parsed = parseInstanceId(eventId, (id) => calendar.events.get(id)?.series?.timeZone);
  if (!parsed) return undefined;
  const parent = calendar.events.get(parsed.seriesId);
  if (!parent?.series || parent.series.allDay !== parsed.allDay) return undefined;
  if (!hasInstanceAt(parent.series, parsed.floatingStart)) return undefined;
  return instanceAt(parent, parsed.floatingStart, calendar.timeZone);
}
