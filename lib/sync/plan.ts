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
 * Plans one edge over a listing that arrives page by page, so a run holds one page of events
 * and mirrors at a time and, across pages, only the ids listed so far and the entries it
 * planned. Removals (a mirror whose event is cancelled, filtered out, or not listed by a full
 * listing) are held back until the listing is complete: only then can the delete guard weigh
 * them, and a later page may still list the event (a later version of it counts).
 */
export class EdgePlanner {
  readonly #listed = new Set<string>();
  /** What this run planned for the events it listed, read before the stored ledger. */
  readonly #planned = new Map<string, LedgerEntry>();
  readonly #removals = new Map<string, PlannedOp & { kind: "delete" }>();
  #bySeries: Map<string, LedgerEntry[]> | undefined;
  #creates = 0;

  constructor(
    readonly edge: Edge,
    private readonly ledger: ReadonlyMap<string, LedgerEntry>,
    private readonly ctx: MirrorContext,
    private readonly listing: SourceChanges["listing"],
  ) {}

  /** Source event ids listed so far. */
  get listed(): ReadonlySet<string> {
    return this.#listed;
  }

  /** Creates planned so far (a move's create included). */
  get creates(): number {
    return this.#creates;
  }

  /**
   * The ops of one page, in listing order, without its removals: creates, patches, moves (a
   * delete then a create) and the events that need nothing. An event listed again replaces
   * what was planned for its earlier version; its held removal is decided again.
   */
  plan(events: Iterable<SourceEvent>): PlannedOp[] {
    const { edge, ctx } = this;
    const ops: PlannedOp[] = [];
    for (const event of events) {
      this.#listed.add(event.id);
      this.#removals.delete(event.id);
      const entry = this.#planned.get(event.id) ?? this.ledger.get(event.id);
      for (
        const op of planEvent(desiredMirror(event, edge, ctx), entry, edge, event, ctx.mirrorIdOf)
      ) {
        if (op.kind === "delete" && op.reason !== "moved") {
          this.#removals.set(event.id, op);
          continue;
        }
        if (op.kind === "create") this.#creates++;
        if (op.kind === "create" || op.kind === "patch") this.#planned.set(event.id, op.entry);
        ops.push(op);
      }
      if (event.status === "cancelled" && !entry) {
        // Deleting a whole series may be reported as the series alone, not instance by instance.
        this.#bySeries ??= groupBySeries(this.ledger);
        for (const instance of this.#bySeries.get(event.id) ?? []) {
          if (this.#listed.has(instance.sourceEventId)) continue;
          this.#remove(instance, "cancelled");
        }
      }
    }
    return ops;
  }

  /**
   * The removals, once the listing is complete: those held back, and after a full listing every
   * mirror whose source event was not listed. Call once, after the last page.
   */
  removals(): (PlannedOp & { kind: "delete" })[] {
    if (this.listing === "full") {
      for (const entry of this.ledger.values()) {
        if (!this.#listed.has(entry.sourceEventId)) this.#remove(entry, "source_gone");
      }
    }
    return [...this.#removals.values()];
  }

  #remove(entry: LedgerEntry, reason: "cancelled" | "source_gone"): void {
    if (this.#removals.has(entry.sourceEventId)) return;
    this.#removals.set(entry.sourceEventId, {
      ruleId: this.edge.ruleId,
      direction: this.edge.direction,
      kind: "delete",
      reason,
      sourceEventId: entry.sourceEventId,
      entry,
    });
  }
}

/**
 * Plans every edge reading `changes.source` (edges from other sources are ignored) for every
 * listed event; an event listed twice counts once, as its last version. Also removes the mirrors
 * of every instance of a cancelled series, and, after a full listing, every mirror whose source
 * event was not listed. Ops come grouped by edge, in listing order, each edge's removals last.
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
    const planner = new EdgePlanner(edge, ledgerOf(edge), ctx, changes.listing);
    ops.push(...planner.plan(events.values()), ...planner.removals());
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
