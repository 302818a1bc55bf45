/**
 * The sync engine's imperative shell: the only sync code that awaits I/O. One run of a user:
 *
 *   lease → pending mirror removals → for each source calendar feeding an enabled edge: one
 *   listing (engine_source.ts) → plan per edge (pure core) → delete guard → writes, each
 *   recorded in the ledger once it succeeded (fenced, batched) → cursor → (full reconcile:
 *   orphans) → rule statuses → history record → release the lease, or run once more if a
 *   trigger arrived meanwhile.
 *
 * Every write is idempotent (deterministic mirror ids, deletes of gone events are done), so a
 * crash anywhere re-runs from the old cursor and converges with no duplicate and nothing lost.
 */
import { sealTitles } from "../db/history_titles.ts";
import { monotonicFactory } from "ulid";
import { isWritable, listCalendars, type StoredCalendar } from "../db/calendars.ts";
import { completeEdgeRemoval, listEdgeRemovals, listGroups, setGroupStatus } from "../db/groups.ts";
import { adoptedLedgerTarget, updateGroup } from "../db/group_changes.ts";
import { listConnections } from "../db/connections.ts";
import { dropCursors } from "../db/cursors.ts";
import { type RunRecord, saveRun } from "../db/history.ts";
import type { SyncTrigger } from "../model/sync_reasons.ts";
import { listLedger, moveEdgeLedger } from "../db/ledger.ts";
import { clearRuleFailures, recordRuleFailure } from "../db/rule_failures.ts";
import { acquireLease, acquireLeaseWaiting, type Lease } from "../db/leases.ts";
import {
  completeMirrorRemoval,
  listMirrorRemovals,
  listReleasedRuleIds,
  listRules,
  setRuleStatus,
  targetsOf,
  updateRule,
} from "../db/rules.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import {
  purgeMirrors,
  removeDueRuleMirrors,
  removeEdgeMirrorsNow,
  removeOrphans,
} from "./engine_cleanup.ts";
import { createTargetScans, syncSource } from "./engine_source.ts";
import { type EdgeOwner, groupOwner, ruleOwner } from "../model/edge_owner.ts";
import type { Group } from "../model/group.ts";
import type { Rule, RuleStatus } from "../model/rule.ts";
import { RunContext, type RunMode, type SyncDeps } from "./run_context.ts";
import { RunReport } from "./run_report.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, WriteOp } from "../model/events.ts";

export type { SyncConfig, SyncDeps } from "./run_context.ts";

const DEFAULT_LEASE_TTL_MS = 60_000;
const defaultNewId = monotonicFactory();
const newId = (deps: SyncDeps) => (deps.newId ?? defaultNewId)();

export interface SyncOptions extends SyncDeps {
  trigger: SyncTrigger;
  /** Sync only the sources these rules or groups read (every edge reading them takes part). */
  ruleIds?: readonly string[];
  /** Plan without writing anything (no calendar, ledger, cursor, status or history write). */
  dryRun?: boolean;
  /**
   * Full reconcile: list every source in full, compare every mirror with its target and
   * restore what was deleted or edited by hand, remove orphans, and retry broken rules.
   */
  full?: boolean;
  /** Rules whose deletes the user confirmed after the delete guard stopped them (once). */
  confirmRuleIds?: readonly string[];
  /**
   * Dry runs only: plan as if this rule were stored (in place of a stored rule with its id),
   * so a rule can be previewed before it is saved.
   */
  draft?: Rule | Group;
}

export type RunSummary =
  /** Another run holds the user's lease; it runs once more when done, covering this trigger. */
  | { status: "coalesced" }
  | {
    status: "completed";
    run: RunRecord;
    /** Runs made afterwards for triggers that arrived meanwhile (coalesced into one each). */
    followUps: RunRecord[];
  }
  | { status: "planned"; run: RunRecord; planned: WriteOp[] };

