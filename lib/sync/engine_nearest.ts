/**
 * The nearest days first. Against Google a connection's request budget (500 requests a minute
 * by default) makes a first sync of thousands of events take many minutes, one write per busy
 * block, and a listing processed page by page writes in whatever order Google lists (an order
 * it leaves unspecified). So before the full listing, an edge that is not caught up (a new
 * rule, one saved with changes, one that missed changes) gets a bounded first pass: its source
 * listed over [now, now + N days) only, planned and written through the same ledger, intents
 * and checks as any run, so the full pass that follows finds those busy blocks as no-ops and a
 * crash between the two passes converges like any other.
 *
 * The first pass only creates and patches. Deletes (and moves, a delete then a create) wait for
 * the full pass: that is where the delete guard sees a rule's whole plan, and a partial listing
 * can never tell that a mirror's event is gone.
 */
import { countEdgeLedger, readLedgerEntries } from "../db/ledger.ts";
import { LeaseLostError } from "../db/leases.ts";
import { listIntents } from "../db/write_intents.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { computeWindow, type TimeWindow } from "../model/time_window.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, LedgerEntry, SourceEvent, WriteOp } from "../model/events.ts";
import { mirrorsOfEdge, repairLedger } from "./drift.ts";
import { claimIntents, mergeIntents, settleIntents } from "./engine_intents.ts";
import { indexTargetCopies, type TargetCopies } from "./filters.ts";
import { planChanges } from "./plan.ts";
import type { RunContext } from "./run_context.ts";
import type { EdgeWriter } from "./edge_writer.ts";

const DAY_MS = 86_400_000;
/** Days ahead mirrored first when SyncConfig.nearestFirstDays is not set. */
export const DEFAULT_NEAREST_DAYS = 14;

/** What the first pass leaves for the full pass of the same source. */
export interface NearestPass {
  /**
   * Edges that started with an empty ledger: the full pass lists their target as it would
   * have (lost mirrors to adopt, meetings the target holds), although the ledger now has
   * entries.
   */
  listTarget: ReadonlySet<Edge>;
  /**
   * Per edge, the source events whose busy blocks this pass wrote (or tried to). A target
   * listing made earlier in the run (shared by the edges of a target) does not show them.
   */
  written: ReadonlyMap<Edge, ReadonlySet<string>>;
}

export const NO_NEAREST_PASS: NearestPass = { listTarget: new Set(), written: new Map() };

/** The nearest days of `edges`: [now, now + days), cut to the edges' own windows. */
export function nearestWindow(now: Date, edges: readonly Edge[], days: number): TimeWindow | null {
  if (days <= 0 || edges.length === 0) return null;
  const windows = edges.map((e) => computeWindow(now, e.settings.window));
  const start = Math.max(now.getTime(), Math.min(...windows.map((w) => w.start.getTime())));
  const end = Math.min(
    now.getTime() + days * DAY_MS,
    Math.max(...windows.map((w) => w.end.getTime())),
  );
  return end > start ? { start: new Date(start), end: new Date(end) } : null;
}

/**
 * Mirrors the nearest days of the `edges` (the not-caught-up edges of `source`) before the
 * full listing. A failure here is left to the full pass, which meets it again and records it
 * on the rule; a failed write already stopped its rule (RunContext.fail) as in any run.
 */
