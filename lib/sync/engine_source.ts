/**
 * One source calendar's part of a run: list it once for every edge that reads it, plan each
 * edge with the pure core a page at a time and write that page's creates and patches before the
 * next is handled, let the delete guard weigh the removals once the listing is complete, and
 * move the shared cursor only when every edge applied everything the listing asked of it.
 *
 * A run holds one page of the listing (its events, mirrors and planned writes) at a time; across
 * pages it keeps per edge the ledger (an id and a hash per mirror), the ids listed so far and
 * the entries it planned. An incremental listing is read whole first: it is what changed since
 * the last run, and a touched series needs all of it (engine_series.ts).
 */
import { isReadable } from "../db/calendars.ts";
import { getCursor, saveCursor } from "../db/cursors.ts";
import { countEdgeLedger, readEdgeLedger, readLedgerEntries } from "../db/ledger.ts";
import { LeaseLostError } from "../db/leases.ts";
import { listIntents, type WriteIntent } from "../db/write_intents.ts";
import { listTouchedSeries, type SeriesNow, vanishedInstances } from "./engine_series.ts";
import { claimIntents, mergeIntents, settleIntents } from "./engine_intents.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { DriftRepair } from "./drift.ts";
import { EdgeWriter } from "./edge_writer.ts";
import { createMirrorIdMemo } from "./marker.ts";
import { edgeFingerprint } from "../model/edge_fingerprint.ts";
import type { TargetCopies } from "./filters.ts";
import { readPages } from "./listing.ts";
import type { MirrorContext } from "./mirror.ts";
import type { TargetScans } from "./target_scan.ts";
import { checkDeleteGuard, EdgePlanner, tallyOps } from "./plan.ts";
import { CalendarNotFoundError, type ChangeListing, FreeBusyOnlyError } from "./provider.ts";
import type { RunContext } from "./run_context.ts";
import { computeWindow, spanWindows } from "../model/time_window.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, LedgerEntry, SourceEvent, WriteOp } from "../model/events.ts";
import { mirrorNearestDays, type NearestPass, NO_NEAREST_PASS } from "./engine_nearest.ts";

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

/** One edge's state through the listing of its source. */
interface EdgeRun {
  edge: Edge;
  /** The ledger as planning sees it: stored entries, intents that stand for a mirror, drift. */
  ledger: Map<string, LedgerEntry>;
  /** Whether `ledger` holds the edge's every entry (else only those of the listed events). */
  complete: boolean;
  planner: EdgePlanner;
  writer: EdgeWriter;
  /** Source events whose ledger entry is an unconfirmed intent. */
  fromIntent: ReadonlySet<string>;
  /** Intents no write claimed yet, settled once the listing is complete. */
  open: Map<string, WriteIntent>;
  /** Set when the run compares the edge's mirrors with its target's listing. */
  repair?: DriftRepair;
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
  const edges = edgesOfSource.filter((e) => !ctx.isStopped(e.ruleId));
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
  const writers = new Map(edges.map((e) => [e, new EdgeWriter(ctx, e)]));

  // A rule that is not caught up gets its next days mirrored before the whole window.
  const nearest = listFully && !opts.dryRun
    ? await mirrorNearestDays(ctx, source, edges.filter((e) => !caughtUp.has(prints.get(e)!)), {
      zones: opts.zones,
      writers,
    })
    : NO_NEAREST_PASS;

  const window = spanWindows(edges.map((e) => computeWindow(ctx.now, e.settings.window)));
  // A full reconcile lists these edges' targets too: started now, those listings overlap the
  // source's instead of following it (each target is listed once per run; a failure is met
  // where the listing is awaited below).
  if (opts.full) { for (const e of edges) opts.targets.scanOf(e.target).catch(() => {}); }
  const failRead = async (err: unknown) => {
    if (err instanceof LeaseLostError) throw err;
    const cause = await explainUnreadable(ctx, source, err);
    for (const ruleId of new Set(edges.map((e) => e.ruleId))) {
      ctx.fail(ruleId, cause, { calendar: source });
    }
  };
  // Filled per target as this run lists it: a target's own copies of meetings keep them from
  // being mirrored there (filters.ts); incremental runs list no targets and go by guest lists.
  const targetCopies = new Map<string, TargetCopies>();
  const mirrorContext: MirrorContext = {
    now: ctx.now,
    sourceTimeZone: opts.zones.get(sourceKey),
    targetCopies,
    // One memo of mirror ids per source: its events' ids are asked for by each step below.
    mirrorIdOf: createMirrorIdMemo(),
  };
  const planned: WriteOp[] = [];
  const pass = { ctx, opts, planned, mirrorContext };

