/**
 * "This and following events" as Google's web UI does it (notes §10): the old series ends with an
 * UNTIL before the split instance, and a new series with the id `{oldId}_R{start}` carries on
 * from it. Exceptions of the old series at or after the split vanish without tombstones, like
 * those of a whole-series time change (a guess: Google documents no deletions for them).
 */
import { normalizeEvent, parseEventInput } from "./event_input.ts";
import type { StoredEvent } from "./event_resource.ts";
import { contextOf, patchedBody, replaceEvent, storeNewEvent } from "./event_writes.ts";
import { badRequest, duplicate, notFound } from "./google_errors.ts";
import { findGeneratedInstance } from "./instances.ts";
import {
  hasInstanceAt,
  instanceId,
  parseInstanceId,
  type Series,
  splitRecurrence,
} from "./recurrence.ts";
import type { CalendarRecord, EmulatorState } from "./state.ts";
import {
  compactDate,
  compactUtc,
  instantToFloating,
  parseDate,
  parseDateTime,
} from "./time_zones.ts";

export interface SplitRequest {
  /** Original start of the first instance of the new series: RFC 3339, a date for all-day. */
  at: string;
  /** Fields the new series changes, merged like a patch (`start`/`end` replace whole). */
  changes: Record<string, unknown>;
}

/** `at` as a floating value in the series zone; 400 when it is not the right kind of time. */
function floatingAt(series: Series, at: string): number {
  if (series.allDay) {
    const date = parseDate(at);
    if (date === null) throw badRequest("invalid", "An all-day series splits at a date.");
    return date;
  }
  const parsed = parseDateTime(at);
  if (!parsed || parsed.floating) {
    throw badRequest("invalid", "`at` must be an RFC 3339 time with an offset.");
  }
  return instantToFloating(parsed.ms, series.timeZone);
}

/**
 * Splits the series `seriesId` at its instance originally starting at `at` (not the first) and
 * returns the new series: the old one's fields (extendedProperties and visibility included) with
 * the instance's start and end, then `changes`. 404 for an unknown or cancelled series, 400 for a
 * non-recurring event or a time that is no later instance, 409 when the new id is taken.
 */
export function splitSeries(
  state: EmulatorState,
  calendar: CalendarRecord,
  seriesId: string,
  request: SplitRequest,
): StoredEvent {
  const master = calendar.events.get(seriesId);
  if (!master || master.resource.status === "cancelled") throw notFound();
  const series = master.series;
  if (!series) throw badRequest("invalid", "Only a recurring event can be split.");
  const at = floatingAt(series, request.at);
  if (at <= series.firstStart || !hasInstanceAt(series, at)) {
    throw badRequest("invalid", "The series has no later instance starting at that time.");
  }
  const { ending, following } = splitRecurrence(series, master.resource.recurrence!, at);
  const first = findGeneratedInstance(calendar, instanceId(series, seriesId, at))!;
  const input = parseEventInput(patchedBody({
    ...master.resource,
    start: first.resource.start,
    end: first.resource.end,
    recurrence: following,
  }, request.changes));
  const server = {
    id: seriesId,
    created: new Date(state.now()).toISOString(),
    creator: master.resource.creator,
    organizer: master.resource.organizer,
    iCalUID: master.resource.iCalUID,
  };
  // Validated in full before anything is written, and named after its (possibly changed) start.
  const { timing } = normalizeEvent(input, server, contextOf(state, calendar));
  const id = `${seriesId}_R${
    timing.allDay ? compactDate(timing.start) : compactUtc(timing.start).slice(0, -1)
  }`;
  if (calendar.events.has(id) || calendar.reservedIds.has(id)) throw duplicate();

  replaceEvent(state, calendar, master, { ...master.resource, recurrence: ending });
  for (const e of [...calendar.events.values()]) {
    if (e.resource.recurringEventId !== seriesId) continue;
    const original = parseInstanceId(e.resource.id, () => series.timeZone);
    if (original && original.floatingStart >= at) state.dropEvent(calendar, e.resource.id);
  }
  return storeNewEvent(state, calendar, input, { ...server, id, iCalUID: `${id}@google.com` });
}
