/**
 * Removing mirrors that no rule wants any more: orphans a full reconcile finds in targets (their
 * rule or source is gone, or a lost ledger forgot them), the mirrors of a rule deleted or
 * disabled with "remove its mirrors", and every busysync event of a user who leaves.
 *
 * Only events that are provably busysync's are removed: the marker AND an id derived from it
 * (a user's copy of a mirror carries the marker under a new id and is a real event).
 */
import { listConnections } from "../db/connections.ts";
import { dropCursors } from "../db/cursors.ts";
import type { RemovedOwnerCause } from "../db/history.ts";
import { completeEdgeRemoval, type EdgeRemoval } from "../db/groups.ts";
import { forgetEdgeLedger, forgetLedger, listLedger, readEdgeLedger } from "../db/ledger.ts";
import { LeaseLostError } from "../db/leases.ts";
import { completeMirrorRemoval, type MirrorRemoval } from "../db/rules.ts";
import { claimMirrorRemoval, listDueMirrorRemovals } from "../db/undo_windows.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { deriveMirrorId, type Marker, MARKER_KEYS, readMarker } from "./marker.ts";
import { AccountWritesRefusedError, type Deleted } from "./provider.ts";
import type { RunContext } from "./run_context.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { LedgerEntry, SourceEvent } from "../model/events.ts";
import type { TargetScans } from "./target_scan.ts";

/** The marker of a live busysync mirror, or undefined for anything else. */
function ownMarker(event: Pick<SourceEvent, "id" | "status" | "privateProps">): Marker | undefined {
  if (event.status === "cancelled") return undefined;
  const marker = readMarker(event.privateProps);
  return marker && deriveMirrorId(marker) === event.id ? marker : undefined;
}

/** Lists the live busysync mirrors in `cal` whose `key` property is `value`. */
async function findMirrors(
  ctx: RunContext,
  cal: CalendarRef,
  key: string,
  value: string,
): Promise<{ id: string; marker: Marker }[]> {
  ctx.report.calls.listMarked++;
  const out: { id: string; marker: Marker }[] = [];
  for await (const event of ctx.provider(cal.connectionId).listMarked(cal, key, value)) {
    const marker = ownMarker(event);
    if (marker) out.push({ id: event.id, marker });
  }
  return out;
}

/**
 * Deletes one mirror; failures are the caller's to judge. Into an account whose writes are
 * paused nothing is sent (AccountWritesRefusedError, as Google would answer), and Google's
 * refusal pauses the account for the rest of the run and the runs after it.
 */
async function deleteMirror(ctx: RunContext, cal: CalendarRef, id: string): Promise<Deleted> {
  const pause = await ctx.accounts.pauseOf(cal.connectionId);
  if (pause) {
    throw new AccountWritesRefusedError(
      cal.connectionId,
      `nothing is written into this account until ${pause.until}: ${pause.reason}`,
    );
  }
  ctx.report.calls.deleteMirror++;
  let outcome: Deleted;
  try {
    outcome = await ctx.provider(cal.connectionId).deleteMirror(cal, id);
  } catch (err) {
    if (err instanceof AccountWritesRefusedError) {
      await ctx.accounts.pause(cal.connectionId, err.message);
    }
    throw err;
  }
  ctx.markDeleted(cal, id);
  return outcome;
}

export interface OrphanScope {
  /**
   * Every marker rule id of the user's rules and groups (a group's adopted rules' ids too),
   * with the id of the rule or group it belongs to.
   */
  owners: ReadonlyMap<string, string>;
  /**
   * Rules and groups this run listed and applied in full: their ledger accounts for all their
   * mirrors.
   */
  complete: ReadonlySet<string>;
  /** Marker rule ids deleted with their mirrors kept: their mirrors are left alone. */
  released: ReadonlySet<string>;
  /** The targets to search: those of the rules this run synced. */
  targets: readonly CalendarRef[];
  /** This run's listings of those targets. */
  scans: TargetScans;
}

/**
 * Full reconcile, last step: in each target, deletes the busysync mirrors no ledger entry
 * accounts for, when their rule is unknown (deleted, or lost with the store) or is a rule this
 * run listed and applied in full (its ledger is complete, so a mirror it does not know is
 * stale: from an old source or target, or left by a lost ledger). Mirrors of rules that are
 * paused, broken, disabled, stopped in this run or released stay.
 *
 * The search uses the target listings the reconcile already made (the rules' windows), not a
 * marker search of all time: that costs no extra call, and a stale mirror beyond the window is
 * found once time brings it inside.
 */