/**
 * Syncs one user's rules (see the module comment for the flow) and returns what it did. A run
 * that loses its lease stops at once and throws LeaseLostError, having written its history
 * record; every other failure is recorded per rule and the run carries on with the others.
 */
export async function syncUser(opts: SyncOptions): Promise<RunSummary> {
  if (opts.dryRun) {
    const { record, planned } = await runSync(opts, { kind: "dry_run" });
    return { status: "planned", run: record, planned };
  }
  if (opts.draft) throw new Error("a draft rule can only be planned in a dry run");
  const lease = await acquireLease(opts.kv, opts.userId, {
    owner: newId(opts),
    now: opts.clock(),
    ttlMs: opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
  });
  if (!lease) return { status: "coalesced" };
  const { result, followUps } = await holdLease(
    opts,
    lease,
    () => runSync(opts, { kind: "live", lease }),
  );
  await afterRun(opts);
  return { status: "completed", run: result.record, followUps };
}

/**
 * Runs `first` under `lease`, then one more plain run for each follow-up that was requested
 * meanwhile, then releases the lease. On an error the lease is given up (not released with a
 * follow-up consumed), so the next trigger runs normally.
 */
async function holdLease<T>(
  deps: SyncDeps,
  lease: Lease,
  first: () => Promise<T>,
): Promise<{ result: T; followUps: RunRecord[] }> {
  let released = false;
  // A write can wait in the request budget for up to a minute (a first sync of more blocks
  // than the budget allows per minute), longer than a renewal before each write covers: keep
  // the lease fresh on a timer while the run lasts. A lost lease shows at the next fenced write.
  const ttlMs = deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const keepAlive = setInterval(() => {
    lease.hold(deps.clock()).catch((err) =>
      deps.log.warn("sync: lease renewal failed", { userId: deps.userId, err })
    );
  }, ttlMs / 4);
  try {
    const result = await first();
    const followUps: RunRecord[] = [];
    while ((await lease.releaseOrTakeFollowUp()) === "follow_up") {
      // A plain incremental run of every rule: a confirmation or a full reconcile asked of the
      // first run is not repeated.
      const plain: SyncOptions = { ...withoutRunOptions(deps), trigger: "follow_up" };
      followUps.push((await runSync(plain, { kind: "live", lease })).record);
    }
    released = true;
    return { result, followUps };
  } finally {
    clearInterval(keepAlive);
    if (!released) await lease.abandon();
  }
}

function withoutRunOptions(deps: SyncDeps | SyncOptions): SyncDeps {
  const { ruleIds: _r, dryRun: _d, full: _f, confirmRuleIds: _c, ...rest } = deps as SyncOptions;
  return rest;
}

/** Whether a rule or group takes part in a run (see SyncOptions for broken and confirmed ones). */
function isActive(
  owner: EdgeOwner,
  opts: { full: boolean; confirmed: ReadonlySet<string> },
): boolean {
  if (!owner.enabled) return false;
  if (owner.status === "needs_confirmation") return opts.confirmed.has(owner.id);
  if (owner.status === "broken") return opts.full || opts.confirmed.has(owner.id);
  return true;
}

/**
 * What of `owner` can run while some connections need reconnecting: a rule using one sits
 * out; a group keeps its edges between members still reachable, so one expired account does
 * not stop the rest of a family's calendars from blocking each other. Undefined: nothing.
 */
function runnablePart(owner: EdgeOwner, broken: ReadonlySet<string>): EdgeOwner | undefined {
  if (!usesAny(owner, broken)) return owner;
  if (owner.kind !== "group") return undefined;
  const edges = owner.edges.filter((e) =>
    !broken.has(e.source.connectionId) && !broken.has(e.target.connectionId)
  );
  return edges.length ? { ...owner, edges } : undefined;
}

function usesAny(owner: EdgeOwner, connectionIds: ReadonlySet<string>): boolean {
  return owner.calendars.some((c) => connectionIds.has(c.connectionId));
}

