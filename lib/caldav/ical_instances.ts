/**
 * What vanished from a resource between two readings. CalDAV reports a changed series as the
 * whole new object, so an instance removed by a new EXDATE, a CANCELLED override or a shorter
 * RRULE is never named; the provider keeps the ids each resource gave and diffs (caldav.md §5).
 */
import type { CancelledSourceEvent } from "../model/events.ts";
import type { CalendarObject } from "./ical_events.ts";

export interface InstanceDiff {
  /** The ids seen before and no longer there, as cancelled events the engine understands. */
  gone: CancelledSourceEvent[];
  /** The ids to keep for the next diff of this resource. */
  remember: string[];
}

/**
 * Diffs the ids a resource gave before (`previous`) against its new reading. An unreadable
 * reading removes nothing and the previous ids stay remembered; an instance the reading names
 * in a problem is not gone either (it is still there, only unreadable). `undefined` stands for
 * a deleted resource (a 404 in sync-collection): everything seen before is gone. A gone
 * instance of a series keeps `recurringEventId` = the resource key, so the engine also removes
 * the mirrors of a series it had planned as one.
 */
export function diffInstances(
  resourceKey: string,
  previous: Iterable<string>,
  now: CalendarObject | undefined,
): InstanceDiff {
  const before = [...new Set(previous)];
  if (now && !now.readable) return { gone: [], remember: before };
  const present = new Set<string>();
  for (const e of now?.events ?? []) present.add(e.id);
  const troubled = new Set(before.filter((id) => now?.problems.some((p) => p.id === id)));
  const gone = before
    .filter((id) => !present.has(id) && !troubled.has(id))
    .map((id): CancelledSourceEvent =>
      id === resourceKey
        ? { id, status: "cancelled" }
        : { id, status: "cancelled", recurringEventId: resourceKey }
    );
  return { gone, remember: [...present, ...troubled] };
}
