/**
 * Saving a group, as the JSON API does it (lib/rules/save.ts is the same for rules): check the
 * group against the user's calendars, rules and other groups, store it, and queue the sync that
 * carries the change out. Domain failures are typed errors (GroupUnacceptableError,
 * GroupInvalidError here; GroupNotFoundError, RuleRejectedError, RuleDuplicateError and
 * ConflictError from the store).
 */
import { ZodError } from "zod";
import { adoptRulesIntoGroup, createGroup, deleteGroup, updateGroup } from "../db/group_changes.ts";
import { getGroup, type GroupEntry, GroupNotFoundError } from "../db/groups.ts";
import { getRule, type RuleEntry } from "../db/rules.ts";
import {
  applyGroupPatch,
  buildGroup,
  type Group,
  type GroupInput,
  type GroupPatch,
  memberOf,
} from "../model/group.ts";
import { type OwnerChange, ownerChangeReason } from "../model/sync_reasons.ts";
import { previewOwner, type RulePreview } from "../rules/preview.ts";
import {
  openUndoWindow,
  type RuleDraftDeps,
  type RuleDryRunDeps,
  type RuleSaveDeps,
  type UndoWindow,
  UNSAVED_ID,
} from "../rules/save.ts";
import { checkGroup, type GroupProblem } from "./check.ts";

/** The group cannot be accepted as things stand: `problems` says why, first problem first. */
export class GroupUnacceptableError extends Error {
  constructor(readonly problems: readonly GroupProblem[]) {
    super(problems.map((p) => p.message).join(" "));
    this.name = "GroupUnacceptableError";
  }
}

/** The group with a change applied is invalid as a whole (its fields each were valid). */
export class GroupInvalidError extends Error {
  constructor(readonly zodError: ZodError) {
    super(zodError.issues.map((i) => i.message).join("; "));
    this.name = "GroupInvalidError";
  }
}

/** A group as stored, and the sync job queued to carry the change out (none when none is due). */
export interface SavedGroup extends GroupEntry {
  syncJobId?: string;
  /** Turned off with an undo window: until when, and the blocks its removal would take. */
  undo?: UndoWindow;
}

/**
 * Creates a group after checking it, and queues its sync when it is on. With `adoptRuleIds`
 * the group takes over those rules and their busy blocks (each must mirror between two of its
 * members); the rules are deleted in the same operation.
 */
export async function addGroup(
  deps: RuleSaveDeps,
  userId: string,
  input: GroupInput,
  adoptRuleIds: readonly string[] = [],
): Promise<SavedGroup> {
  const candidate = buildGroup(input, { id: UNSAVED_ID, now: deps.now() });
  const adopt = await adoptable(deps.kv, userId, candidate, adoptRuleIds);
  await assertAcceptable(deps.kv, userId, candidate, { without: adoptRuleIds });
  const opts = { now: deps.now() };
  const entry = await invalidAsTyped(() =>
    adopt.length
      ? adoptRulesIntoGroup(deps.kv, userId, input, adopt, opts)
      : createGroup(deps.kv, userId, input, opts)
  );
  if (!entry.group.enabled) return entry;
  return { ...entry, syncJobId: await queueSync(deps, userId, entry.group.id, "created") };
}

/**
 * Changes a group (a PUT's replacement or a PATCH): checks it as it would be, stores it (only at
 * `ifVersionstamp` when given) and queues a sync when there is something to carry out: the group
 * is on, or was turned off with its blocks to go, or lost a member whose blocks go.
 */
export async function changeGroup(
  deps: RuleSaveDeps,
  userId: string,
  groupId: string,
  patch: GroupPatch,
  opts: { keepMirrors: boolean; ifVersionstamp?: string; undo?: boolean },
): Promise<SavedGroup> {
  const { group } = await findGroup(deps.kv, userId, groupId);
  const next = await invalidAsTyped(() =>
    Promise.resolve(applyGroupPatch(group, patch, deps.now()))
  );
  await assertAcceptable(deps.kv, userId, next);
  const window = opts.undo && group.enabled && !next.enabled && !opts.keepMirrors
    ? await openUndoWindow(deps, userId, groupId)
    : undefined;
  const entry = await invalidAsTyped(() =>
    updateGroup(deps.kv, userId, groupId, patch, {
      now: deps.now(),
      removeMirrors: !opts.keepMirrors,
      ...(opts.ifVersionstamp !== undefined ? { ifVersionstamp: opts.ifVersionstamp } : {}),
      ...(window ? { undoUntil: new Date(window.expiresAt) } : {}),
    })
  );
  const lostMember = group.members.some((m) => !memberOf(entry.group, m.calendar));
  const due = entry.group.enabled || (group.enabled && !opts.keepMirrors) || lostMember;
  if (!due) return entry;
  // A group off already that loses a member is changed, not turned off.
  const change = group.enabled && !entry.group.enabled
    ? "turned_off"
    : !group.enabled && entry.group.enabled
    ? "turned_on"
    : "changed";
  const syncJobId = await queueSync(deps, userId, groupId, change, window);
  return { ...entry, syncJobId, ...(window ? { undo: window } : {}) };
}