  let listing: ChangeListing;
  try {
    listing = await ctx.provider(source.connectionId)
      .listChanges(source, listFully ? null : cursor!.token, window);
  } catch (err) {
    await failRead(err);
    return [];
  }
  let runs: EdgeRun[];
  let token: string | undefined;
  /** A series the incremental listing touched could not be listed (engine_series.ts). */
  let seriesUnlisted = false;
  if (listing.full) {
    runs = await startFullListing(pass, edges, writers, {
      caughtUp: (e) => caughtUp.has(prints.get(e)!),
      nearest,
      targetCopies,
    });
    try {
      token = (await readPages(ctx, source, listing, (page) => planPage(pass, runs, page))).token;
    } catch (err) {
      // What the pages read so far asked for is written and stays; the removals wait.
      if (!opts.dryRun) await ctx.ledger.flush();
      await failRead(err);
      for (const writer of writers.values()) writer.finish();
      return planned;
    }
  } else {
    // A change set is read whole (the provider already holds all of it): a series it touched
    // is judged from all of it.
    const changed = new Map<string, SourceEvent>();
    try {
      token = (await readPages(ctx, source, listing, (page) => {
        for (const event of page) {
          changed.delete(event.id);
          changed.set(event.id, event);
        }
      })).token;
    } catch (err) {
      await failRead(err);
      return [];
    }
    const events = [...changed.values()];
    // Series edits leave no tombstones for the instances they remove (notes §10): after an
    // incremental listing that touched a series, list what that series holds now.
    let series: SeriesNow | undefined;
    try {
      series = await listTouchedSeries(ctx, source, events, window);
      seriesUnlisted = series?.incomplete ?? false;
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      for (const ruleId of new Set(edges.map((e) => e.ruleId))) {
        ctx.fail(ruleId, err, { calendar: source });
      }
      return [];
    }
    runs = [];
    for (const edge of edges) {
      const read = await readLedgerFor(ctx, edge, events, series !== undefined);
      runs.push(await startEdgeRun(pass, edge, read, writers.get(edge)!, "incremental"));
    }
    if (series) events.push(...vanishedInstances(series, events, runs.map((r) => r.ledger)));
    await planPage(pass, runs, events);
  }

  for (const run of runs) await finishEdgeRun(pass, run, listing);
  for (const writer of writers.values()) writer.finish();
  if (opts.dryRun) return planned;
  // The cursor may move only once the ledger holds every write made for this listing.
  await ctx.ledger.flush();
  if (token) {
    // A rule stopped by the guard, and an edge with writes held back, simply drop out of the
    // cursor (they need a full listing once confirmed, or to find those writes again); a rule
    // that failed, or a touched series that could not be listed, keeps the cursor where it was,
    // so the next run sees these changes again and the edges that did apply them find nothing
    // left to write.
    const failed = seriesUnlisted || edges.some((e) => {
      const verdict = ctx.verdictOf(e.ruleId);
      return verdict !== undefined &&
        (verdict === "failed" || verdict.status !== "needs_confirmation");
    });
    if (!failed) {
      const next = edges.filter((e) => !ctx.isStopped(e.ruleId) && !writers.get(e)!.heldBack)
        .map((e) => prints.get(e)!).sort();
      const unchanged = cursor?.token === token &&
        cursor.caughtUp.length === next.length && next.every((p) => caughtUp.has(p));
      if (!unchanged) {
        await saveCursor(
          ctx.fence,
          ctx.userId,
          sourceKey,
          { token, caughtUp: next },
          ctx.now,
        );
      }
    }
  }
  return planned;
}

