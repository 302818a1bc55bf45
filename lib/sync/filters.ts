/**
 * The rule's filters: which live events are not mirrored, and why.
 */
import { compileSummaryRegex, type RuleFilters } from "./rule.ts";
import type { EventSpan } from "./time.ts";
import type { LiveSourceEvent, SkipReason } from "./types.ts";
import { overlapsWorkingHours } from "./working_hours.ts";

/**
 * Names the first filter that keeps `event` out, or returns undefined when every filter lets
 * it through. Checked in a fixed order, so an event failing several always reports the same
 * reason: all_day, event_type, declined, tentative, free, summary_excluded,
 * outside_working_hours.
 */
export function findSkipReason(
  event: LiveSourceEvent,
  span: EventSpan,
  filters: RuleFilters,
): SkipReason | undefined {
  if (filters.skipAllDay && span.allDay) return "all_day";
  if ((filters.skipEventTypes as string[]).includes(event.eventType ?? "default")) {
    return "event_type";
  }
  if (filters.skipDeclined && event.selfResponseStatus === "declined") return "declined";
  if (filters.skipTentative && isTentative(event)) return "tentative";
  if (filters.skipFree && event.transparency === "transparent") return "free";
  if (
    filters.excludeSummaryRegex !== undefined &&
    summaryRegex(filters.excludeSummaryRegex).test(event.summary ?? "")
  ) return "summary_excluded";
  if (filters.workingHours && !overlapsWorkingHours(span, filters.workingHours)) {
    return "outside_working_hours";
  }
  return undefined;
}

/** Not firmly busy: an invitation answered "maybe" or not yet answered, or a tentative event. */
function isTentative(event: LiveSourceEvent): boolean {
  return event.status === "tentative" || event.selfResponseStatus === "tentative" ||
    event.selfResponseStatus === "needsAction";
}

/** A listing applies one rule's pattern to thousands of events: compile it once. */
const compiled = new Map<string, RegExp>();
/** Bounds the cache across rule edits; refilling it costs one compile per pattern. */
const MAX_COMPILED = 256;

function summaryRegex(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    re = compileSummaryRegex(source);
    compiled.set(source, re);
  }
  return re;
}
