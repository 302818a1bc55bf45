/**
 * How busysync recognises its own events: a marker in `extendedProperties.private` and an event
 * id derived from that marker. Neither alone is proof (see classifyEvent); together they are.
 */
import { createHash } from "node:crypto";
import { encodeBase32Hex } from "../encoding.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import type { Edge, SourceEvent } from "../model/events.ts";

/**
 * Property names; Google silently drops keys over 44 characters [EXT], these are far below.
 * `busysync: "1"` is also what a ledger rebuild filters on (`privateExtendedProperty`).
 */
export const MARKER_KEYS = {
  flag: "busysync",
  rule: "busysyncRule",
  source: "busysyncSource",
  event: "busysyncEvent",
  generation: "busysyncGen",
  target: "busysyncTarget",
} as const;

/** The marker's values exactly as stored on the mirror (long ids already shortened). */
export interface Marker {
  ruleId: string;
  sourceCalendar: string;
  sourceEvent: string;
  /**
   * Which id this mirror lives under: 0 (stored as no property at all) until Google refuses
   * the id for good (a purged or owner-deleted id stays reserved: notes §10), then 1, 2, ...
   */
  generation: number;
  /**
   * The target calendar (calendarKey), on a group's own mirrors only: a group's edges share its
   * id and a source, so the target is what tells their mirrors apart.
   */
  targetCalendar?: string;
}

/** Google silently truncates values over 1024 characters [EXT]; counting bytes is the safe side. */
const MAX_VALUE_BYTES = 1024;
const utf8 = new TextEncoder();

/** Keeps a value whole when it fits, else stores its SHA-256 (still unique, no longer readable). */
function fitValue(value: string): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short values need no encoding to be measured.
  if (value.length * 3 <= MAX_VALUE_BYTES || utf8.encode(value).length <= MAX_VALUE_BYTES) {
    return value;
  }
  return "sha256:" + createHash("sha256").update(value).digest("hex");
}

/** Builds the marker of the mirror of `sourceEventId` on `edge`, under id generation `generation`. */
export function buildMarker(edge: Edge, sourceEventId: string, generation = 0): Marker {
  const identity = edge.identity;
  return {
    ruleId: fitValue(identity?.kind === "adopted" ? identity.ruleId : edge.ruleId),
    sourceCalendar: fitValue(calendarKey(edge.source)),
    sourceEvent: fitValue(sourceEventId),
    generation,
    ...(identity?.kind === "group" ? { targetCalendar: fitValue(calendarKey(edge.target)) } : {}),
  };
}

/** The marker as `extendedProperties.private` entries (generation 0 adds none). */
export function markerProps(marker: Marker): Record<string, string> {
  return {
    [MARKER_KEYS.flag]: "1",
    [MARKER_KEYS.rule]: marker.ruleId,
    [MARKER_KEYS.source]: marker.sourceCalendar,
    [MARKER_KEYS.event]: marker.sourceEvent,
    ...(marker.generation > 0 ? { [MARKER_KEYS.generation]: String(marker.generation) } : {}),
    ...(marker.targetCalendar ? { [MARKER_KEYS.target]: marker.targetCalendar } : {}),
  };
}

/** A positive generation as busysync writes it: no sign, no leading zero. */
const GENERATION = /^[1-9][0-9]{0,5}$/;

/**
 * Reads a marker from private properties; undefined unless every part is present and a
 * generation, when there is one, is one busysync could have written.
 */
export function readMarker(props: Record<string, string> | undefined): Marker | undefined {
  if (props?.[MARKER_KEYS.flag] !== "1") return undefined;
  const ruleId = props[MARKER_KEYS.rule];
  const sourceCalendar = props[MARKER_KEYS.source];
  const sourceEvent = props[MARKER_KEYS.event];
  if (!ruleId || !sourceCalendar || !sourceEvent) return undefined;
  const gen = props[MARKER_KEYS.generation];
  if (gen !== undefined && !GENERATION.test(gen)) return undefined;
  const targetCalendar = props[MARKER_KEYS.target];
  return {
    ruleId,
    sourceCalendar,
    sourceEvent,
    generation: gen === undefined ? 0 : Number(gen),
    ...(targetCalendar ? { targetCalendar } : {}),
  };
}

