/**
 * Undo windows: turning a rule or group off, or deleting it, may leave its removal request
 * waiting (`undoUntil`) instead of due at once, so that the person can take the change back.
 * Until the window ends the engine leaves the request alone; after it, the first run claims
 * the request (`startedAt`) before it deletes a block. An undo and that claim each check the
 * request's versionstamp, so exactly one of them wins: an undo never brings back an owner
 * whose blocks a run has begun to remove, and a run never removes the blocks of one undone.
 */
import { type GroupEntry, GroupNotFoundError, readGroup } from "./groups.ts";
import { createGroup, updateGroup } from "./group_changes.ts";
import { keys } from "./keys.ts";
import type { Fence } from "./leases.ts";
import { listLedger } from "./ledger.ts";
import {
  createRule,
  type MirrorRemoval,
  MirrorRemovalSchema,
  type Precondition,
  readRule,
  type RuleEntry,
  RuleNotFoundError,
  updateRule,
} from "./rules.ts";

/**
 * How long a change made with `?undo=true` waits before its blocks go: long enough to read the
 * message and press Undo, short enough that a calendar looks right soon after.
 */
export const UNDO_WINDOW_MS = 10_000;

/** There is no change of this owner to undo (never asked for with a window, or long ago). */
export class NothingToUndoError extends Error {
  constructor(readonly ownerId: string) {
    super(`nothing to undo for ${ownerId}`);
    this.name = "NothingToUndoError";
  }
}

/** The window has passed, or the blocks are being removed or were removed. */
export class UndoTooLateError extends Error {
  constructor(readonly ownerId: string, readonly state: "removing" | "removed") {
    super(`too late to undo: the busy blocks of ${ownerId} are ${state}`);
    this.name = "UndoTooLateError";
  }
}

/** A removal request with the versionstamp it was read at: the claim's and the undo's fence. */
export interface RemovalEntry {
  removal: MirrorRemoval;
  versionstamp: string;
}

/** The user's removal requests a run may carry out now: every one outside its undo window. */
export async function listDueMirrorRemovals(
  kv: Deno.Kv,
  userId: string,
  now: Date,
): Promise<RemovalEntry[]> {
  const out: RemovalEntry[] = [];
  for await (const entry of kv.list({ prefix: keys.mirrorRemovals(userId) })) {
    const removal = MirrorRemovalSchema.parse(entry.value);
    if (removal.undoUntil && Date.parse(removal.undoUntil) > now.getTime()) continue;
    out.push({ removal, versionstamp: entry.versionstamp });
  }
  return out;
}

/**
 * Claims a removal that offered an undo, fenced by the run's lease: true when the run may go
 * on and delete its blocks (also for a request without a window, which nothing can undo),
 * false when it was undone or changed since it was read.
 */
export async function claimMirrorRemoval(
  fence: Fence,
  userId: string,
  entry: RemovalEntry,
  now: Date,
): Promise<boolean> {
  const { removal } = entry;
  if (!removal.undoUntil || removal.startedAt) return true;
  const key = keys.mirrorRemoval(userId, removal.ruleId);
  const claimed = MirrorRemovalSchema.parse({ ...removal, startedAt: now.toISOString() });
  const ok = await fence.commit((op) =>
    op.check({ key, versionstamp: entry.versionstamp }).set(key, claimed)
  );
  // False: undone since listed, or replaced (deleted after being turned off), which the next
  // run judges afresh.
  return ok;
}

/** How many busy blocks the owner's ledger holds: what a removal would take away. */
export async function countOwnerBlocks(
  kv: Deno.Kv,
  userId: string,
  ownerId: string,
): Promise<number> {
  let n = 0;
  for await (const _ of listLedger(kv, userId, ownerId)) n++;
  return n;
}

/**
 * The precondition of an undo: the owner's removal is still undoable (checked in `op`, and
 * deleted with the change when `withdraw`: turning an owner on withdraws it by itself), or
 * NothingToUndoError / UndoTooLateError.
 */
function undoable(
  kv: Deno.Kv,
  userId: string,
  ownerId: string,
  kind: "rule" | "group",
  now: Date,
  withdraw: boolean,
): Precondition {
  return async (op: Deno.AtomicOperation) => {
    const key = keys.mirrorRemoval(userId, ownerId);
    const entry = await kv.get(key);
    if (entry.value === null) {
      const spent = await kv.get(keys.spentUndo(userId, ownerId));
      if (spent.value !== null) throw new UndoTooLateError(ownerId, "removed");
      throw new NothingToUndoError(ownerId);
    }
    const removal = MirrorRemovalSchema.parse(entry.value);
    if (!removal.undoUntil || (removal.kind ?? "rule") !== kind) {
      throw new NothingToUndoError(ownerId);
    }
    if (removal.startedAt || Date.parse(removal.undoUntil) <= now.getTime()) {
      throw new UndoTooLateError(ownerId, "removing");
    }
    op.check(entry);
    if (withdraw) op.delete(key);
  };
}

/** An owner that is not there (and has no undoable removal) has nothing to undo. */
async function notFoundAsNothing<T>(ownerId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RuleNotFoundError || err instanceof GroupNotFoundError) {
      throw new NothingToUndoError(ownerId);
    }
    throw err;
  }
}

/** What undoing needs to know before it changes anything. */
async function peekRemoval(kv: Deno.Kv, userId: string, ownerId: string) {
  const entry = await kv.get(keys.mirrorRemoval(userId, ownerId));
  return entry.value === null ? null : MirrorRemovalSchema.parse(entry.value);
}

/**
 * Takes back turning a rule off or deleting it, within its undo window: the same rule (id,
 * settings, ledger) is on again / back, and its removal request is withdrawn in the same
 * operation. Throws NothingToUndoError, UndoTooLateError, and the store's refusals when the
 * rule set no longer accepts the rule (RuleDuplicateError, RuleRejectedError).
 */
export async function undoRuleRemoval(
  kv: Deno.Kv,
  userId: string,
  ruleId: string,
  now: Date,
): Promise<RuleEntry> {
  const removal = await peekRemoval(kv, userId, ruleId);
  if (removal?.ruleDeleted && removal.restore !== undefined) {
    const rule = readRule(removal.restore);
    const precondition = undoable(kv, userId, ruleId, "rule", now, true);
    return await createRule(kv, userId, rule, { now, restore: rule, precondition });
  }
  const precondition = undoable(kv, userId, ruleId, "rule", now, false);
  return await notFoundAsNothing(
    ruleId,
    () => updateRule(kv, userId, ruleId, { enabled: true }, { now, precondition }),
  );
}

/** undoRuleRemoval for a group. */
export async function undoGroupRemoval(
  kv: Deno.Kv,
  userId: string,
  groupId: string,
  now: Date,
): Promise<GroupEntry> {
  const removal = await peekRemoval(kv, userId, groupId);
  if (removal?.ruleDeleted && removal.restore !== undefined) {
    const group = readGroup(removal.restore);
    const precondition = undoable(kv, userId, groupId, "group", now, true);
    return await createGroup(kv, userId, group, { now, restore: group, precondition });
  }
  const precondition = undoable(kv, userId, groupId, "group", now, false);
  return await notFoundAsNothing(
    groupId,
    () => updateGroup(kv, userId, groupId, { enabled: true }, { now, precondition }),
  );
}