const edgeKey = (e: Edge) => `${e.ruleId}/${e.direction}`;

/**
 * The user's rules and groups as the engine sees them (a draft in place of its stored self).
 * A group writes into the members the calendar list says busysync may write to; the others
 * (read-only calendars) only feed it.
 */
async function readOwners(
  kv: Deno.Kv,
  userId: string,
  opts: Pick<SyncOptions, "draft"> & { calendars?: readonly StoredCalendar[] },
) {
  const [rules, groups, calendars] = await Promise.all([
    listRules(kv, userId),
    listGroups(kv, userId),
    opts.calendars ?? listCalendars(kv, userId),
  ]);
  const roles = new Map(calendars.map((c) => [
    calendarKey({ connectionId: c.connectionId, calendarId: c.id }),
    c.accessRole,
  ]));
  const writable = (ref: CalendarRef) => {
    const role = roles.get(calendarKey(ref));
    return role === undefined || isWritable(role);
  };
  const draft = opts.draft;
  const owners: EdgeOwner[] = [
    ...rules.map((e) => e.rule).filter((r) => r.id !== draft?.id).map(ruleOwner),
    ...groups.map((e) => e.group).filter((g) => g.id !== draft?.id)
      .map((g) => groupOwner(g, writable)),
  ];
  if (draft) owners.push("source" in draft ? ruleOwner(draft) : groupOwner(draft, writable));
  return { owners, groups: groups.map((e) => e.group), calendars };
}

/** One run: everything between taking the lease and releasing it. */
function runSync(
  opts: SyncOptions,
  mode: RunMode,
): Promise<{ record: RunRecord; planned: WriteOp[] }> {
  const report = new RunReport(newId(opts), opts.clock());
  // Every line written during the run names it, whoever writes it.
  return opts.log.within({ runId: report.runId }, () => runReported(opts, mode, report));
}

