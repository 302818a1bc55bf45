/**
 * Writing one edge's mirrors into its target: the creates, patches and deletes a plan asks for,
 * a page of them at a time, each insert after its creation budget and write intent, each ledger
 * write after its calendar write, each answer checked against what was sent (write_check.ts).
 */
import type { AccountWritePause } from "../db/account_limits.ts";
import { LeaseLostError } from "../db/leases.ts";
import { dropIntent, recordIntents } from "../db/write_intents.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, WriteOp } from "../model/events.ts";
import { InsertBatches } from "./engine_intents.ts";
import { atGeneration } from "./mirror.ts";
import { ledgerEntryFor } from "./plan.ts";
import {
  AccountWritesRefusedError,
  MirrorConflictError,
  MirrorIdRetiredError,
  type Written,
} from "./provider.ts";
import type { RunContext } from "./run_context.ts";
import { checkWritten, WriteMismatchError } from "./write_check.ts";

/** What the run knows of some writes' source events beyond the plan itself. */
export interface WriteHints {
  /** An earlier insert of this mirror may have landed (an open intent): look before inserting. */
  lookFirst: ReadonlySet<string>;
  /** The ledger entry the plan went by is an unconfirmed intent. */
  fromIntent: ReadonlySet<string>;
  /** Mirrors known to be gone from the target: a patch that succeeds brought one back. */
  missing: ReadonlySet<string>;
}

/**
 * One edge's writes over a run, given a page of them at a time (`write`), then `finish`. Within
 * a page, `concurrency` source events are written at a time; the ops of one source event (a move
 * is a delete then a create of the same ledger key) run in order, and source events whose mirror
 * starts soonest go first, so a short creation budget leaves out the furthest. A mirror id taken
 * by a user's own event fails that event only; a target account whose writes are paused (or get
 * paused now) holds the edge's writes without failing the rule, as does a spent creation budget
 * for the creates; any other failure stops the rule for this run.
 */
export class EdgeWriter {
  #paused = false;
  /** Source events whose create waits for the budget (the nearest pass and the full one may both ask). */
  readonly #waiting = new Set<string>();
  #firstWaiting = Infinity;

  constructor(private readonly ctx: RunContext, readonly edge: Edge) {}

  /** True when writes were held back: the edge must list in full next time to find them again. */
  get heldBack(): boolean {
    return this.#paused || this.#waiting.size > 0;
  }

