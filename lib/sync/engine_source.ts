/**
 * One source calendar's part of a run: list it once for every edge that reads it, plan each
 * edge with the pure core, let the delete guard stop a rule, apply the writes, and move the
 * shared cursor only when every edge applied everything the listing asked of it.
 */
import { getCursor, saveCursor } from "../db/cursors.ts";
import { countEdgeLedger, readEdgeLedger, readLedgerEntries } from "../db/ledger.ts";
import { LeaseLostError } from "../db/leases.ts";
import { calendarKey } from "./calendar_key.ts";
import { mirrorsOfEdge, repairLedger } from "./drift.ts";
import { edgeFingerprint } from "./edge_fingerprint.ts";
import { checkDeleteGuard, planChanges, tallyOps } from "./plan.ts";
import { MirrorConflictError } from "./provider.ts";
import type { RunContext } from "./run_context.ts";
import { computeWindow, spanWindows, type TimeWindow } from "./time.ts";
import type { CalendarRef, Edge, LedgerEntry, PlannedOp, SourceEvent } from "./types.ts";

export type WriteOp = Exclude<PlannedOp, { kind: "none" }>;

export interface SourceRunOptions {
  /** List in full and compare every mirror with its target (drift repair). */
  full: boolean;
  dryRun: boolean;
  /** Rules whose deletes the user confirmed: the delete guard lets them through once. */
  confirmed: ReadonlySet<string>;
  /** IANA zone of each calendar (by calendarKey) where known; all-day events are placed in it. */
  zones: ReadonlyMap<string, string>;
  targets: TargetScans;
}

/**
 * Syncs every edge reading `source`. Failures are recorded on the rules they concern (see
 * RunContext.fail); a failed read is never taken for an empty calendar. Returns the writes a
 * dry run would make (nothing is written then), else an empty list.
 */
