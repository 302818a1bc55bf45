/**
 * Creating, changing and deleting groups, and a group adopting rules. Each change is checked
 * with the user's rules and other groups as one set (no rule beside a group may close a cycle)
 * and serialised through the `rule_sets` key, like a rule change.
 *
 * A member leaving removes the blocks of its edges in both directions (edge removals the
 * engine carries out); disabling or deleting a group with "remove its mirrors" leaves a removal
 * request like a rule's; deleting while keeping the mirrors releases them, under every marker
 * id they carry.
 */
import { ulid } from "ulid";
import { edgeFingerprint } from "../model/edge_fingerprint.ts";
import {
  type AdoptedEdge,
  applyGroupPatch,
  buildGroup,
  type Group,
  type GroupInput,
  type GroupPatch,
} from "../model/group.ts";
import { buildGroupEdges, pairKey } from "../model/group_edges.ts";
import type { Rule } from "../model/rule.ts";
import { commitWithRetry, ConflictError } from "./commit.ts";
import {
  EdgeRemovalSchema,
  type GroupEntry,
  GroupNotFoundError,
  listGroups,
  readGroup,
  storeGroup,
} from "./groups.ts";
import { keys } from "./keys.ts";
import { forgetLedger } from "./ledger.ts";
import { groupCoverer, ruleCoverer } from "../model/pair_coverage.ts";
import {
  assertGraph,
  assertNotCovered,
  listRules,
  MirrorRemovalSchema,
  type Precondition,
  ReleasedRuleSchema,
  type RemovalOptions,
  type RuleEntry,
  RuleSetSchema,
  withUndo,
} from "./rules.ts";

/** Every edge a group could have (all members writable): what a member change is judged by. */
const allEdges = (group: Group) => buildGroupEdges(group, () => true);

async function othersOf(kv: Deno.Kv, userId: string, groupId?: string) {
  const [rules, groups] = await Promise.all([listRules(kv, userId), listGroups(kv, userId)]);
  return {
    rules: rules.map((e) => e.rule),
    groups: groups.map((e) => e.group).filter((g) => g.id !== groupId),
  };
}

const coverersOf = (rules: readonly Rule[], groups: readonly Group[]) => [
  ...rules.map(ruleCoverer),
  ...groups.map(groupCoverer),
];

/**
 * Creates a group from parsed input. Throws RuleRejectedError when rules beside it would loop,
 * RuleDuplicateError when a rule or another group already mirrors one of its pairs.
 */
export async function createGroup(
  kv: Deno.Kv,
  userId: string,
  input: GroupInput,
  opts: { now: Date; id?: string; restore?: Group; precondition?: Precondition },
): Promise<GroupEntry> {
  const group = opts.restore ?? buildGroup(input, { id: opts.id ?? ulid(), now: opts.now });
  const res = await commitWithRetry(async () => {
    const ruleSet = await kv.get(keys.ruleSet(userId));
    const guarded = kv.atomic();
    await opts.precondition?.(guarded);
    const { rules, groups } = await othersOf(kv, userId);
    assertGraph(rules, [...groups, group]);
    assertNotCovered(groupCoverer(group), undefined, coverersOf(rules, groups));
    const key = keys.group(userId, group.id);
    return {
      op: guarded.check(ruleSet).check({ key, versionstamp: null })
        .set(key, storeGroup(group))
        .set(keys.ruleSet(userId), RuleSetSchema.parse({ v: 1, changedAt: group.createdAt })),
    };
  });
  return { group, versionstamp: res!.versionstamp };
}

/**
 * What a change of a stored group checks: the rule set's key and the group as read, which must
 * still be the version the client read (ConflictError) and must exist (GroupNotFoundError).
 */
async function readForChange(
  kv: Deno.Kv,
  userId: string,
  groupId: string,
  ifVersionstamp: string | undefined,
) {
  const ruleSet = await kv.get(keys.ruleSet(userId));
  const entry = await kv.get(keys.group(userId, groupId));
  if (entry.value === null) throw new GroupNotFoundError(groupId);
  if (ifVersionstamp !== undefined && ifVersionstamp !== entry.versionstamp) {
    throw new ConflictError("the group was changed meanwhile; reload it and try again");
  }
  return { ruleSet, entry };
}

