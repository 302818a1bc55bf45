/**
 * Planning: from desired mirrors and the ledger to the writes a run must make. Pure; the engine
 * applies the ops and records each ledger entry only after its write succeeded.
 */
import { calendarKey } from "../model/calendar_ref.ts";
import { hashMirror } from "./hash.ts";
import { mirrorIdFor, type MirrorIdOf } from "./marker.ts";
import { atGeneration, desiredMirror, type MirrorContext, type MirrorDecision } from "./mirror.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, LedgerEntry, Mirror, PlannedOp, SourceEvent } from "../model/events.ts";

/**
 * Plans one (edge, source event): create when nothing is mirrored yet, patch when the mirror's
 * body changed, nothing when its hash is unchanged, delete when the event no longer qualifies.
 * A ledger entry in another target or under another id (the rule was edited) is moved: delete
 * the old mirror, then create the new one. A mirror keeps the id generation its entry records
 * while it stays in the same target (a new target starts again at 0). Returns the ops in the
 * order they must be applied.
 */
export function planEvent(
  decision: MirrorDecision,
  entry: LedgerEntry | undefined,
  edge: Edge,
  event: Pick<SourceEvent, "id" | "recurringEventId">,
  idOf?: MirrorIdOf,
): PlannedOp[] {
  const base = { ruleId: edge.ruleId, direction: edge.direction, sourceEventId: event.id };
  if (decision.kind === "skip") {
    return [
      entry
        ? { ...base, kind: "delete", reason: decision.reason, entry }
        : { ...base, kind: "none", reason: decision.reason },
    ];
  }
  const sameTarget = entry !== undefined &&
    calendarKey(entry.target) === calendarKey(edge.target);
  const generation = sameTarget ? entry.generation ?? 0 : 0;
  const mirror = generation > 0
    ? atGeneration(decision.mirror, edge, event.id, generation)
    : decision.mirror;
  const next = ledgerEntryFor(edge, event, mirror, generation, idOf);
  const create: PlannedOp = { ...base, kind: "create", reason: "new", mirror, entry: next };
  if (!entry) return [create];
  if (entry.mirrorId !== next.mirrorId || !sameTarget) {
    return [{ ...base, kind: "delete", reason: "moved", entry }, create];
  }
  if (entry.hash === next.hash) return [{ ...base, kind: "none", reason: "unchanged" }];
  return [{ ...base, kind: "patch", reason: "changed", mirror, entry: next }];
}

/** The ledger entry of `mirror`, the mirror of `event` on `edge` under id `generation`. */
export function ledgerEntryFor(
  edge: Edge,
  event: Pick<SourceEvent, "id" | "recurringEventId">,
  mirror: Mirror,
  generation: number,
  idOf?: MirrorIdOf,
): LedgerEntry {
  return {
    mirrorId: mirrorIdFor(edge, event.id, generation, idOf),
    hash: hashMirror(mirror),
    target: edge.target,
    sourceEventId: event.id,
    ...(event.recurringEventId ? { recurringEventId: event.recurringEventId } : {}),
    ...(generation > 0 ? { generation } : {}),
  };
}

/** What one listing of a source calendar returned. */
export interface SourceChanges {
  source: CalendarRef;
  events: readonly SourceEvent[];
  /**
   * "full": `events` is everything in the listed window, so a ledger entry whose event is absent
   * is gone (deleted, or out of the window by now). The listing must cover every edge's window
   * (see spanWindows). "incremental": only what changed since the cursor.
   */
  listing: "full" | "incremental";
}

/** The ledger entries of one edge, by source event id. */
export type LedgerOf = (edge: Edge) => ReadonlyMap<string, LedgerEntry>;

/**
 * Plans every edge reading `changes.source` (edges from other sources are ignored) for every
 * listed event; an event listed twice counts once, as its last version. Also removes the mirrors
 * of every instance of a cancelled series, and, after a full listing, every mirror whose source
 * event was not listed. Ops come grouped by edge, in listing order.
 */
