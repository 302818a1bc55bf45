/**
 * One source calendar's part of a run: list it once for every edge that reads it, plan each
 * edge with the pure core, let the delete guard stop a rule, apply the writes, and move the
 * shared cursor only when every edge applied everything the listing asked of it.
 */
import { isReadable } from "../db/calendars.ts";
import { getCursor, saveCursor } from "../db/cursors.ts";
import { countEdgeLedger, readEdgeLedger, readLedgerEntries } from "../db/ledger.ts";
import type { AccountWritePause } from "../db/account_limits.ts";
import { LeaseLostError } from "../db/leases.ts";
import { dropIntent, listIntents, recordIntents } from "../db/write_intents.ts";
import { listTouchedSeries, type SeriesNow, vanishedInstances } from "./engine_series.ts";
import { type EdgeIntents, InsertBatches, mergeIntents, settleIntents } from "./engine_intents.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { repairLedger } from "./drift.ts";
import { createMirrorIdMemo } from "./marker.ts";
import { edgeFingerprint } from "../model/edge_fingerprint.ts";
import type { TargetCopies } from "./filters.ts";
import { forEachPage } from "./listing.ts";
import type { TargetScans } from "./target_scan.ts";
import { atGeneration } from "./mirror.ts";
import { checkDeleteGuard, ledgerEntryFor, planChanges, tallyOps } from "./plan.ts";
import {
  AccountWritesRefusedError,
  CalendarNotFoundError,
  FreeBusyOnlyError,
  MirrorConflictError,
  MirrorIdRetiredError,
  type Written,
} from "./provider.ts";
import type { RunContext } from "./run_context.ts";
import { computeWindow, spanWindows, type TimeWindow } from "../model/time_window.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, LedgerEntry, PlannedOp, SourceEvent } from "../model/events.ts";
import { checkWritten, WriteMismatchError } from "./write_check.ts";
import { mirrorNearestDays, NO_NEAREST_PASS, trustWritten } from "./engine_nearest.ts";

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
  if (ctx.mode.kind === "live") await ctx.mode.lease.hold(ctx.deps.clock());
  const sourceKey = calendarKey(source);
  const cursor = opts.dryRun ? null : await getCursor(ctx.kv, ctx.userId, sourceKey);
  const prints = new Map(edges.map((e) => [e, edgeFingerprint(e)]));
  const caughtUp = new Set(cursor?.caughtUp);
  // A preview always lists in full: it must show the whole plan, not the changes since the cursor.
  const listFully = opts.full || opts.dryRun || !cursor ||
    edges.some((e) => !caughtUp.has(prints.get(e)!));

  // A rule that is not caught up gets its next days mirrored before the whole window.
  const nearest = listFully && !opts.dryRun
    ? await mirrorNearestDays(ctx, source, edges.filter((e) => !caughtUp.has(prints.get(e)!)), {
      zones: opts.zones,
      applyEdgeOps,
    })
    : NO_NEAREST_PASS;

  const window = spanWindows(edges.map((e) => computeWindow(ctx.now, e.settings.window)));
  // A full reconcile lists these edges' targets too: started now, those listings overlap the
  // source's instead of following it (each target is listed once per run; a failure is met
  // where the listing is awaited below).
  if (opts.full) { for (const e of edges) opts.targets.scanOf(e.target).catch(() => {}); }
  let listing: { full: boolean; events: SourceEvent[]; token?: string };
  try {
    listing = await readListing(ctx, source, listFully ? null : cursor!.token, window);
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    const cause = await explainUnreadable(ctx, source, err);
    for (const ruleId of new Set(edges.map((e) => e.ruleId))) {
      ctx.fail(ruleId, cause, { calendar: source });
    }
    return [];
  }
  await ctx.progress.listed(listing.events.length);

  // Series edits leave no tombstones for the instances they remove (notes §10): after an
  // incremental listing that touched a series, list what that series holds now.
  let series: SeriesNow | undefined;
  if (!listing.full) {
    try {
      series = await listTouchedSeries(ctx, source, listing.events, window);
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      for (const ruleId of new Set(edges.map((e) => e.ruleId))) {
        ctx.fail(ruleId, err, { calendar: source });
      }
      return [];
    }
  }

  const ledgers = new Map<Edge, ReadonlyMap<string, LedgerEntry>>();
  const complete = new Set<Edge>();
  const intents = new Map<Edge, EdgeIntents>();
  /** Per edge, the source events whose mirror a full listing of the target did not show. */
  const missing = new Map<Edge, ReadonlySet<string>>();
  for (const edge of edges) {
    const read = await readLedgerFor(ctx, edge, listing, series !== undefined);
    if (read.complete) complete.add(edge);
    if (opts.dryRun) {
      ledgers.set(edge, read.entries);
      continue;
    }
    const merged = mergeIntents(edge, read.entries, await listIntents(ctx.kv, ctx.userId, edge));
    ledgers.set(edge, merged.ledger);
    intents.set(edge, merged);
  }
  if (series) listing.events.push(...vanishedInstances(series, listing.events, ledgers.values()));
  // Filled per target as this run lists it: a target's own copies of meetings keep them from
  // being mirrored there (filters.ts); incremental runs list no targets and go by guest lists.
  const targetCopies = new Map<string, TargetCopies>();
  // One memo of mirror ids per source: its events' ids are asked for by each step below.
  const mirrorIdOf = createMirrorIdMemo();
  const mirrorContext = {
    now: ctx.now,
    sourceTimeZone: opts.zones.get(sourceKey),
    targetCopies,
    mirrorIdOf,
  };

  if (listing.full) {
    for (const edge of edges) {
      const ledger = ledgers.get(edge)!;
      // A full reconcile compares every mirror; an edge starting with an empty ledger looks
      // for mirrors a lost ledger (or a crash before its first ledger write) left behind.
      if (
        !opts.full && !nearest.listTarget.has(edge) &&
        (ledger.size > 0 || caughtUp.has(prints.get(edge)!))
      ) continue;
      let scan;
      try {
        scan = await opts.targets.scanOf(edge.target);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        ctx.fail(edge.ruleId, err, { calendar: edge.target });
        continue;
      }
      targetCopies.set(calendarKey(edge.target), scan.copies);
      const repair = repairLedger(
        edge,
        listing.events,
        ledger,
        scan.takeMirrorsOf(edge),
        mirrorContext,
      );
      trustWritten(repair, ledger, nearest.written.get(edge));
      ledgers.set(edge, repair.ledger);
      missing.set(edge, repair.missing);
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
  /** Edges with writes held back (a spent budget, a paused account): they list in full next. */
  const held = new Set<Edge>();
  const listedIds = new Set(listing.events.map((e) => e.id));
  // The plan holds what the writes need (mirror bodies, ledger entries): the event bodies can
  // go now, so they do not stay alive through the writes, which take the longest.
  listing = { ...listing, events: [] };
  for (const edge of edges) {
    if (ctx.isStopped(edge.ruleId)) continue;
    const edgeOps = ops.filter((op) =>
      op.ruleId === edge.ruleId && op.direction === edge.direction
    );
    ctx.report.recordNoOps(edgeOps);
    const writes = edgeOps.filter((op): op is WriteOp => op.kind !== "none");
    // Blocks replaced are not blocks lost: a series moved to a new time deletes the mirrors of
    // its old instances and creates as many, which is no reason to hold the rule.
    const tally = tallyOps(writes);
    const removals = Math.max(0, tally.removals - tally.create);
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
    if (opts.dryRun) {
      planned.push(...writes);
      continue;
    }
    const edgeIntents = intents.get(edge)!;
    let lookFirst: Set<string>;
    try {
      lookFirst = await settleIntents(ctx, edge, edgeIntents.open, writes, ledgers.get(edge)!, {
        full: listing.full,
        ids: listedIds,
      });
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      ctx.fail(edge.ruleId, err, { calendar: edge.target, failedOp: true });
      continue;
    }
    await ctx.progress.planned(writes.length);
    const heldBack = await applyEdgeOps(ctx, edge, writes, {
      lookFirst,
      fromIntent: edgeIntents.fromIntent,
      missing: missing.get(edge) ?? new Set(),
    });
    if (heldBack) held.add(edge);
  }

  if (opts.dryRun) return planned;
  // The cursor may move only once the ledger holds every write made for this listing.
  await ctx.ledger.flush();
  if (listing.token) {
    // A rule stopped by the guard, and an edge with writes held back, simply drop out of the
    // cursor (they need a full listing once confirmed, or to find those writes again); a rule
    // that failed keeps the cursor where it was, so the next run sees these changes again and
    // the edges that did apply them find nothing left to write.
    const failed = edges.some((e) => {
      const verdict = ctx.verdictOf(e.ruleId);
      return verdict !== undefined &&
        (verdict === "failed" || verdict.status !== "needs_confirmation");
    });
    if (!failed) {
      const next = edges.filter((e) => !ctx.isStopped(e.ruleId) && !held.has(e))
        .map((e) => prints.get(e)!).sort();
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
 * one, only those of the listed events (a no-change run reads none), unless there are many, a
 * series was touched (the mirrors of its vanished instances are found only in the whole
 * ledger), or a cancelled event with no entry and no series of its own may be a whole series.
 */
async function readLedgerFor(
  ctx: RunContext,
  edge: Edge,
  listing: { full: boolean; events: readonly SourceEvent[] },
  seriesTouched: boolean,
): Promise<{ entries: ReadonlyMap<string, LedgerEntry>; complete: boolean }> {
  const whole = async () => ({
    entries: await readEdgeLedger(ctx.kv, ctx.userId, edge),
    complete: true,
  });
  if (listing.full || seriesTouched || listing.events.length > KEYED_LEDGER_READS_UP_TO) {
    return await whole();
  }
  const ids = listing.events.map((e) => e.id);
  const entries = await readLedgerEntries(ctx.kv, ctx.userId, edge, ids);
  const maybeSeries = listing.events.some((e) =>
    e.status === "cancelled" && !e.recurringEventId && !entries.has(e.id)
  );
  return maybeSeries ? await whole() : { entries, complete: false };
}

/**
 * A source that answers 404 may be a calendar shared as free/busy only (Google answers events
 * of those with 404 too), which a person can act on; one calendar list call, only on this
 * failure, tells the two apart. When that call fails too, the 404 stands as it was.
 */
async function explainUnreadable(
  ctx: RunContext,
  source: CalendarRef,
  err: unknown,
): Promise<unknown> {
  if (!(err instanceof CalendarNotFoundError)) return err;
  try {
    const calendars = await ctx.provider(source.connectionId).listCalendars(source.connectionId);
    const listed = calendars.find((c) => c.calendarId === source.calendarId);
    return listed && !isReadable(listed.accessRole)
      ? new FreeBusyOnlyError(source, listed.summary)
      : err;
  } catch (listErr) {
    if (listErr instanceof LeaseLostError) throw listErr;
    ctx.log.warn("sync: calendar list for a missing source failed", { error: listErr });
    return err;
  }
}

/**
 * Reads a whole listing. Change sets are what happened since the last run and a full listing
 * is bounded by the rule windows; an event listed twice counts as its last version.
 */
async function readListing(
  ctx: RunContext,
  cal: CalendarRef,
  cursor: string | null,
  window: TimeWindow,
): Promise<{ full: boolean; events: SourceEvent[]; token?: string }> {
  const events = new Map<string, SourceEvent>();
  const read = await forEachPage(ctx, cal, cursor, window, (page) => {
    for (const event of page) {
      events.delete(event.id);
      events.set(event.id, event);
    }
  });
  return { ...read, events: [...events.values()] };
}

export { createTargetScans, type TargetScans } from "./target_scan.ts";

/**
 * Applies one edge's writes, `concurrency` source events at a time; the ops of one source event
 * (a move is a delete then a create of the same ledger key) run in order, and source events
 * whose mirror starts soonest go first, so a short creation budget leaves out the furthest. Each
 * insert follows its budget and intent, each ledger write its calendar write, all fenced by the
 * lease. A mirror id taken by a user's own event fails that event only; a target account whose
 * writes are paused (or get paused now) holds the edge's writes without failing the rule; any
 * other failure stops the rule for this run. Returns true when writes were held back, so the
 * edge lists in full next time and finds them again.
 */
async function applyEdgeOps(
  ctx: RunContext,
  edge: Edge,
  writes: readonly WriteOp[],
  intents: {
    lookFirst: ReadonlySet<string>;
    fromIntent: ReadonlySet<string>;
    /** Mirrors known to be gone from the target: a patch that succeeds brought one back. */
    missing: ReadonlySet<string>;
  },
): Promise<boolean> {
  if (writes.length === 0) return false;
  const account = edge.target.connectionId;
  const paused = await ctx.accounts.pauseOf(account);
  if (paused) {
    recordPaused(ctx, edge, paused);
    return true;
  }
  const units: WriteOp[][] = [];
  for (const op of writes) {
    const last = units.at(-1);
    if (last && last[0].sourceEventId === op.sourceEventId) last.push(op);
    else units.push([op]);
  }
  units.sort((a, b) => createStart(a) - createStart(b));
  const creates = units.flat().filter((op) => op.kind === "create");
  const batches = new InsertBatches(ctx, edge, creates);
  const waiting: WriteOp[] = [];
  let held = false;
  let sent = 0;
  await ctx.pool(units, async (unit) => {
    for (const op of unit) {
      if (ctx.isStopped(edge.ruleId) || held) return;
      await ctx.fence.hold(ctx.deps.clock());
      try {
        if (op.kind === "create") {
          if (!await batches.before(op)) {
            waiting.push(op);
            return;
          }
          sent++;
        }
        await applyOp(ctx, edge, op, {
          lookFirst: intents.lookFirst.has(op.sourceEventId),
          fromIntent: intents.fromIntent.has(op.sourceEventId),
          missing: intents.missing.has(op.sourceEventId),
        });
        await ctx.progress.wrote();
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        const calendar = op.entry.target;
        if (err instanceof AccountWritesRefusedError) {
          if (held) return;
          held = true;
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
  if (waiting.length > 0) {
    const first = Math.min(...waiting.map((op) => createStart([op])));
    ctx.report.recordProblem({
      ruleId: edge.ruleId,
      calendar: calendarKey(edge.target),
      error: "CreationBudgetSpent",
      message: `${waiting.length} busy blocks wait for tomorrow: today's budget of ` +
        `${ctx.deps.config.accountLimits.createsPerDay} new events for this Google account ` +
        `(BUSYSYNC_GOOGLE_CREATES_PER_DAY, kept under Google's Calendar usage limits) is spent. ` +
        `The soonest were made first; the first waiting starts ` +
        `${new Date(first).toISOString().slice(0, 10)}.`,
    });
  }
  return held || waiting.length > 0;
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