/** Whether `next` mirrors differently from `prev`. */
function changesMirroring(prev: Group, next: Group): boolean {
  const prints = (g: Group) => allEdges(g).map(edgeFingerprint).join(",");
  return prev.enabled !== next.enabled || prints(prev) !== prints(next);
}

/**
 * Applies a patch (ConflictError when `ifVersionstamp` no longer matches). The edges of a
 * member that left get removal requests; an edge that comes back withdraws its pending one.
 * Disabling with `removeMirrors` leaves a removal request for the whole group; enabling again
 * withdraws it. Throws GroupNotFoundError, RuleRejectedError or a ZodError.
 */
export async function updateGroup(
  kv: Deno.Kv,
  userId: string,
  groupId: string,
  patch: GroupPatch,
  opts: { now: Date; ifVersionstamp?: string; precondition?: Precondition } & RemovalOptions,
): Promise<GroupEntry> {
  const res = await commitWithRetry<Group>(async () => {
    const guarded = kv.atomic();
    await opts.precondition?.(guarded);
    const { ruleSet, entry } = await readForChange(kv, userId, groupId, opts.ifVersionstamp);
    const prev = readGroup(entry.value);
    let next = applyGroupPatch(prev, patch, opts.now);
    if (changesMirroring(prev, next)) next = { ...next, status: "ok", statusReason: undefined };
    const { rules, groups } = await othersOf(kv, userId, groupId);
    assertGraph(rules, [...groups, next]);
    assertNotCovered(groupCoverer(next), groupCoverer(prev), coverersOf(rules, groups));
    const op = guarded.check(ruleSet).check(entry)
      .set(entry.key, storeGroup(next))
      .set(keys.ruleSet(userId), RuleSetSchema.parse({ v: 1, changedAt: next.updatedAt }));
    const kept = new Set(allEdges(next).map((e) => e.direction));
    for (const edge of allEdges(prev)) {
      const key = keys.edgeRemoval(userId, groupId, edge.direction);
      if (kept.has(edge.direction)) {
        op.delete(key);
        continue;
      }
      op.set(
        key,
        EdgeRemovalSchema.parse({
          v: 1,
          ruleId: groupId,
          direction: edge.direction,
          source: edge.source,
          target: edge.target,
          markerRuleId: edge.identity?.kind === "adopted" ? edge.identity.ruleId : groupId,
          markTarget: edge.identity?.kind !== "adopted",
          requestedAt: opts.now.toISOString(),
        }),
      );
    }
    const removalKey = keys.mirrorRemoval(userId, groupId);
    if (prev.enabled && !next.enabled && opts.removeMirrors) {
      op.set(removalKey, withUndo(removalOf(prev, false, opts.now), opts.undoUntil));
    } else if (next.enabled) {
      op.delete(removalKey);
    }
    return { op, result: next };
  });
  return { group: res!.result!, versionstamp: res!.versionstamp };
}

function removalOf(group: Group, deleted: boolean, now: Date, accountDisconnected = false) {
  const calendars = group.members.map((m) => m.calendar);
  return MirrorRemovalSchema.parse({
    v: 1,
    ruleId: group.id,
    aliases: [...new Set(group.adopted.map((a) => a.ruleId))],
    targets: calendars,
    sources: calendars,
    ruleDeleted: deleted,
    name: group.name,
    kind: "group",
    accountDisconnected,
    requestedAt: now.toISOString(),
  });
}

/**
 * Deletes a group. With `removeMirrors` its blocks are queued for removal by the engine;
 * without, they stay, released under the group's id and every adopted rule's, and its ledger
 * is forgotten now. Returns the deleted group; throws GroupNotFoundError or ConflictError.
 */