async function runReported(
  opts: SyncOptions,
  mode: RunMode,
  report: RunReport,
): Promise<{ record: RunRecord; planned: WriteOp[] }> {
  const { kv, userId } = opts;
  const dryRun = mode.kind === "dry_run";
  const full = opts.full ?? false;
  const confirmed = new Set(opts.confirmRuleIds);
  const needsReconnect = new Map(
    (await listConnections(kv, userId)).filter((c) => c.status !== "active")
      .map((c) => [c.id, c.statusReason ?? "the connected Google account must be connected again"]),
  );
  const { owners, groups, calendars } = await readOwners(kv, userId, opts);
  const broken = new Set(needsReconnect.keys());
  const active = owners.filter((o) => isActive(o, { full, confirmed }))
    .map((o) => runnablePart(o, broken)).filter((o) => o !== undefined);
  const ctx = new RunContext(opts, mode, report, opts.clock(), active);
  const planned: WriteOp[] = [];
  let shown: EdgeOwner[] = [];
  try {
    if (!dryRun) {
      await takeOverAdoptedLedgers(ctx, groups.filter((g) => active.some((o) => o.id === g.id)));
      await removeDueRuleMirrors(ctx);
      for (const removal of await listEdgeRemovals(kv, userId)) {
        await removeEdgeMirrorsNow(ctx, removal);
      }
    }
    const selected = opts.ruleIds && new Set(opts.ruleIds);
    const sources = new Map<string, { source: CalendarRef; edges: Edge[] }>();
    for (const edge of active.flatMap((o) => o.edges)) {
      const key = calendarKey(edge.source);
      if (!sources.has(key)) sources.set(key, { source: edge.source, edges: [] });
      sources.get(key)!.edges.push(edge);
    }
    if (selected) {
      for (const [key, group] of sources) {
        if (!group.edges.some((e) => selected.has(e.ruleId))) sources.delete(key);
      }
    }
    const zones = new Map(
      calendars.map((c) => [
        calendarKey({ connectionId: c.connectionId, calendarId: c.id }),
        c.timeZone,
      ]),
    );
    const synced = [...sources.values()].flatMap((g) => g.edges);
    // Rules and groups of a connection that needs reconnecting sit out (a group: that
    // connection's members); they say so.
    const waiting = owners.filter((o) => o.enabled && usesAny(o, broken));
    const waitingIds = new Set(waiting.map((o) => o.id));
    const targets = createTargetScans(ctx, synced);
    for (const { source, edges: ofSource } of sources.values()) {
      planned.push(
        ...await syncSource(ctx, source, ofSource, { full, dryRun, confirmed, zones, targets }),
      );
    }
    const listed = new Set(synced.map(edgeKey));
    const touched = active.filter((o) => o.edges.some((e) => listed.has(edgeKey(e))));
    const whole = new Set(
      touched.filter((o) => o.edges.every((e) => listed.has(edgeKey(e)))).map((o) => o.id),
    );
    if (full && !dryRun) {
      await removeOrphans(ctx, {
        owners: ownersByMarkerId(owners),
        // Orphans are judged only for owners whose every edge this run listed and applied (a
        // group running without a member to reconnect has blocks this run cannot see).
        complete: new Set(
          [...whole].filter((id) => !ctx.isStopped(id) && !waitingIds.has(id)),
        ),
        released: await listReleasedRuleIds(kv, userId),
        targets: uniqueCalendars(synced.map((e) => e.target)),
        scans: targets,
      });
    }
    if (!dryRun) {
      for (const owner of touched) {
        // An owner only partly synced (ruleIds chose one of its sources, or a group goes on
        // without a member to reconnect) keeps its status unless something went wrong with it.
        const wholeHere = whole.has(owner.id) && !waitingIds.has(owner.id);
        if (wholeHere || ctx.verdictOf(owner.id) !== undefined) {
          await applyVerdict(ctx, owner);
        }
      }
      for (const owner of waiting) {
        const connection = owner.calendars.find((c) => needsReconnect.has(c.connectionId))!;
        const reason = needsReconnect.get(connection.connectionId)! +
          (active.some((o) => o.id === owner.id)
            ? " Its other calendars keep blocking each other meanwhile."
            : "");
        if (owner.status !== "paused" || owner.statusReason !== reason) {
          await setStatus(ctx, owner, "paused", reason);
        }
      }
    }
    const ids = new Set([...touched, ...waiting].map((o) => o.id));
    // A dry run changed no status (and its draft is not stored): what it read stands.
    const after = dryRun ? owners : (await readOwners(kv, userId, { calendars })).owners;
    shown = after.filter((o) => ids.has(o.id));
  } catch (err) {
    // Every failure lands in history: a lost lease stops the run by design; anything else is
    // a fault of busysync or its store, recorded before it propagates.
    report.recordError(err);
    await ctx.progress.finish();
    await finishRun(opts, report, { owners: active, dryRun, full, stopped: true });
    throw err;
  }
  await ctx.progress.finish();
  const record = await finishRun(opts, report, {
    owners: shown,
    dryRun,
    full,
    stopped: false,
  });
  return { record, planned };
}

/** Every marker rule id the user's mirrors may carry, with the rule or group it belongs to. */
function ownersByMarkerId(owners: readonly EdgeOwner[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const owner of owners) {
    out.set(owner.id, owner.id);
    for (const alias of owner.aliases) out.set(alias, owner.id);
  }
  return out;
}

/**
 * Moves the ledger of each edge a group adopted from a rule to the group's edge of that pair,
 * before the group plans: its mirrors are then patched where they are, never made again. Once
 * moved, each check is one empty list.
 */
async function takeOverAdoptedLedgers(ctx: RunContext, groups: readonly Group[]): Promise<void> {
  for (const group of groups) {
    for (const edge of group.adopted) {
      const from = { ruleId: edge.ruleId, direction: edge.direction };
      await moveEdgeLedger(
        ctx.kv,
        ctx.fence,
        ctx.userId,
        from,
        adoptedLedgerTarget(group.id, edge),
      );
    }
  }
}