/**
 * Deletes a group; its blocks go with the sync it queues unless `keepMirrors` (with `undo`,
 * once the undo window has passed).
 */
export async function removeGroup(
  deps: RuleSaveDeps,
  userId: string,
  groupId: string,
  opts: { keepMirrors: boolean; ifVersionstamp?: string; undo?: boolean },
): Promise<{ group: Group; syncJobId?: string; undo?: UndoWindow }> {
  const window = opts.undo && !opts.keepMirrors
    ? await openUndoWindow(deps, userId, groupId)
    : undefined;
  const group = await deleteGroup(deps.kv, userId, groupId, {
    now: deps.now(),
    removeMirrors: !opts.keepMirrors,
    ...(opts.ifVersionstamp !== undefined ? { ifVersionstamp: opts.ifVersionstamp } : {}),
    ...(window ? { undoUntil: new Date(window.expiresAt) } : {}),
  });
  if (opts.keepMirrors) return { group };
  const syncJobId = await queueSync(deps, userId, groupId, "deleted", window);
  return { group, syncJobId, ...(window ? { undo: window } : {}) };
}

/**
 * The group a draft would be: a new one, or with `id` the user's stored group it would replace
 * (keeping its id, creation time and adopted edges). Throws GroupNotFoundError.
 */
export async function draftGroup(
  deps: RuleDraftDeps,
  userId: string,
  input: GroupInput,
  id?: string,
): Promise<Group> {
  const stored = id === undefined ? undefined : (await findGroup(deps.kv, userId, id)).group;
  const group = buildGroup(input, {
    id: stored?.id ?? UNSAVED_ID,
    now: deps.now(),
    adopted: stored?.adopted ?? [],
  });
  return stored ? { ...group, createdAt: stored.createdAt } : group;
}

/** Checks a draft without saving it. Throws GroupNotFoundError or GroupUnacceptableError. */
export async function validateGroupDraft(
  deps: RuleDraftDeps,
  userId: string,
  input: GroupInput,
  id?: string,
): Promise<void> {
  await assertAcceptable(deps.kv, userId, await draftGroup(deps, userId, input, id));
}

/**
 * What `group` would do if it ran now, as if it were on; nothing is written. Only its own
 * calendars are checked, as for a rule's preview. Throws GroupUnacceptableError.
 */
export async function dryRunGroup(
  deps: RuleDryRunDeps,
  userId: string,
  group: Group,
): Promise<RulePreview> {
  await assertAcceptable(deps.kv, userId, group, { graph: false });
  return await previewOwner(deps.syncDeps(userId), group);
}

export async function findGroup(kv: Deno.Kv, userId: string, groupId: string) {
  const entry = await getGroup(kv, userId, groupId);
  if (!entry) throw new GroupNotFoundError(groupId);
  return entry;
}

/** The rules to adopt, each read now (its version is checked when the group is stored). */
async function adoptable(
  kv: Deno.Kv,
  userId: string,
  group: Group,
  ruleIds: readonly string[],
): Promise<RuleEntry[]> {
  const out: RuleEntry[] = [];
  for (const [i, id] of [...new Set(ruleIds)].entries()) {
    const entry = await getRule(kv, userId, id);
    const field = `adoptRuleIds.${i}`;
    if (!entry) {
      throw new GroupUnacceptableError([{
        code: "unknown_rule",
        field,
        message: "One of the rules to take over no longer exists; reload the page.",
      }]);
    }
    const { rule } = entry;
    if (!memberOf(group, rule.source) || !memberOf(group, rule.target)) {
      throw new GroupUnacceptableError([{
        code: "not_adoptable",
        field,
        message: `The group cannot take over "${rule.name}": it mirrors a calendar that is ` +
          "not a member.",
      }]);
    }
    out.push(entry);
  }
  return out;
}

async function assertAcceptable(
  kv: Deno.Kv,
  userId: string,
  candidate: Group,
  opts: { graph?: boolean; without?: readonly string[] } = {},
) {
  const problems = await checkGroup(kv, userId, candidate, opts);
  if (problems.length) throw new GroupUnacceptableError(problems);
}

async function invalidAsTyped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ZodError) throw new GroupInvalidError(err);
    throw err;
  }
}

/** Queues the sync that carries out `change` of the group, named by what the person did. */
async function queueSync(
  deps: RuleSaveDeps,
  userId: string,
  groupId: string,
  change: OwnerChange,
  window?: UndoWindow,
): Promise<string> {
  const { jobId } = await deps.syncRequests.request(userId, {
    reason: ownerChangeReason("group", change),
    ruleIds: [groupId],
    ...(window ? { delayMs: Date.parse(window.expiresAt) - deps.now().getTime() } : {}),
  });
  return jobId;
}
