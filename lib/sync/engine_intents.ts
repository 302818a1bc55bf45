/**
 * Write intents in a run (lib/db/write_intents.ts holds them): recording them ahead of the
 * inserts, and settling the ones an earlier run left unconfirmed (a crash, a lost answer).
 */
import { dropIntent, recordIntents, type WriteIntent } from "../db/write_intents.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { UNKNOWN_HASH } from "./drift.ts";
import type { RunContext } from "./run_context.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, LedgerEntry, WriteOp } from "../model/events.ts";

/** Inserts one batch readies: one budget commit and one intent commit. */
const INSERT_BATCH = 32;

/**
 * Readies an edge's inserts a batch at a time in the order given: takes the batch's share of the
 * target account's daily creation budget, then records the intents of the inserts it may send,
 * so every insert is preceded by its intent at the cost of two commits per batch. Once a batch
 * gets less budget than it asked, the inserts after it wait (for tomorrow's budget).
 */
export class InsertBatches {
  readonly #index = new Map<WriteOp, number>();
  /** Batch number → how many of its inserts may be sent. */
  readonly #batches = new Map<number, Promise<number>>();
  #grantedTotal = 0;

  constructor(
    private readonly ctx: RunContext,
    private readonly edge: Edge,
    private readonly creates: readonly WriteOp[],
  ) {
    creates.forEach((op, i) => this.#index.set(op, i));
  }

  /**
   * Resolves true once `op` (a create of this edge) has its budget and its intent committed,
   * false when the budget is spent and `op` must wait.
   */
  async before(op: WriteOp): Promise<boolean> {
    const i = this.#index.get(op)!;
    const batch = Math.floor(i / INSERT_BATCH);
    const granted = await this.#granted(batch);
    // The next batch readies while this one's inserts are sent: readied only when its first
    // insert asked, every writer stood still for its two commits at each batch boundary (a
    // third of an initial sync's wall time). Its intents still precede its inserts; budget it
    // takes and a stopped run leaves unused is given back (applyEdgeOps).
    if (granted === INSERT_BATCH && (batch + 1) * INSERT_BATCH < this.creates.length) {
      this.#granted(batch + 1).catch(() => {});
    }
    return i - batch * INSERT_BATCH < granted;
  }

  /** Creations the batches took from the budget so far. */
  get granted(): number {
    return this.#grantedTotal;
  }

  #granted(batch: number): Promise<number> {
    let granted = this.#batches.get(batch);
    if (!granted) {
      const ops = this.creates.slice(batch * INSERT_BATCH, (batch + 1) * INSERT_BATCH);
      // Batches take budget in order, so what a short budget leaves out is the end of the list.
      const earlierFull = batch === 0
        ? Promise.resolve(true)
        : this.#granted(batch - 1).then((n) => n === INSERT_BATCH);
      granted = earlierFull.then(async (full) => {
        if (!full) return 0;
        const n = await this.ctx.accounts.reserve(this.edge.target.connectionId, ops.length);
        this.#grantedTotal += n;
        const entries = ops.slice(0, n).map((o) => o.entry);
        if (n > 0) await recordIntents(this.ctx.fence, this.ctx.userId, this.edge, entries);
        return n;
      });
      this.#batches.set(batch, granted);
    }
    return granted;
  }
}

/** An edge's leftover intents, as planning sees them. */
export interface EdgeIntents {
  /** The ledger with the intents that stand for the mirror merged in. */
  ledger: Map<string, LedgerEntry>;
  /** Source events whose entry in `ledger` is an intent, not a confirmed write. */
  fromIntent: Set<string>;
  /** The other intents, for settleIntents once the plan is known. */
  open: Map<string, WriteIntent>;
}

const sameCalendar = (a: CalendarRef, b: CalendarRef) => calendarKey(a) === calendarKey(b);

