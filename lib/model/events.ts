/**
 * Provider-neutral shapes the sync core works on. `lib/google/` (and later CalDAV) maps its own
 * events to and from these; nothing here knows a wire format.
 */
import type { CalendarRef } from "./calendar_ref.ts";
import type { Rule } from "./rule.ts";

/** All-day: a `yyyy-mm-dd` date (an end date is exclusive). */
export interface DateOnly {
  date: string;
}

/** Timed: an RFC 3339 instant (with offset) and, optionally, the IANA zone it was written in. */
export interface DateTime {
  dateTime: string;
  timeZone?: string;
}

export type EventTime = DateOnly | DateTime;

export type ResponseStatus = "needsAction" | "declined" | "tentative" | "accepted";
export type Visibility = "default" | "public" | "private" | "confidential";

/** Fields every source event may carry, live or cancelled. */
interface SourceEventBase {
  id: string;
  /** Set on an instance of a recurring series: the series' id. */
  recurringEventId?: string;
  originalStartTime?: EventTime;
  /** `extendedProperties.private`: where our marker lives. */
  privateProps?: Record<string, string>;
  updated?: string;
}

/** A live event as read from a source calendar. */
export interface LiveSourceEvent extends SourceEventBase {
  status: "confirmed" | "tentative";
  summary?: string;
  description?: string;
  location?: string;
  start: EventTime;
  end: EventTime;
  /** Absent means opaque (busy), Google's default. */
  transparency?: "opaque" | "transparent";
  visibility?: Visibility;
  /** Absent means "default". */
  eventType?: string;
  /** The response of the attendee with `self: true`; undefined when not an attendee. */
  selfResponseStatus?: ResponseStatus;
  /**
   * The meeting's id across calendars: every invited calendar holds its own copy of a meeting,
   * under its own id and this same iCalUID (instances of a series share their series').
   */
  iCalUID?: string;
  /** The organizer's address (a calendar id: the primary calendar's is the account's email). */
  organizerEmail?: string;
  attendees?: readonly Attendee[];
}

/** One guest of a meeting as the event lists them. */
export interface Attendee {
  email: string;
  responseStatus: ResponseStatus;
}

/**
 * A deleted event. Google guarantees only `id` (and, for a cancelled instance of a live series,
 * `recurringEventId` and `originalStartTime`), so nothing else may be relied on.
 */
export interface CancelledSourceEvent extends SourceEventBase {
  status: "cancelled";
}

export type SourceEvent = LiveSourceEvent | CancelledSourceEvent;

/** The body busysync wants a mirror to have; the provider writes exactly this. */
export interface Mirror {
  summary: string;
  description?: string;
  location?: string;
  start: EventTime;
  end: EventTime;
  /** A mirror always blocks time, whatever the source said (free sources are filtered). */
  transparency: "opaque";
  visibility: Visibility;
  /** Mirrors never ring: the source already reminds the user. */
  reminders: "none";
  /** The marker (see marker.ts); stored in `extendedProperties.private`. */
  privateProps: Record<string, string>;
}

/** What a rule asks of every mirror it makes, whichever way the event travels. */
export type MirrorSettings = Pick<
  Rule,
  "privacy" | "title" | "titlePrefix" | "copyPrivateTitles" | "visibility" | "filters" | "window"
>;

/** The mirror settings of a rule or a group, and nothing else of it. */
export function mirrorSettingsOf(from: MirrorSettings): MirrorSettings {
  const { privacy, title, titlePrefix, copyPrivateTitles, visibility, filters, window } = from;
  return { privacy, title, titlePrefix, copyPrivateTitles, visibility, filters, window };
}

/**
 * One direction of a rule, or one (source, target) pair of a group: events of `source` are
 * mirrored into `target`.
 */
export interface Edge {
  /** The rule's or group's id: statuses, history, the ledger and failures are kept under it. */
  ruleId: string;
  /**
   * The edge within its rule or group: "forward" (the rule's source → target) or "reverse"
   * (only for a bidirectional rule); for a group, its pair key (lib/model/group_edges.ts).
   */
  direction: string;
  source: CalendarRef;
  target: CalendarRef;
  settings: MirrorSettings;
  /** Whose marker its mirrors carry; absent: the rule's (marker.ts). */
  identity?: MirrorIdentity;
}

/**
 * The marker a group edge's mirrors carry: "group" names the group, the source and the target
 * calendar, so no two edges of a group share a mirror id; "adopted" keeps the marker of the rule
 * whose mirrors the group took over, so they stay where they are under their ids.
 */
export type MirrorIdentity = { kind: "group" } | { kind: "adopted"; ruleId: string };

/** Per (rule, direction, source event): the mirror busysync last wrote and the hash of its body. */
export interface LedgerEntry {
  mirrorId: string;
  hash: string;
  target: CalendarRef;
  sourceEventId: string;
  /** Kept so that a cancelled series removes the mirrors of all its instances. */
  recurringEventId?: string;
  /** The mirror's id generation (Marker.generation); absent means 0. */
  generation?: number;
}

/** Why an event has no mirror on an edge. */
export type SkipReason =
  | "cancelled"
  | "is_mirror"
  | "unreadable_time"
  | "outside_window"
  | "all_day"
  | "event_type"
  | "declined"
  | "tentative"
  | "free"
  | "invited_in_target"
  | "summary_excluded"
  | "outside_working_hours";

/** Why a mirror is removed: its event no longer qualifies, vanished, or the mirror must move. */
export type DeleteReason = SkipReason | "source_gone" | "moved";

interface OpBase {
  ruleId: string;
  direction: Edge["direction"];
  sourceEventId: string;
}

/**
 * One decision for one (edge, source event). For create and patch, `entry` is the ledger entry
 * to write once the write succeeded; for delete, the entry to remove once the mirror is gone.
 */
export type PlannedOp =
  | OpBase & { kind: "create"; reason: "new"; mirror: Mirror; entry: LedgerEntry }
  | OpBase & { kind: "patch"; reason: "changed"; mirror: Mirror; entry: LedgerEntry }
  | OpBase & { kind: "delete"; reason: DeleteReason; entry: LedgerEntry }
  | OpBase & { kind: "none"; reason: "unchanged" | SkipReason };

/** A planned op that writes something. */
export type WriteOp = Exclude<PlannedOp, { kind: "none" }>;