/** What every step of one source's listing shares. */
interface SourcePass {
  ctx: RunContext;
  opts: SourceRunOptions;
  /** A dry run's writes, collected instead of made. */
  planned: WriteOp[];
  mirrorContext: MirrorContext;
}

/**
 * Readies the edges for a full listing: each one's whole ledger, and where the run compares
 * mirrors with the target (a full reconcile; an edge starting with an empty ledger, which looks
 * for mirrors a lost ledger or a crash before its first ledger write left behind), the target's
 * listing, awaited before the first page so that its meeting copies count for every edge.
 * An edge whose target cannot be listed fails and is left out.
 */
async function startFullListing(
  pass: SourcePass,
  edges: readonly Edge[],
  writers: ReadonlyMap<Edge, EdgeWriter>,
  known: {
    caughtUp: (edge: Edge) => boolean;
    nearest: NearestPass;
    targetCopies: Map<string, TargetCopies>;
  },
): Promise<EdgeRun[]> {
  const { ctx, opts } = pass;
  const runs: EdgeRun[] = [];
  for (const edge of edges) {
    if (ctx.isStopped(edge.ruleId)) continue;
    const entries = await readEdgeLedger(ctx.kv, ctx.userId, edge);
    const run = await startEdgeRun(
      pass,
      edge,
      { entries, complete: true },
      writers.get(edge)!,
      "full",
    );
    const compare = opts.full || known.nearest.listTarget.has(edge) ||
      (run.ledger.size === 0 && !known.caughtUp(edge));
    if (compare) {
      let scan;
      try {
        scan = await opts.targets.scanOf(edge.target);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        ctx.fail(edge.ruleId, err, { calendar: edge.target });
        continue;
      }
      known.targetCopies.set(calendarKey(edge.target), scan.copies);
      run.repair = new DriftRepair(
        edge,
        run.ledger,
        scan.takeMirrorsOf(edge),
        pass.mirrorContext,
        known.nearest.written.get(edge),
      );
    }
    runs.push(run);
  }
  return runs;
}

async function startEdgeRun(
  pass: SourcePass,
  edge: Edge,
  read: { entries: Map<string, LedgerEntry>; complete: boolean },
  writer: EdgeWriter,
  listing: "full" | "incremental",
): Promise<EdgeRun> {
  const { ctx } = pass;
  const merged = pass.opts.dryRun
    ? { ledger: read.entries, fromIntent: new Set<string>(), open: new Map<string, WriteIntent>() }
    : mergeIntents(edge, read.entries, await listIntents(ctx.kv, ctx.userId, edge));
  return {
    edge,
    ledger: merged.ledger,
    complete: read.complete,
    planner: new EdgePlanner(edge, merged.ledger, pass.mirrorContext, listing),
    writer,
    fromIntent: merged.fromIntent,
    open: merged.open,
  };
}

/**
 * One page of the source listing for every edge: drift found in it repaired (right mirrors
 * adopted into the ledger), its events planned, and its creates, patches and moves written
 * before the next page is handled. An event listed twice in a page counts as its last version.
 */
async function planPage(
  pass: SourcePass,
  runs: readonly EdgeRun[],
  page: readonly SourceEvent[],
): Promise<void> {
  const { ctx, opts } = pass;
  const events = new Map<string, SourceEvent>();
  for (const event of page) {
    events.delete(event.id);
    events.set(event.id, event);
  }
  await ctx.progress.listed(events.size);
  for (const run of runs) {
    if (ctx.isStopped(run.edge.ruleId)) continue;
    if (run.repair) {
      for (const entry of run.repair.page(events.values())) {
        if (!opts.dryRun) await ctx.ledger.put(run.edge, entry);
      }
    }
    const ops = run.planner.plan(events.values());
    ctx.report.recordNoOps(ops);
    ctx.report.recordLeftOut(run.edge.target, ops, events);
    // A dry run writes nothing, so nothing would read what is noted.
    if (!opts.dryRun) ctx.report.noteSources(ops, events);
    const writes = ops.filter((op): op is WriteOp => op.kind !== "none");
    await write(pass, run, writes);
  }
}