/** Sets a rule's or group's status, fenced by the run's lease. */
async function setStatus(
  ctx: RunContext,
  owner: EdgeOwner,
  status: RuleStatus,
  reason?: string,
): Promise<void> {
  const set = owner.kind === "group" ? setGroupStatus : setRuleStatus;
  await set(ctx.kv, ctx.fence, ctx.userId, owner.id, status, reason);
}

/** Runs in a row that failed a rule before its status says "failing". */
const FAILING_AFTER_RUNS = 3;

/**
 * Sets the rule's status from its verdict: ok when nothing stopped it. A failure that only
 * stopped the rule for this run keeps its status, until the same happened FAILING_AFTER_RUNS
 * runs in a row: then it is "failing", with the cause in words (and an incident).
 */
async function applyVerdict(ctx: RunContext, rule: EdgeOwner): Promise<void> {
  const verdict = ctx.verdictOf(rule.id);
  if (verdict === "failed") {
    const { streak, since } = await recordRuleFailure(
      ctx.kv,
      ctx.fence,
      ctx.userId,
      rule.id,
      ctx.now,
    );
    // A status that already asks something of the person says more than "failing" would.
    if (streak < FAILING_AFTER_RUNS || (rule.status !== "ok" && rule.status !== "failing")) return;
    const reason = failingReason(ctx.failureOf(rule.id), streak, since);
    await setStatus(ctx, rule, "failing", reason);
    return;
  }
  await clearRuleFailures(ctx.kv, ctx.fence, ctx.userId, rule.id);
  const next = verdict ?? { status: "ok" as const, reason: undefined };
  if (rule.status === next.status && rule.statusReason === next.reason) return;
  await setStatus(ctx, rule, next.status, next.reason);
}

/** Why a rule is failing, for the person: what kept going wrong and what to expect. */
function failingReason(err: unknown, streak: number, since: string): string {
  const cause = err instanceof Error ? err.message : String(err ?? "an unknown error");
  return `The last ${streak} syncs (since ${since.slice(0, 16).replace("T", " ")} UTC) could ` +
    `not apply this rule: ${cause}. busysync tries again at every sync, and the busy blocks ` +
    `already made stay as they are; if this does not clear up by itself, the cause above is ` +
    `what needs fixing.`;
}

async function finishRun(
  opts: SyncOptions,
  report: RunReport,
  run: {
    owners: readonly EdgeOwner[];
    dryRun: boolean;
    full: boolean;
    stopped: boolean;
  },
): Promise<RunRecord> {
  const { record, actions } = report.finish({
    userId: opts.userId,
    trigger: opts.trigger,
    endedAt: opts.clock(),
    dryRun: run.dryRun,
    full: run.full,
    stopped: run.stopped,
    owners: run.owners,
  });
  if (!run.dryRun) {
    const sealed = await sealTitles(opts.keyring, opts.userId, record.id, actions);
    await saveRun(opts.kv, record, sealed, {
      maxRuns: opts.config.historyMaxRuns,
      maxDays: opts.config.historyMaxDays,
    });
  }
  opts.log.info("sync: run finished", {
    userId: opts.userId,
    runId: record.id,
    trigger: record.trigger,
    outcome: record.outcome,
    apiCalls: record.apiCalls,
  });
  return record;
}

function uniqueCalendars(cals: readonly CalendarRef[]): CalendarRef[] {
  return [...new Map(cals.map((c) => [calendarKey(c), c])).values()];
}

/** How long a user-requested operation waits for a running sync to finish; default 30 s. */
export interface WaitOptions {
  waitMs?: number;
}