export async function mirrorNearestDays(
  ctx: RunContext,
  source: CalendarRef,
  edges: readonly Edge[],
  opts: {
    zones: ReadonlyMap<string, string>;
    /** Each edge's writer, which the full pass goes on with. */
    writers: ReadonlyMap<Edge, EdgeWriter>;
  },
): Promise<NearestPass> {
  const days = ctx.deps.config.nearestFirstDays ?? DEFAULT_NEAREST_DAYS;
  const window = nearestWindow(ctx.now, edges, days);
  if (!window) return NO_NEAREST_PASS;
  await ctx.progress.nearestStarted();
  let events: SourceEvent[];
  try {
    events = await listAll(ctx, source, window);
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    ctx.log.info("sync: first pass over the nearest days skipped", { error: err });
    return NO_NEAREST_PASS;
  }
  await ctx.progress.listed(events.length);
  const ids = events.map((e) => e.id);
  const listedIds = new Set(ids);
  const targetCopies = new Map<string, TargetCopies>();
  const mirrorContext = {
    now: ctx.now,
    sourceTimeZone: opts.zones.get(calendarKey(source)),
    targetCopies,
  };
  const listTarget = new Set<Edge>();
  const written = new Map<Edge, Set<string>>();

  for (const edge of edges) {
    if (ctx.isStopped(edge.ruleId)) continue;
    const confirmed = await readLedgerEntries(ctx.kv, ctx.userId, edge, ids);
    const merged = mergeIntents(edge, confirmed, await listIntents(ctx.kv, ctx.userId, edge));
    let ledger: ReadonlyMap<string, LedgerEntry> = merged.ledger;
    let missing: ReadonlySet<string> = new Set();
    if (await countEdgeLedger(ctx.kv, ctx.userId, edge) === 0) {
      // As the full pass does for an empty ledger: adopt mirrors a lost ledger left, and see
      // the meetings the target holds a copy of; over these days only, which is all it needs.
      listTarget.add(edge);
      let found: SourceEvent[];
      try {
        found = await listAll(ctx, edge.target, window);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        ctx.log.info("sync: first pass skipped for a target", { ruleId: edge.ruleId, error: err });
        continue;
      }
      targetCopies.set(calendarKey(edge.target), indexTargetCopies(found));
      const repair = repairLedger(edge, events, ledger, mirrorsOfEdge(edge, found), mirrorContext);
      for (const entry of repair.adopted) await ctx.ledger.put(edge, entry);
      ledger = repair.ledger;
      missing = repair.missing;
    }
    const ops = planChanges(
      { source, events, listing: "incremental" },
      () => ledger,
      [edge],
      mirrorContext,
    );
    const writes = createsAndPatches(ops.filter((op): op is WriteOp => op.kind !== "none"));
    if (writes.length === 0) continue;
    await ctx.progress.planned(writes.length);
    const lookFirst = claimIntents(merged.open, writes);
    try {
      await settleIntents(ctx, edge, merged.open, ledger, { full: false, ids: listedIds });
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      ctx.fail(edge.ruleId, err, { calendar: edge.target, failedOp: true });
      continue;
    }
    await opts.writers.get(edge)!.write(writes, {
      lookFirst,
      fromIntent: merged.fromIntent,
      missing,
    });
    written.set(edge, new Set(writes.map((op) => op.sourceEventId)));
  }
  // The full pass reads the ledger from the store: everything written here must be in it.
  await ctx.ledger.flush();
  await ctx.progress.nearestDone(window.end);
  return { listTarget, written };
}

/**
 * The creates and patches of a plan, leaving out every source event that also has a delete
 * (a mirror moving to a new id or target): creating the new one without removing the old
 * would leave the old one without a ledger entry.
 */
function createsAndPatches(writes: readonly WriteOp[]): WriteOp[] {
  const withDelete = new Set(
    writes.filter((op) => op.kind === "delete").map((op) => op.sourceEventId),
  );
  return writes.filter((op) => op.kind !== "delete" && !withDelete.has(op.sourceEventId));
}

/**
 * A listing of `cal` over `window` only, with no cursor: Google answers a windowed listing
 * with a sync token too (its sync guide bounds a full sync with timeMin), but this one is not
 * kept: the full pass's listing, over the whole window, is the one the cursor may move on.
 */
async function listAll(ctx: RunContext, cal: CalendarRef, window: TimeWindow) {
  const listing = await ctx.provider(cal.connectionId).listChanges(cal, null, window);
  const events = new Map<string, SourceEvent>();
  for await (const page of listing.pages) {
    ctx.report.calls.listPages++;
    for (const event of page.events) {
      events.delete(event.id);
      events.set(event.id, event);
    }
  }
  return [...events.values()];
}