export async function removeOrphans(ctx: RunContext, scope: OrphanScope): Promise<void> {
  const known = new Map<string, Set<string>>();
  for await (const { entry } of listLedger(ctx.kv, ctx.userId)) {
    const key = calendarKey(entry.target);
    if (!known.has(key)) known.set(key, new Set());
    known.get(key)!.add(entry.mirrorId);
  }
  for (const target of scope.targets) {
    let marked: ReadonlyMap<string, string>;
    try {
      marked = (await scope.scans.scanOf(target)).marked;
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      ctx.report.recordError(err, { calendar: target });
      continue;
    }
    const ledgered = known.get(calendarKey(target)) ?? new Set();
    const orphans = [...marked].flatMap(([id, markerId]) => {
      const owner = scope.owners.get(markerId);
      const orphan = !ledgered.has(id) && !ctx.wasDeleted(target, id) &&
        !scope.released.has(markerId) && (owner === undefined || scope.complete.has(owner));
      return orphan ? [{ id, marker: { ruleId: owner ?? markerId } }] : [];
    });
    await ctx.pool(orphans, async ({ id, marker }) => {
      await ctx.fence.hold(ctx.deps.clock());
      try {
        const outcome = await deleteMirror(ctx, target, id);
        ctx.report.recordRemoval({
          ruleId: marker.ruleId,
          mirrorId: id,
          target,
          reason: "orphan",
          outcome,
        });
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        ctx.report.recordError(err, { ruleId: marker.ruleId, calendar: target, failedOp: true });
      }
    });
  }
}

/**
 * Deletes the mirrors of ledger entries of `ruleId` and their entries, at most `concurrency` at
 * once; stops at the first failure (recorded) and answers false then, true when all are gone.
 */
async function removeLedgered(
  ctx: RunContext,
  ruleId: string,
  entries: readonly { direction: string; entry: LedgerEntry }[],
  reason: string,
): Promise<boolean> {
  let failed = false;
  await ctx.pool(entries, async ({ direction, entry }) => {
    if (failed) return;
    await ctx.fence.hold(ctx.deps.clock());
    let outcome: Deleted;
    try {
      outcome = await deleteMirror(ctx, entry.target, entry.mirrorId);
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      ctx.report.recordError(err, { ruleId, calendar: entry.target, failedOp: true });
      failed = true;
      return;
    }
    await ctx.ledger.delete({ ruleId, direction }, entry.sourceEventId);
    ctx.report.recordRemoval(
      { ruleId, mirrorId: entry.mirrorId, target: entry.target, reason, outcome },
      { direction, sourceEventId: entry.sourceEventId },
    );
  });
  await ctx.ledger.flush();
  return !failed;
}

/**
 * Removes every mirror of a rule deleted or disabled with "remove its mirrors": those its
 * ledger knows, then any left in its targets that the ledger forgot; then its ledger and the
 * request. A failure leaves the request pending for the next run.
 */
export async function removeRuleMirrorsNow(ctx: RunContext, removal: MirrorRemoval): Promise<void> {
  const { ruleId } = removal;
  const removed = removal.accountDisconnected
    ? "account_disconnected"
    : removal.ruleDeleted
    ? "deleted"
    : "turned_off";
  ctx.report.recordRemovedOwner({
    id: ruleId,
    ...(removal.kind ? { kind: removal.kind } : {}),
    ...(removal.name !== undefined ? { name: removal.name } : {}),
    removed,
  });
  const reason = removalReason(removal.kind ?? "rule", removed);
  // Forgetting an account disconnected earlier deletes its rules: their blocks in its own
  // calendars cannot be reached without its tokens, so they stay, and waiting for them would
  // hold back the rest. (A rule merely turned off waits for its account to come back.)
  const unreachable = removal.accountDisconnected
    ? new Set(
      (await listConnections(ctx.kv, ctx.userId)).filter((c) => c.status === "disconnected")
        .map((c) => c.id),
    )
    : new Set<string>();
  const entries = [];
  for await (const stored of listLedger(ctx.kv, ctx.userId, ruleId)) {
    if (!unreachable.has(stored.entry.target.connectionId)) entries.push(stored);
  }
  if (!await removeLedgered(ctx, ruleId, entries, reason)) return;
  for (const target of removal.targets.filter((t) => !unreachable.has(t.connectionId))) {
    try {
      const left = [];
      for (const markerId of [ruleId, ...removal.aliases]) {
        left.push(...await findMirrors(ctx, target, MARKER_KEYS.rule, markerId));
      }
      for (const { id } of left) {
        const outcome = await deleteMirror(ctx, target, id);
        ctx.report.recordRemoval({ ruleId, mirrorId: id, target, reason, outcome });
      }
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      ctx.report.recordError(err, { ruleId, calendar: target, failedOp: true });
      return;
    }
  }
  await forgetLedger(ctx.kv, ctx.userId, { ruleId, fence: ctx.fence });
  // The rule's edges may still count as caught up on its sources' cursors; with the ledger
  // gone, enabling it again must list them in full, or unchanged events would never return.
  const read = new Set(removal.sources.map(calendarKey));
  await dropCursors(ctx.kv, ctx.fence, ctx.userId, (key) => !read.has(key));
  await completeMirrorRemoval(ctx.fence, ctx.userId, removal);
}