export async function syncSource(
  ctx: RunContext,
  source: CalendarRef,
  edgesOfSource: readonly Edge[],
  opts: SourceRunOptions,
): Promise<WriteOp[]> {
  let edges = edgesOfSource.filter((e) => !ctx.isStopped(e.ruleId));
  if (edges.length === 0) return [];
  // Listings can be long (rate limits): keep the lease fresh even in a run that writes little.
  await ctx.lease?.hold(ctx.deps.clock());
  const sourceKey = calendarKey(source);
  const cursor = opts.dryRun ? null : await getCursor(ctx.kv, ctx.userId, sourceKey);
  const prints = new Map(edges.map((e) => [e, edgeFingerprint(e)]));
  const caughtUp = new Set(cursor?.caughtUp);
  // A preview always lists in full: it must show the whole plan, not the changes since the cursor.
  const listFully = opts.full || opts.dryRun || !cursor ||
    edges.some((e) => !caughtUp.has(prints.get(e)!));

  const window = spanWindows(edges.map((e) => computeWindow(ctx.now, e.settings.window)));
  let listing: { full: boolean; events: SourceEvent[]; token?: string };
  try {
    listing = await readListing(ctx, source, listFully ? null : cursor!.token, window);
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    for (const ruleId of new Set(edges.map((e) => e.ruleId))) {
      ctx.fail(ruleId, err, { calendar: source });
    }
    return [];
  }

  const ledgers = new Map<Edge, ReadonlyMap<string, LedgerEntry>>();
  const complete = new Set<Edge>();
  for (const edge of edges) {
    const read = await readLedgerFor(ctx, edge, listing);
    ledgers.set(edge, read.entries);
    if (read.complete) complete.add(edge);
  }
  const mirrorContext = { now: ctx.now, sourceTimeZone: opts.zones.get(sourceKey) };

  if (listing.full) {
    for (const edge of edges) {
      const ledger = ledgers.get(edge)!;
      // A full reconcile compares every mirror; an edge starting with an empty ledger looks
      // for mirrors a lost ledger (or a crash before its first ledger write) left behind.
      if (!opts.full && (ledger.size > 0 || caughtUp.has(prints.get(edge)!))) continue;
      let found: SourceEvent[];
      try {
        found = await opts.targets.eventsIn(edge.target);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        ctx.fail(edge.ruleId, err, { calendar: edge.target });
        continue;
      }
      const repair = repairLedger(
        edge,
        listing.events,
        ledger,
        mirrorsOfEdge(edge, found),
        mirrorContext,
      );
      ledgers.set(edge, repair.ledger);
      if (!opts.dryRun) {
        for (const entry of repair.adopted) {
          await ctx.ledger.put(edge, entry);
        }
      }
      if (repair.repaired || repair.adopted.length) {
        ctx.log.info("sync: drift found", {
          userId: ctx.userId,
          ruleId: edge.ruleId,
          repaired: repair.repaired,
          adopted: repair.adopted.length,
        });
      }
    }
    edges = edges.filter((e) => !ctx.isStopped(e.ruleId));
  }

  const ops = planChanges(
    { source, events: listing.events, listing: listing.full ? "full" : "incremental" },
    (edge) => ledgers.get(edge)!,
    edges,
    mirrorContext,
  );
  const planned: WriteOp[] = [];
  for (const edge of edges) {
    if (ctx.isStopped(edge.ruleId)) continue;
    const edgeOps = ops.filter((op) =>
      op.ruleId === edge.ruleId && op.direction === edge.direction
    );
    ctx.report.recordNoOps(edgeOps);
    const writes = edgeOps.filter((op): op is WriteOp => op.kind !== "none");
    const removals = tallyOps(writes).removals;
    const { min, percent } = ctx.deps.config.deleteGuard;
    if (removals > min && !opts.confirmed.has(edge.ruleId)) {
      const existingMirrors = complete.has(edge)
        ? ledgers.get(edge)!.size
        : await countEdgeLedger(ctx.kv, ctx.userId, edge);
      const guard = checkDeleteGuard({ deletes: removals, existingMirrors, percent, min });
      if (guard.tripped) {
        ctx.trip(edge.ruleId, guard.reason);
        if (opts.dryRun) planned.push(...writes);
        continue;
      }
    }
    if (opts.dryRun) planned.push(...writes);
    else await applyEdgeOps(ctx, edge, writes);
  }

  if (opts.dryRun) return planned;
  // The cursor may move only once the ledger holds every write made for this listing.
  await ctx.ledger.flush();
  if (listing.token) {
    // A rule stopped by the guard simply drops out of the cursor (it needs a full listing once
    // confirmed); a rule that failed keeps the cursor where it was, so the next run sees these
    // changes again and the edges that did apply them find nothing left to write.
    const failed = edges.some((e) => {
      const verdict = ctx.verdictOf(e.ruleId);
      return verdict !== undefined &&
        (verdict === "failed" || verdict.status !== "needs_confirmation");
    });
    if (!failed) {
      const next = edges.filter((e) => !ctx.isStopped(e.ruleId)).map((e) => prints.get(e)!).sort();
      const unchanged = cursor?.token === listing.token &&
        cursor.caughtUp.length === next.length && next.every((p) => caughtUp.has(p));
      if (!unchanged) {
        await saveCursor(
          ctx.fence,
          ctx.userId,
          sourceKey,
          { token: listing.token, caughtUp: next },
          ctx.now,
        );
      }
    }
  }
  return planned;
}

/** More changes than this and reading an edge's whole ledger is cheaper than keyed reads. */
const KEYED_LEDGER_READS_UP_TO = 200;

/**
 * The ledger entries planning needs: all of them after a full listing; after an incremental
 * one, only those of the listed events (a no-change run reads none), unless there are many, or
 * a cancelled event with no entry and no series of its own may be a whole series, whose
 * instances' entries are found only in the whole ledger.
 */
async function readLedgerFor(
  ctx: RunContext,
  edge: Edge,
  listing: { full: boolean; events: readonly SourceEvent[] },
): Promise<{ entries: ReadonlyMap<string, LedgerEntry>; complete: boolean }> {
  const whole = async () => ({
    entries: await readEdgeLedger(ctx.kv, ctx.userId, edge),
    complete: true,
  });
  if (listing.full || listing.events.length > KEYED_LEDGER_READS_UP_TO) return await whole();
  const ids = listing.events.map((e) => e.id);
  const entries = await readLedgerEntries(ctx.kv, ctx.userId, edge, ids);
  const maybeSeries = listing.events.some((e) =>
    e.status === "cancelled" && !e.recurringEventId && !entries.has(e.id)
  );
  return maybeSeries ? await whole() : { entries, complete: false };
}

