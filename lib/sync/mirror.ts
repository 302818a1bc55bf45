/**
 * What a mirror looks like: the pure decision from one source event and one rule edge to the
 * event busysync wants in the target, or the reason it wants none.
 */
import { calendarKey } from "../model/calendar_ref.ts";
import { findSkipReason, type TargetCopies } from "./filters.ts";
import { buildMarker, classifyEvent, markerProps, type MirrorIdOf } from "./marker.ts";
import { computeWindow, overlapsWindow, readEventSpan } from "../model/time_window.ts";
import type {
  Edge,
  EventTime,
  LiveSourceEvent,
  Mirror,
  SkipReason,
  SourceEvent,
} from "../model/events.ts";

export type MirrorDecision = { kind: "mirror"; mirror: Mirror } | {
  kind: "skip";
  reason: SkipReason;
};

export interface MirrorContext {
  /** The run's clock reading; the edge's window is computed from it. */
  now: Date;
  /** The source calendar's zone, used to place all-day events on the timeline; default UTC. */
  sourceTimeZone?: string;
  /**
   * The copies of meetings each target holds (by calendarKey), for the targets this run listed;
   * without it, only the guest list tells whether a target was invited too.
   */
  targetCopies?: ReadonlyMap<string, TargetCopies>;
  /** The run's memo of mirror ids (createMirrorIdMemo); default: derived each time. */
  mirrorIdOf?: MirrorIdOf;
}

/**
 * Decides the mirror of `event` on `edge`: a skip reason when the event is cancelled, is itself
 * a mirror, lies outside the edge's window or fails a filter (one of them: the target holds its
 * own copy of the meeting); else the full mirror body.
 *
 * Privacy: `busy` → summary is titlePrefix + title and nothing else is copied; `title` →
 * titlePrefix + the source summary (the rule's title when the source has none); `full` → also
 * location and description. Attendees, conference links and attachments are never copied.
 * Timed events keep their instant (dateTime and zone as the source wrote them); all-day events
 * stay all-day on the same dates.
 */
export function desiredMirror(event: SourceEvent, edge: Edge, ctx: MirrorContext): MirrorDecision {
  if (event.status === "cancelled") return skip("cancelled");
  if (classifyEvent(event, ctx.mirrorIdOf).kind === "mirror") return skip("is_mirror");
  const span = readEventSpan(event, ctx.sourceTimeZone ?? "UTC");
  if (!span) return skip("unreadable_time");
  if (!overlapsWindow(span, computeWindow(ctx.now, edge.settings.window))) {
    return skip("outside_window");
  }
  const reason = findSkipReason(event, span, edge.settings.filters, {
    calendarId: edge.target.calendarId,
    copies: ctx.targetCopies?.get(calendarKey(edge.target)),
  });
  if (reason) return skip(reason);

  const { title, titlePrefix, visibility } = edge.settings;
  const privacy = privacyFor(event, edge.settings);
  const mirror: Mirror = {
    summary: titlePrefix + (privacy === "busy" ? title : event.summary?.trim() || title),
    start: copyTime(event.start),
    end: copyTime(event.end),
    transparency: "opaque",
    visibility,
    reminders: "none",
    privateProps: markerProps(buildMarker(edge, event.id)),
  };
  if (privacy === "full") {
    if (event.location) mirror.location = event.location;
    if (event.description) mirror.description = event.description;
  }
  return { kind: "mirror", mirror };
}

/**
 * The same mirror living under id generation `generation` (see Marker.generation): only its
 * marker changes, so what the person sees is identical.
 */
export function atGeneration(
  mirror: Mirror,
  edge: Edge,
  sourceEventId: string,
  generation: number,
): Mirror {
  return { ...mirror, privateProps: markerProps(buildMarker(edge, sourceEventId, generation)) };
}

/**
 * The privacy an event is mirrored under. Private and confidential mean that only its attendees
 * see its details (notes §10), so the rule's title and full privacy stop at the busy title for
 * them; a rule that opts in copies their title, but never their location or description.
 */
function privacyFor(
  event: LiveSourceEvent,
  settings: Edge["settings"],
): Edge["settings"]["privacy"] {
  const hidden = event.visibility === "private" || event.visibility === "confidential";
  if (!hidden || settings.privacy === "busy") return settings.privacy;
  return settings.copyPrivateTitles ? "title" : "busy";
}

function skip(reason: SkipReason): MirrorDecision {
  return { kind: "skip", reason };
}

/** Copies only the time fields, so nothing else a provider attached can leak into a mirror. */
function copyTime(t: EventTime): EventTime {
  if ("date" in t) return { date: t.date };
  return t.timeZone ? { dateTime: t.dateTime, timeZone: t.timeZone } : { dateTime: t.dateTime };
}