/**
 * Merges into the ledger the intents that may be the mirror now: into the edge's target, with
 * no confirmed entry, or with a newer id generation than the entry's (a move to the next
 * generation whose answer was lost: the old id is dead, the new one may hold the mirror). Such
 * an entry has an unknown hash, so the planner patches it (finding the mirror, or answering
 * 404 and inserting) or deletes it if its event is no longer wanted; never a blind insert.
 */
export function mergeIntents(
  edge: Edge,
  ledger: ReadonlyMap<string, LedgerEntry>,
  intents: ReadonlyMap<string, WriteIntent>,
): EdgeIntents {
  const out: EdgeIntents = { ledger: new Map(ledger), fromIntent: new Set(), open: new Map() };
  for (const [sourceEventId, intent] of intents) {
    const entry = ledger.get(sourceEventId);
    const newer = !entry ||
      (sameCalendar(entry.target, intent.target) &&
        (entry.generation ?? 0) < intent.generation);
    if (!sameCalendar(intent.target, edge.target) || !newer) {
      out.open.set(sourceEventId, intent);
      continue;
    }
    out.ledger.set(sourceEventId, {
      mirrorId: intent.mirrorId,
      hash: UNKNOWN_HASH,
      target: intent.target,
      sourceEventId,
      ...(intent.recurringEventId ? { recurringEventId: intent.recurringEventId } : {}),
      ...(intent.generation > 0 ? { generation: intent.generation } : {}),
    });
    out.fromIntent.add(sourceEventId);
  }
  return out;
}

/**
 * The creates among `writes` that send again an insert an open intent recorded (same id, same
 * target): they look before inserting (an earlier answer may have been lost), and the ledger
 * write that confirms them drops the intent. They are taken out of `open`.
 */
export function claimIntents(
  open: Map<string, WriteIntent>,
  writes: readonly WriteOp[],
): Set<string> {
  const lookFirst = new Set<string>();
  if (open.size === 0) return lookFirst;
  for (const op of writes) {
    if (op.kind !== "create") continue;
    const intent = open.get(op.sourceEventId);
    if (intent && sameMirror(op.entry, intent)) {
      lookFirst.add(op.sourceEventId);
      open.delete(op.sourceEventId);
    }
  }
  return lookFirst;
}

/**
 * Settles the intents no write claimed (`open`): an intent the ledger confirms is dropped, and
 * the mirror of an intent nobody wants any more (another target now, or an older id
 * generation) is deleted in case the lost insert made it. An intent whose event the listing did
 * not mention waits for a listing that does.
 */
export async function settleIntents(
  ctx: RunContext,
  edge: Edge,
  open: ReadonlyMap<string, WriteIntent>,
  ledger: ReadonlyMap<string, LedgerEntry>,
  listed: { full: boolean; ids: ReadonlySet<string> },
): Promise<void> {
  for (const [sourceEventId, intent] of open) {
    const entry = ledger.get(sourceEventId);
    const confirmed = entry !== undefined && sameMirror(entry, intent);
    if (!confirmed && !listed.full && !listed.ids.has(sourceEventId)) continue;
    if (!confirmed) {
      ctx.report.calls.deleteMirror++;
      const outcome = await ctx.provider(intent.target.connectionId)
        .deleteMirror(intent.target, intent.mirrorId);
      ctx.markDeleted(intent.target, intent.mirrorId);
      // An intent recorded for an insert that was never sent finds nothing: not worth a line.
      if (outcome === "deleted") {
        ctx.report.recordRemoval(
          {
            ruleId: edge.ruleId,
            mirrorId: intent.mirrorId,
            target: intent.target,
            reason: "unconfirmed_insert",
            outcome,
          },
          { direction: edge.direction, sourceEventId },
        );
      }
    }
    await dropIntent(ctx.fence, ctx.userId, edge, sourceEventId);
  }
}

const sameMirror = (a: { mirrorId: string; target: CalendarRef }, b: typeof a) =>
  a.mirrorId === b.mirrorId && sameCalendar(a.target, b.target);