/**
 * Removes the mirrors of rules deleted or disabled with "remove its mirrors" now, instead of
 * at the next run: waits for the user's lease (LeaseHeldError after `waitMs`), then also runs
 * for any trigger that arrived meanwhile. Returns the run's record, whose trigger is what the
 * person did that asked for it (e.g. account_disconnected), remove_mirrors by default.
 */
export async function removeRuleMirrors(
  opts: SyncDeps & WaitOptions,
  trigger: SyncTrigger = "remove_mirrors",
): Promise<RunRecord> {
  return await maintain(opts, trigger, async (ctx) => {
    await removeDueRuleMirrors(ctx);
    for (const removal of await listEdgeRemovals(opts.kv, opts.userId)) {
      await removeEdgeMirrorsNow(ctx, removal);
    }
  });
}

/**
 * "Remove every busysync event of this user", for leaving cleanly: disables every rule (so
 * nothing comes back), deletes every busysync mirror in every calendar the user's rules, ledger
 * or pending removals write into, and forgets the ledger and cursors. Waits for the lease like
 * removeRuleMirrors. Returns the run's record (trigger purge); calendars that failed are in
 * its errors and can be purged again.
 */
export async function purgeUser(opts: SyncDeps & WaitOptions): Promise<RunRecord> {
  const { kv, userId } = opts;
  return await maintain(opts, "purge", async (ctx) => {
    const rules = (await listRules(kv, userId)).map((e) => e.rule);
    for (const rule of rules) {
      if (rule.enabled) {
        await updateRule(kv, userId, rule.id, { enabled: false }, { now: opts.clock() });
      }
    }
    const groups = (await listGroups(kv, userId)).map((e) => e.group);
    for (const group of groups) {
      if (group.enabled) {
        await updateGroup(kv, userId, group.id, { enabled: false }, { now: opts.clock() });
      }
    }
    const removals = await listMirrorRemovals(kv, userId);
    const targets: CalendarRef[] = rules.flatMap(targetsOf);
    for (const group of groups) targets.push(...group.members.map((m) => m.calendar));
    for (const removal of await listEdgeRemovals(kv, userId)) {
      targets.push(removal.target);
      await completeEdgeRemoval(ctx.fence, userId, removal);
    }
    for await (const { entry } of listLedger(kv, userId)) targets.push(entry.target);
    for (const removal of removals) targets.push(...removal.targets);
    await purgeMirrors(ctx, uniqueCalendars(targets));
    await dropCursors(kv, ctx.fence, userId);
    for (const removal of removals) await completeMirrorRemoval(ctx.fence, userId, removal);
  });
}

/**
 * Runs a one-off operation a user asked for under the user's lease (waiting for it), with its
 * own history record, failures included.
 */
async function maintain(
  opts: SyncDeps & WaitOptions,
  trigger: SyncTrigger,
  body: (ctx: RunContext) => Promise<void>,
): Promise<RunRecord> {
  const lease = await acquireLeaseWaiting(opts.kv, opts.userId, {
    owner: newId(opts),
    ttlMs: opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
    clock: opts.clock,
    waitMs: opts.waitMs ?? 30_000,
  });
  const { result } = await holdLease(opts, lease, () => {
    const report = new RunReport(newId(opts), opts.clock());
    const run = { owners: [], dryRun: false, full: false };
    return opts.log.within({ runId: report.runId }, async () => {
      try {
        await body(new RunContext(opts, { kind: "live", lease }, report, opts.clock(), []));
      } catch (err) {
        report.recordError(err);
        await finishRun({ ...opts, trigger }, report, { ...run, stopped: true });
        throw err;
      }
      return await finishRun({ ...opts, trigger }, report, { ...run, stopped: false });
    });
  });
  await afterRun(opts);
  return result;
}

/** Runs the caller's after-run hook; its failure is logged, never the run's failure. */
async function afterRun(deps: SyncDeps): Promise<void> {
  try {
    await deps.afterRun?.();
  } catch (err) {
    deps.log.error("sync: after-run hook failed", { userId: deps.userId, err });
  }
}
