/**
 * The rule's filters: which live events are not mirrored, and why.
 */
import { classifyEvent, type MirrorIdOf } from "./marker.ts";
import { compileSummaryRegex, type RuleFilters } from "../model/rule.ts";
import type { EventSpan } from "../model/time_window.ts";
import type { EventTime, LiveSourceEvent, SkipReason, SourceEvent } from "../model/events.ts";
import { overlapsWorkingHours } from "../model/working_hours.ts";

/**
 * The meetings a target calendar holds copies of, by meetingKey: whether that copy blocks time
 * there (live, not declined, not free).
 */
export type TargetCopies = ReadonlyMap<string, boolean>;

/** The calendar an edge writes into, and its copies of meetings when this run listed it. */
export interface TargetView {
  calendarId: string;
  copies?: TargetCopies;
}

/**
 * Names the first filter that keeps `event` out, or returns undefined when every filter lets
 * it through. Checked in a fixed order, so an event failing several always reports the same
 * reason: all_day, event_type, declined, tentative, free, invited_in_target, summary_excluded,
 * outside_working_hours.
 */
export function findSkipReason(
  event: LiveSourceEvent,
  span: EventSpan,
  filters: RuleFilters,
  target: TargetView,
): SkipReason | undefined {
  if (filters.skipAllDay && span.allDay) return "all_day";
  if ((filters.skipEventTypes as string[]).includes(event.eventType ?? "default")) {
    return "event_type";
  }
  if (filters.skipDeclined && event.selfResponseStatus === "declined") return "declined";
  if (filters.skipTentative && isTentative(event)) return "tentative";
  if (filters.skipFree && event.transparency === "transparent") return "free";
  if (filters.skipInvitedInTarget && isInvitedInTarget(event, target)) return "invited_in_target";
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

/**
 * True when the target holds (or will hold) its own copy of the meeting that blocks time there:
 * this run listed the target and found such a copy, or the target calendar organises the
 * meeting, or is on its guest list without having declined. Google gives each invited calendar
 * its own copy of a meeting with the same iCalUID (notes §10), and an attendee's address is their
 * primary calendar's id, so the guest list tells before the copy arrives or without listing the
 * target; every guest's answer shows in every copy, so a decline there shows here too.
 */
function isInvitedInTarget(event: LiveSourceEvent, target: TargetView): boolean {
  const key = meetingKey(event);
  if (key !== undefined && target.copies?.get(key)) return true;
  const id = target.calendarId.toLowerCase();
  if (event.organizerEmail?.toLowerCase() === id) return true;
  return (event.attendees ?? []).some((a) =>
    a.email.toLowerCase() === id && a.responseStatus !== "declined"
  );
}

/**
 * One occurrence of a meeting in any calendar: its iCalUID, and for an instance of a series the
 * instance's original start (all instances share the series' iCalUID).
 */
function meetingKey(event: SourceEvent): string | undefined {
  const uid = "iCalUID" in event ? event.iCalUID : undefined;
  if (uid === undefined) return undefined;
  const original = event.originalStartTime;
  return original ? `${uid} ${timeKey(original)}` : uid;
}

function timeKey(t: EventTime): string {
  return "date" in t ? t.date : String(Date.parse(t.dateTime));
}

/**
 * Indexes a target's listing by meeting: its own copies of meetings (never busysync's mirrors),
 * each with whether it blocks time there.
 */
export function indexTargetCopies(
  events: Iterable<SourceEvent>,
  idOf?: MirrorIdOf,
): TargetCopies {
  const copies = new Map<string, boolean>();
  for (const event of events) {
    const copy = targetCopyOf(event, idOf);
    if (copy) copies.set(copy.key, (copies.get(copy.key) ?? false) || copy.blocks);
  }
  return copies;
}

/**
 * What indexTargetCopies takes from one event: its meetingKey and whether it blocks time, or
 * undefined for a mirror, a cancelled event or one without an iCalUID. A target scan keeps
 * this per event id instead of the event, so a long listing is indexed page by page.
 */
export function targetCopyOf(
  event: SourceEvent,
  idOf?: MirrorIdOf,
): { key: string; blocks: boolean } | undefined {
  if (event.status === "cancelled" || classifyEvent(event, idOf).kind === "mirror") {
    return undefined;
  }
  const key = meetingKey(event);
  if (key === undefined) return undefined;
  return {
    key,
    blocks: event.transparency !== "transparent" && event.selfResponseStatus !== "declined",
  };
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