/** Marks our ids to a human reading a calendar export; only base32hex letters are allowed. */
const MIRROR_ID_PREFIX = "bsm";
/** Bumping this would re-create every mirror under new ids: never change it casually. */
const DERIVATION_TAG = "busysync-mirror/1";
/** A group's own mirrors hash their target too, under a tag of their own. */
const GROUP_DERIVATION_TAG = "busysync-group-mirror/1";

/**
 * The deterministic event id of the mirror a marker describes: "bsm" + the base32hex SHA-256 of
 * the marker (55 characters, 256 bits), valid as a Google event id (`[a-v0-9]{5,1024}`). The
 * same source event on the same rule always gets the same id, so a retried insert answers 409
 * instead of creating a duplicate. Generation 0 hashes exactly what it did before generations
 * existed, so the mirrors already written keep their ids.
 */
export function deriveMirrorId(marker: Marker): string {
  // A JSON array keeps the parts apart: ("a:b","c") and ("a","b:c") hash differently.
  const input = JSON.stringify(
    marker.targetCalendar === undefined
      ? [
        DERIVATION_TAG,
        marker.ruleId,
        marker.sourceCalendar,
        marker.sourceEvent,
        ...(marker.generation > 0 ? [marker.generation] : []),
      ]
      : [
        GROUP_DERIVATION_TAG,
        marker.ruleId,
        marker.sourceCalendar,
        marker.targetCalendar,
        marker.sourceEvent,
        marker.generation,
      ],
  );
  return MIRROR_ID_PREFIX + encodeBase32Hex(createHash("sha256").update(input).digest());
}

/**
 * Whether an iCalendar UID is a busysync mirror's: its id (a CalDAV mirror's UID) or
 * `{id}@google.com` (Google's iCalUID), as a calendar's published ICS feed shows them, where
 * the marker's private properties are gone. A feed of a calendar busysync writes into would
 * otherwise bring its busy blocks back as real events, and round again.
 */
export function isMirrorUid(uid: string): boolean {
  return MIRROR_UID.test(uid);
}

const MIRROR_UID = new RegExp(`^${MIRROR_ID_PREFIX}[0-9a-v]{52}(?:@google\\.com)?$`, "i");

/** Turns a marker into its mirror id: deriveMirrorId, or a run's memo of it. */
export type MirrorIdOf = (marker: Marker) => string;

/**
 * deriveMirrorId remembering its answers, for one run: a full reconcile asks for the id of
 * each mirror five times (the target's copies, its mirrors, the repair, the plan, the orphan
 * sweep), and a SHA-256 through node:crypto was a tenth of its CPU. One per run, so it holds
 * at most the ids of the events that run read.
 */
export function createMirrorIdMemo(): MirrorIdOf {
  const ids = new Map<string, string>();
  return (marker) => {
    // The parts as deriveMirrorId hashes them, so equal keys mean equal ids.
    const key = JSON.stringify([
      marker.ruleId,
      marker.sourceCalendar,
      marker.sourceEvent,
      marker.generation,
      marker.targetCalendar ?? null,
    ]);
    let id = ids.get(key);
    if (id === undefined) {
      id = deriveMirrorId(marker);
      ids.set(key, id);
    }
    return id;
  };
}

/** The mirror id of `sourceEventId` on `edge` under id generation `generation`. */
export function mirrorIdFor(
  edge: Edge,
  sourceEventId: string,
  generation = 0,
  idOf: MirrorIdOf = deriveMirrorId,
): string {
  return idOf(buildMarker(edge, sourceEventId, generation));
}

export type EventClass = { kind: "mirror"; marker: Marker } | { kind: "event" };

/**
 * Tells a busysync mirror from a real event. A mirror carries the marker AND its id (or, for an
 * instance of a mirrored series, its `recurringEventId`) is the id derived from that marker.
 * Google copies extended properties when a user duplicates an event or splits a series ("this
 * and following"); such copies get new ids, so they are real events and are synced. A mirror
 * written by any rule (even another user's) is never mirrored again, which is what stops A↔B
 * from ping-ponging.
 */
export function classifyEvent(
  event: SourceEvent,
  idOf: MirrorIdOf = deriveMirrorId,
): EventClass {
  const marker = readMarker(event.privateProps);
  if (!marker) return { kind: "event" };
  const id = idOf(marker);
  return event.id === id || event.recurringEventId === id
    ? { kind: "mirror", marker }
    : { kind: "event" };
}