  /** Applies one page's writes (see the class). */
  async write(writes: readonly WriteOp[], hints: WriteHints): Promise<void> {
    const { ctx, edge } = this;
    if (writes.length === 0 || this.#paused || ctx.isStopped(edge.ruleId)) return;
    const account = edge.target.connectionId;
    const paused = await ctx.accounts.pauseOf(account);
    if (paused) return this.#pause(paused);
    const units: WriteOp[][] = [];
    for (const op of writes) {
      const last = units.at(-1);
      if (last && last[0].sourceEventId === op.sourceEventId) last.push(op);
      else units.push([op]);
    }
    units.sort((a, b) => createStart(a) - createStart(b));
    // Once the budget fell short, every later create waits too: no budget is asked again.
    const budgetSpent = this.#waiting.size > 0;
    const creates = budgetSpent ? [] : units.flat().filter((op) => op.kind === "create");
    const batches = new InsertBatches(ctx, edge, creates);
    let sent = 0;
    await ctx.pool(units, async (unit) => {
      for (const op of unit) {
        if (ctx.isStopped(edge.ruleId) || this.#paused) return;
        await ctx.fence.hold(ctx.deps.clock());
        try {
          if (op.kind === "create") {
            if (budgetSpent || !await batches.before(op)) {
              this.#wait(op);
              return;
            }
            sent++;
          }
          await applyOp(ctx, edge, op, {
            lookFirst: hints.lookFirst.has(op.sourceEventId),
            fromIntent: hints.fromIntent.has(op.sourceEventId),
            missing: hints.missing.has(op.sourceEventId),
          });
          await ctx.progress.wrote();
        } catch (err) {
          if (err instanceof LeaseLostError) throw err;
          const calendar = op.entry.target;
          if (err instanceof AccountWritesRefusedError) {
            if (this.#paused) return;
            this.#paused = true;
            const pause = await ctx.accounts.pause(account, err.message);
            if (pause) recordPaused(ctx, edge, pause);
            else ctx.fail(edge.ruleId, err, { calendar, failedOp: true });
          } else if (err instanceof MirrorConflictError) {
            ctx.report.recordError(err, { ruleId: edge.ruleId, calendar, failedOp: true });
          } else ctx.fail(edge.ruleId, err, { calendar, failedOp: true });
          return;
        }
      }
    });
    // Budget a pause or a failure left unused is today's still (a lost lease threw above).
    await ctx.accounts.giveBack(account, batches.granted - sent);
  }

  /** Says, once for the run, how many busy blocks wait for tomorrow's creation budget. */
  finish(): void {
    if (this.#waiting.size === 0) return;
    const { ctx, edge } = this;
    ctx.report.recordProblem({
      ruleId: edge.ruleId,
      calendar: calendarKey(edge.target),
      error: "CreationBudgetSpent",
      message: `${this.#waiting.size} busy blocks wait for tomorrow: today's budget of ` +
        `${ctx.deps.config.accountLimits.createsPerDay} new events for this Google account ` +
        `(BUSYSYNC_GOOGLE_CREATES_PER_DAY, kept under Google's Calendar usage limits) is spent. ` +
        `The nearest days were made first; the first waiting starts ` +
        `${new Date(this.#firstWaiting).toISOString().slice(0, 10)}.`,
    });
  }

  #wait(op: WriteOp): void {
    this.#waiting.add(op.sourceEventId);
    this.#firstWaiting = Math.min(this.#firstWaiting, createStart([op]));
  }

  #pause(pause: AccountWritePause): void {
    this.#paused = true;
    recordPaused(this.ctx, this.edge, pause);
  }
}

/** When the mirror a unit creates starts (epoch ms); a unit that creates nothing sorts first. */
function createStart(unit: readonly WriteOp[]): number {
  const create = unit.find((op) => op.kind === "create");
  if (!create || create.kind !== "create") return -Infinity;
  const start = create.mirror.start;
  return Date.parse("dateTime" in start ? start.dateTime : start.date);
}

function recordPaused(ctx: RunContext, edge: Edge, pause: AccountWritePause): void {
  ctx.report.recordProblem({
    ruleId: edge.ruleId,
    calendar: calendarKey(edge.target),
    error: "WritesPaused",
    message: `Nothing is written into this calendar until ${
      pause.until.slice(0, 16).replace("T", " ")
    } UTC: ${pause.reason}. Reading goes on, and the busy blocks are brought up to date then.`,
  });
}

/**
 * How many times one mirror may move to a new id generation in one run: Google retires an id
 * once, so a second refusal in a row already means something else is wrong.
 */
const MAX_GENERATIONS_PER_RUN = 3;

/**
 * One write. A create or patch whose id Google retired moves to the next id generation (its
 * intent first) and is inserted there; what the service answers is checked against what was
 * sent before the ledger records it (write_check.ts).
 */
async function applyOp(
  ctx: RunContext,
  edge: Edge,
  op: WriteOp,
  { lookFirst, fromIntent, missing }: { lookFirst: boolean; fromIntent: boolean; missing: boolean },
) {
  const target = op.entry.target;
  const provider = ctx.provider(target.connectionId);
  if (op.kind === "delete") {
    ctx.report.calls.deleteMirror++;
    const outcome = await provider.deleteMirror(target, op.entry.mirrorId);
    ctx.markDeleted(target, op.entry.mirrorId);
    await ctx.ledger.delete(edge, op.sourceEventId);
    // The entry came from an unconfirmed insert: with its mirror gone, so goes the intent.
    if (fromIntent) await dropIntent(ctx.fence, ctx.userId, edge, op.sourceEventId);
    ctx.report.recordApplied(op, outcome);
    return;
  }
  let { mirror, entry } = op;
  let existing = op.kind === "patch" || lookFirst;
  for (let moved = 0;; moved++) {
    ctx.report.calls.putMirror++;
    let written: Written;
    try {
      written = await provider.putMirror(target, entry.mirrorId, mirror, { existing });
    } catch (err) {
      if (!(err instanceof MirrorIdRetiredError) || moved >= MAX_GENERATIONS_PER_RUN) throw err;
      const generation = (entry.generation ?? 0) + 1;
      ctx.log.info("sync: mirror id retired, moving to the next generation", {
        userId: ctx.userId,
        ruleId: edge.ruleId,
        mirrorId: entry.mirrorId,
        generation,
        reason: err.message,
      });
      mirror = atGeneration(mirror, edge, op.sourceEventId, generation);
      entry = ledgerEntryFor(
        edge,
        { id: op.sourceEventId, recurringEventId: entry.recurringEventId },
        mirror,
        generation,
      );
      await recordIntents(ctx.fence, ctx.userId, edge, [entry]);
      existing = false;
      continue;
    }
    const problem = checkWritten(entry.mirrorId, mirror, written);
    if (problem?.stop) {
      if (problem.unrecognisable && written.id) await removeStray(ctx, target, written.id);
      throw new WriteMismatchError(target, entry.mirrorId, problem);
    }
    if (problem) {
      ctx.report.recordProblem({
        ruleId: edge.ruleId,
        calendar: calendarKey(target),
        error: "WriteDifference",
        message: `busy block ${entry.mirrorId}: ${problem.message}`,
      });
    }
    await ctx.ledger.put(edge, entry);
    // A patch of a mirror the target no longer showed brought back a deleted event.
    const outcome = missing && written.outcome === "patched" ? "restored" : written.outcome;
    ctx.report.recordApplied({ ...op, mirror, entry }, outcome);
    return;
  }
}

/**
 * Deletes an event a write left that busysync could never recognise as its own; a failure is
 * recorded, not thrown: the mismatch itself is what the person must hear about.
 */
async function removeStray(ctx: RunContext, target: CalendarRef, id: string): Promise<void> {
  try {
    ctx.report.calls.deleteMirror++;
    await ctx.provider(target.connectionId).deleteMirror(target, id);
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    ctx.report.recordError(err, { calendar: target });
  }
}