/**
 * Reads a whole listing. Change sets are what happened since the last run and a full listing
 * is bounded by the rule windows, so holding one in memory is cheap; an event listed twice
 * counts as its last version.
 */
async function readListing(
  ctx: RunContext,
  cal: CalendarRef,
  cursor: string | null,
  window: TimeWindow,
): Promise<{ full: boolean; events: SourceEvent[]; token?: string }> {
  const listing = await ctx.provider(cal.connectionId).listChanges(cal, cursor, window);
  const events = new Map<string, SourceEvent>();
  let token: string | undefined;
  for await (const page of listing.pages) {
    ctx.report.calls.listPages++;
    for (const event of page.events) {
      events.delete(event.id);
      events.set(event.id, event);
    }
    for (const item of page.unreadable ?? []) {
      ctx.report.recordProblem({
        calendar: calendarKey(cal),
        error: "UnreadableEvent",
        message: item.id ? `event ${item.id}: ${item.problem}` : item.problem,
      });
    }
    token = page.cursor ?? token;
  }
  return { full: listing.full, events: [...events.values()], ...(token ? { token } : {}) };
}

/** Target listings of one run, each read at most once however many edges write there. */
export interface TargetScans {
  eventsIn(target: CalendarRef): Promise<SourceEvent[]>;
}

/**
 * Lists each target in full over the span of the windows of the edges writing into it, so
 * every mirror the edges want is inside it.
 */
export function createTargetScans(ctx: RunContext, edges: readonly Edge[]): TargetScans {
  const scans = new Map<string, Promise<SourceEvent[]>>();
  return {
    eventsIn(target) {
      const key = calendarKey(target);
      let scan = scans.get(key);
      if (!scan) {
        const into = edges.filter((e) => calendarKey(e.target) === key);
        const window = spanWindows(into.map((e) => computeWindow(ctx.now, e.settings.window)));
        scan = readListing(ctx, target, null, window).then((l) => l.events);
        scans.set(key, scan);
      }
      return scan;
    },
  };
}

/**
 * Applies one edge's writes, `concurrency` source events at a time; the ops of one source event
 * (a move is a delete then a create of the same ledger key) run in order. Each ledger write
 * follows its calendar write and is fenced by the lease. A mirror id taken by a user's own
 * event fails that event only; any other failure stops the rule for this run.
 */
async function applyEdgeOps(ctx: RunContext, edge: Edge, writes: readonly WriteOp[]) {
  const units: WriteOp[][] = [];
  for (const op of writes) {
    const last = units.at(-1);
    if (last && last[0].sourceEventId === op.sourceEventId) last.push(op);
    else units.push([op]);
  }
  await ctx.pool(units, async (unit) => {
    for (const op of unit) {
      if (ctx.isStopped(edge.ruleId)) return;
      await ctx.fence.hold(ctx.deps.clock());
      try {
        await applyOp(ctx, edge, op);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        const calendar = op.entry.target;
        if (err instanceof MirrorConflictError) {
          ctx.report.recordError(err, { ruleId: edge.ruleId, calendar, failedOp: true });
        } else ctx.fail(edge.ruleId, err, { calendar, failedOp: true });
        return;
      }
    }
  });
}

async function applyOp(ctx: RunContext, edge: Edge, op: WriteOp): Promise<void> {
  const target = op.entry.target;
  const provider = ctx.provider(target.connectionId);
  if (op.kind === "delete") {
    ctx.report.calls.deleteMirror++;
    await provider.deleteMirror(target, op.entry.mirrorId);
    ctx.markDeleted(target, op.entry.mirrorId);
    await ctx.ledger.delete(edge, op.sourceEventId);
  } else {
    ctx.report.calls.putMirror++;
    await provider.putMirror(target, op.entry.mirrorId, op.mirror, {
      existing: op.kind === "patch",
    });
    await ctx.ledger.put(edge, op.entry);
  }
  ctx.report.recordApplied(op);
}