export function planChanges(
  changes: SourceChanges,
  ledgerOf: LedgerOf,
  edges: readonly Edge[],
  ctx: MirrorContext,
): PlannedOp[] {
  const sourceKey = calendarKey(changes.source);
  const events = new Map(changes.events.map((e) => [e.id, e]));
  const ops: PlannedOp[] = [];
  for (const edge of edges) {
    if (calendarKey(edge.source) !== sourceKey) continue;
    const ledger = ledgerOf(edge);
    const base = { ruleId: edge.ruleId, direction: edge.direction };
    const removed = new Set<string>();
    const remove = (entry: LedgerEntry, reason: "cancelled" | "source_gone") => {
      if (removed.has(entry.sourceEventId)) return;
      removed.add(entry.sourceEventId);
      ops.push({ ...base, kind: "delete", reason, sourceEventId: entry.sourceEventId, entry });
    };
    let bySeries: Map<string, LedgerEntry[]> | undefined;
    for (const event of events.values()) {
      const entry = ledger.get(event.id);
      ops.push(...planEvent(desiredMirror(event, edge, ctx), entry, edge, event, ctx.mirrorIdOf));
      if (event.status === "cancelled" && !entry) {
        // Deleting a whole series may be reported as the series alone, not instance by instance.
        bySeries ??= groupBySeries(ledger);
        for (const instance of bySeries.get(event.id) ?? []) {
          if (!events.has(instance.sourceEventId)) remove(instance, "cancelled");
        }
      }
    }
    if (changes.listing === "full") {
      for (const entry of ledger.values()) {
        if (!events.has(entry.sourceEventId)) remove(entry, "source_gone");
      }
    }
  }
  return ops;
}

function groupBySeries(ledger: ReadonlyMap<string, LedgerEntry>): Map<string, LedgerEntry[]> {
  const groups = new Map<string, LedgerEntry[]>();
  for (const entry of ledger.values()) {
    if (!entry.recurringEventId) continue;
    const group = groups.get(entry.recurringEventId);
    if (group) group.push(entry);
    else groups.set(entry.recurringEventId, [entry]);
  }
  return groups;
}

/** Counts of planned ops; `removals` are deletes that leave fewer mirrors (not moves). */
export interface OpTally {
  create: number;
  patch: number;
  delete: number;
  none: number;
  removals: number;
}

/** Tallies ops by kind, e.g. one rule's ops for its history record and the delete guard. */
export function tallyOps(ops: readonly PlannedOp[]): OpTally {
  const tally: OpTally = { create: 0, patch: 0, delete: 0, none: 0, removals: 0 };
  for (const op of ops) {
    tally[op.kind]++;
    if (op.kind === "delete" && op.reason !== "moved") tally.removals++;
  }
  return tally;
}

export type DeleteGuardVerdict = { tripped: false } | { tripped: true; reason: string };

/**
 * The mass-delete guard: trips when a run would remove more than `min` mirrors AND more than
 * `percent`% of the `existingMirrors` (a source that suddenly reads empty is the classic cause).
 * Both bounds are strict, so exactly `min` deletes, or exactly `percent`%, pass. Count
 * removals only (tallyOps), so editing a rule's target, which moves every mirror, does not trip.
 */
export function checkDeleteGuard(
  { deletes, existingMirrors, percent, min }: {
    deletes: number;
    existingMirrors: number;
    percent: number;
    min: number;
  },
): DeleteGuardVerdict {
  // Multiplying instead of dividing keeps "no existing mirrors" well defined.
  if (deletes > min && deletes * 100 > percent * existingMirrors) {
    return {
      tripped: true,
      reason: `would delete ${deletes} of ${existingMirrors} mirrors ` +
        `(more than ${min} and more than ${percent}%); confirm to proceed`,
    };
  }
  return { tripped: false };
}