export async function deleteGroup(
  kv: Deno.Kv,
  userId: string,
  groupId: string,
  opts: {
    now: Date;
    removeMirrors: boolean;
    ifVersionstamp?: string;
    accountDisconnected?: boolean;
    undoUntil?: Date;
  },
): Promise<Group> {
  const res = await commitWithRetry<Group>(async () => {
    const { ruleSet, entry } = await readForChange(kv, userId, groupId, opts.ifVersionstamp);
    const group = readGroup(entry.value);
    const at = opts.now.toISOString();
    const op = kv.atomic().check(ruleSet).check(entry)
      .delete(entry.key)
      .delete(keys.ruleFailures(userId, groupId))
      .set(keys.ruleSet(userId), RuleSetSchema.parse({ v: 1, changedAt: at }));
    for (const edge of allEdges(group)) {
      op.delete(keys.edgeRemoval(userId, groupId, edge.direction));
    }
    if (opts.removeMirrors) {
      op.set(
        keys.mirrorRemoval(userId, groupId),
        withUndo(
          removalOf(group, true, opts.now, opts.accountDisconnected),
          opts.undoUntil,
          storeGroup(group),
        ),
      );
    } else {
      op.delete(keys.mirrorRemoval(userId, groupId));
      for (const id of [groupId, ...group.adopted.map((a) => a.ruleId)]) {
        op.set(
          keys.releasedRule(userId, id),
          ReleasedRuleSchema.parse({ v: 1, ruleId: id, releasedAt: at }),
        );
      }
    }
    return { op, result: group };
  });
  if (!opts.removeMirrors) await forgetLedger(kv, userId, { ruleId: groupId });
  return res!.result!;
}

/**
 * Makes a group of `input` that takes over `adopt`: those rules are deleted in the same
 * operation, and each of their edges between two members becomes the group's edge of that pair
 * with the rule's mirrors (lib/model/group.ts AdoptedEdge; the engine moves their ledger). No
 * block is deleted and re-created, so the delete guard has nothing to count. Every adopted
 * rule must be unchanged since it was read (ConflictError otherwise).
 */
export async function adoptRulesIntoGroup(
  kv: Deno.Kv,
  userId: string,
  input: GroupInput,
  adopt: readonly RuleEntry[],
  opts: { now: Date; id?: string },
): Promise<GroupEntry> {
  const id = opts.id ?? ulid();
  const adopted = adopt.flatMap(({ rule }) => adoptedEdgesOf(rule));
  const group = buildGroup(input, { id, now: opts.now, adopted });
  const res = await commitWithRetry(async () => {
    const ruleSet = await kv.get(keys.ruleSet(userId));
    const { rules, groups } = await othersOf(kv, userId);
    const gone = new Set(adopt.map((e) => e.rule.id));
    const kept = rules.filter((r) => !gone.has(r.id));
    assertGraph(kept, [...groups, group]);
    assertNotCovered(groupCoverer(group), undefined, coverersOf(kept, groups));
    const key = keys.group(userId, id);
    const op = kv.atomic().check(ruleSet).check({ key, versionstamp: null })
      .set(key, storeGroup(group))
      .set(keys.ruleSet(userId), RuleSetSchema.parse({ v: 1, changedAt: group.createdAt }));
    for (const { rule, versionstamp } of adopt) {
      const ruleKey = keys.rule(userId, rule.id);
      op.check({ key: ruleKey, versionstamp }).delete(ruleKey)
        .delete(keys.ruleFailures(userId, rule.id))
        .delete(keys.mirrorRemoval(userId, rule.id));
    }
    return { op };
  });
  if (!res) throw new ConflictError();
  return { group, versionstamp: res.versionstamp };
}

/** The edges of `rule` a group takes over, with where their ledger lives now. */
function adoptedEdgesOf(rule: Rule): AdoptedEdge[] {
  const forward = { source: rule.source, target: rule.target, ruleId: rule.id };
  const edges: AdoptedEdge[] = [{ ...forward, direction: "forward" }];
  if (rule.bidirectional) {
    edges.push({ source: rule.target, target: rule.source, ruleId: rule.id, direction: "reverse" });
  }
  return edges;
}

/** Where an adopted edge's ledger goes: the group's edge of the same pair. */
export function adoptedLedgerTarget(groupId: string, edge: AdoptedEdge) {
  return { ruleId: groupId, direction: pairKey(edge.source, edge.target) };
}