async function write(pass: SourcePass, run: EdgeRun, writes: readonly WriteOp[]): Promise<void> {
  if (writes.length === 0) return;
  const { ctx } = pass;
  if (pass.opts.dryRun) {
    pass.planned.push(...writes);
    return;
  }
  await ctx.progress.planned(writes.length);
  await run.writer.write(writes, {
    lookFirst: claimIntents(run.open, writes),
    fromIntent: run.fromIntent,
    missing: run.repair?.missing ?? new Set(),
  });
}

/**
 * After the last page: the drift the listing found is logged, the removals are weighed by the
 * delete guard (new and changed events were written page by page; the guard holds back only
 * removals, and trips on more of them than the creates that replace them), then written, and
 * the intents no write claimed are settled.
 */
async function finishEdgeRun(
  pass: SourcePass,
  run: EdgeRun,
  listing: ChangeListing,
): Promise<void> {
  const { full } = listing;
  const { ctx, opts } = pass;
  const { edge } = run;
  if (run.repair) {
    run.repair.finish();
    const adopted = run.repair.adopted;
    if (run.repair.repaired || adopted) {
      ctx.log.info("sync: drift found", {
        userId: ctx.userId,
        ruleId: edge.ruleId,
        repaired: run.repair.repaired,
        adopted,
      });
    }
  }
  if (ctx.isStopped(edge.ruleId)) return;
  const removals = run.planner.removals();
  // Blocks replaced are not blocks lost: a series moved to a new time deletes the mirrors of
  // its old instances and creates as many, which is no reason to hold the rule.
  const net = Math.max(0, tallyOps(removals).removals - run.planner.creates);
  const { min, percent } = ctx.deps.config.deleteGuard;
  if (listing.sourceEmptied && removals.length > 0 && !opts.confirmed.has(edge.ruleId)) {
    ctx.trip(edge.ruleId, emptiedReason(removals.length, run.ledger.size));
    if (opts.dryRun) pass.planned.push(...removals);
    return;
  }
  if (net > min && !opts.confirmed.has(edge.ruleId)) {
    const existingMirrors = run.complete
      ? run.ledger.size
      : await countEdgeLedger(ctx.kv, ctx.userId, edge);
    const guard = checkDeleteGuard({ deletes: net, existingMirrors, percent, min });
    if (guard.tripped) {
      ctx.trip(edge.ruleId, guard.reason);
      if (opts.dryRun) pass.planned.push(...removals);
      return;
    }
  }
  await write(pass, run, removals);
  if (opts.dryRun) return;
  try {
    await settleIntents(ctx, edge, run.open, run.ledger, { full, ids: run.planner.listed });
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    ctx.fail(edge.ruleId, err, { calendar: edge.target, failedOp: true });
  }
}

/** Why the guard held the removals of a source that came back holding no event. */
function emptiedReason(deletes: number, existingMirrors: number): string {
  return `the source came back with no event at all, so it would delete ${deletes} of ` +
    `${existingMirrors} mirrors; confirm to proceed if it was really emptied`;
}

/** More changes than this and reading an edge's whole ledger is cheaper than keyed reads. */
const KEYED_LEDGER_READS_UP_TO = 200;

/**
 * The ledger entries planning an incremental listing needs: only those of the listed events (a
 * no-change run reads none), unless there are many, a series was touched (the mirrors of its
 * vanished instances are found only in the whole ledger), or a cancelled event with no entry
 * and no series of its own may be a whole series.
 */
async function readLedgerFor(
  ctx: RunContext,
  edge: Edge,
  events: readonly SourceEvent[],
  seriesTouched: boolean,
): Promise<{ entries: Map<string, LedgerEntry>; complete: boolean }> {
  const whole = async () => ({
    entries: await readEdgeLedger(ctx.kv, ctx.userId, edge),
    complete: true,
  });
  if (seriesTouched || events.length > KEYED_LEDGER_READS_UP_TO) return await whole();
  const ids = events.map((e) => e.id);
  const entries = await readLedgerEntries(ctx.kv, ctx.userId, edge, ids);
  const maybeSeries = events.some((e) =>
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

export { createTargetScans, type TargetScans } from "./target_scan.ts";