/**
 * Removes the mirrors of every removal request that is due: not one still inside its undo
 * window, and one with a window only after claiming it, so that an undo racing this run either
 * wins (the claim fails and nothing is removed) or is refused (it finds the claim).
 */
export async function removeDueRuleMirrors(ctx: RunContext): Promise<void> {
  for (const entry of await listDueMirrorRemovals(ctx.kv, ctx.userId, ctx.deps.clock())) {
    if (await claimMirrorRemoval(ctx.fence, ctx.userId, entry, ctx.deps.clock())) {
      await removeRuleMirrorsNow(ctx, entry.removal);
    }
  }
}

/**
 * An action's reason for a block removed with its owner: what the person did ("rule_turned_off",
 * "group_deleted", "account_disconnected"). Runs before these reasons said "rule_removed".
 */
function removalReason(kind: "rule" | "group", removed: RemovedOwnerCause): string {
  return removed === "account_disconnected" ? removed : `${kind}_${removed}`;
}

/**
 * Removes the mirrors of one edge of a group whose member left: those its ledger knows, then
 * any left in its target under its marker (the edge's source, and its target when the marker
 * names one); then its ledger and the request. A failure leaves the request for the next run.
 */
export async function removeEdgeMirrorsNow(ctx: RunContext, removal: EdgeRemoval): Promise<void> {
  const { ruleId, direction, target } = removal;
  const edge = { ruleId, direction };
  const ledger = await readEdgeLedger(ctx.kv, ctx.userId, edge);
  const entries = [...ledger.values()].map((entry) => ({ direction, entry }));
  if (!await removeLedgered(ctx, ruleId, entries, "member_removed")) return;
  const source = calendarKey(removal.source);
  const into = calendarKey(target);
  try {
    const left = (await findMirrors(ctx, target, MARKER_KEYS.rule, removal.markerRuleId))
      .filter(({ marker }) =>
        marker.sourceCalendar === source &&
        (removal.markTarget ? marker.targetCalendar === into : marker.targetCalendar === undefined)
      );
    for (const { id } of left) {
      const outcome = await deleteMirror(ctx, target, id);
      ctx.report.recordRemoval({ ruleId, mirrorId: id, target, reason: "member_removed", outcome });
    }
  } catch (err) {
    if (err instanceof LeaseLostError) throw err;
    ctx.report.recordError(err, { ruleId, calendar: target, failedOp: true });
    return;
  }
  await forgetEdgeLedger(ctx.kv, ctx.fence, ctx.userId, edge);
  await completeEdgeRemoval(ctx.fence, ctx.userId, removal);
}

/**
 * Deletes every busysync mirror in `targets` (whichever rule wrote it) and forgets the whole
 * ledger. Returns how many mirrors were deleted; failures are recorded, and a calendar that
 * failed can be purged again later.
 */
export async function purgeMirrors(
  ctx: RunContext,
  targets: readonly CalendarRef[],
): Promise<number> {
  let removed = 0;
  for (const target of targets) {
    let mirrors: { id: string; marker: Marker }[];
    try {
      mirrors = await findMirrors(ctx, target, MARKER_KEYS.flag, "1");
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      ctx.report.recordError(err, { calendar: target });
      continue;
    }
    await ctx.pool(mirrors, async ({ id, marker }) => {
      await ctx.fence.hold(ctx.deps.clock());
      try {
        const outcome = await deleteMirror(ctx, target, id);
        ctx.report.recordRemoval({
          ruleId: marker.ruleId,
          mirrorId: id,
          target,
          reason: "purge",
          outcome,
        });
        if (outcome === "deleted") removed++;
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        ctx.report.recordError(err, { ruleId: marker.ruleId, calendar: target, failedOp: true });
      }
    });
  }
  await forgetLedger(ctx.kv, ctx.userId, { fence: ctx.fence });
  return removed;
}
