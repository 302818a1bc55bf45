/**
 * Sync rules per user. Every change of a user's rule set is validated as a whole through the
 * pure rule graph (no calendar targeting itself, no cycle of three or more calendars) and
 * serialised through the `rule_sets` key, so two concurrent edits cannot together form a cycle
 * that each alone passed.
 *
 * Deleting or disabling a rule either leaves a removal request for the engine ("remove its
 * mirrors", which needs the calendar provider and the sync lease) or, when the user keeps the
 * mirrors, releases them: a full reconcile leaves mirrors of a released rule alone.
 */
import { ulid } from "ulid";
import { z } from "zod";
import { edgeFingerprint } from "../model/edge_fingerprint.ts";
import {
  buildEdges,
  checkRuleGraph,
  describeGraphProblem,
  type GraphProblem,
} from "../model/rule_graph.ts";
import {
  applyRulePatch,
  buildRule,
  CalendarRefSchema,
  type Rule,
  type RuleInput,
  type RulePatch,
  RuleSchema,
  type RuleStatus,
} from "../model/rule.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import {
  addedPairs,
  type Coverer,
  type Covering,
  findCovering,
  groupCoverer,
  ruleCoverer,
} from "../model/pair_coverage.ts";
import { commitWithRetry, ConflictError } from "./commit.ts";
import { keys } from "./keys.ts";
import type { Fence } from "./leases.ts";
import { forgetLedger } from "./ledger.ts";
import type { Group } from "../model/group.ts";
import { listGroups } from "./groups.ts";

async function listGroupsOf(kv: Deno.Kv, userId: string): Promise<Group[]> {
  return (await listGroups(kv, userId)).map((e) => e.group);
}

/** The user's rules, then their groups, each oldest first: what incidents and summaries read. */
export async function listRulesAndGroups(kv: Deno.Kv, userId: string): Promise<(Rule | Group)[]> {
  const [rules, groups] = await Promise.all([listRules(kv, userId), listGroupsOf(kv, userId)]);
  return [...rules.map((e) => e.rule), ...groups];
}

/** The user has no rule with this id. */
export class RuleNotFoundError extends Error {
  constructor(readonly ruleId: string) {
    super(`no rule ${ruleId}`);
    this.name = "RuleNotFoundError";
  }
}

/** The rule set would be invalid with this change; `problems` says why (an API answers 422). */
export class RuleRejectedError extends Error {
  constructor(
    readonly problems: GraphProblem[],
    rules: readonly Rule[],
    groups: readonly Group[] = [],
  ) {
    super(problems.map((p) => describeProblem(p, [...rules, ...groups])).join(" "));
    this.name = "RuleRejectedError";
  }
}

function describeProblem(problem: GraphProblem, owners: readonly { id: string; name: string }[]) {
  return describeGraphProblem(problem, {
    rule: (id) => owners.find((r) => r.id === id)?.name ?? id,
    calendar: (key) => key.slice(key.indexOf(":") + 1),
  });
}

/** An enabled rule already mirrors a pair this change would add (an API answers 422). */
export class RuleDuplicateError extends Error {
  constructor(readonly covering: Covering) {
    const { coverer, pair } = covering;
    super(
      `"${coverer.name}" already mirrors ${pair.source.calendarId} into ` +
        `${pair.target.calendarId}: edit it instead`,
    );
    this.name = "RuleDuplicateError";
  }
}

/**
 * Refuses `next` when it adds a pair an enabled other rule covers. Only added pairs count, so a
 * store that already holds duplicates keeps them editable.
 */
function assertNoDuplicate(
  next: Rule,
  others: readonly Rule[],
  prev: Rule | undefined,
  groups: readonly Group[],
): void {
  assertNotCovered(ruleCoverer(next), prev && ruleCoverer(prev), [
    ...others.map(ruleCoverer),
    ...groups.map(groupCoverer),
  ]);
}

/** Refuses `next` (a rule's or a group's pairs) when it adds a pair one of `others` covers. */
export function assertNotCovered(
  next: Coverer,
  prev: Coverer | undefined,
  others: readonly Coverer[],
): void {
  const covering = findCovering(addedPairs(next, prev), others);
  if (covering) throw new RuleDuplicateError(covering);
}

const StoredRuleSchema = z.object({ v: z.literal(1) }).and(RuleSchema);

/** A rule with the versionstamp it was read at (the API's ETag for conflict checks). */
export interface RuleEntry {
  rule: Rule;
  versionstamp: string;
}

export function readRule(value: unknown): Rule {
  const { v: _v, ...rule } = StoredRuleSchema.parse(value);
  return rule;
}

function storeRule(rule: Rule) {
  return { v: 1 as const, ...RuleSchema.parse(rule) };
}

/**
 * Checks a change makes only while something else still holds (an undo: its removal not yet
 * begun): reads what it needs, adds its checks and writes to `op`, and throws when it no
 * longer holds. Called again on every retry of the change.
 */
export type Precondition = (op: Deno.AtomicOperation) => Promise<void>;

/** An undo window's end, given with a change that leaves a removal request. */
export interface RemovalOptions {
  removeMirrors?: boolean;
  /** The removal waits until then and may be undone until then. */
  undoUntil?: Date;
}

export const RuleSetSchema = z.object({ v: z.literal(1), changedAt: z.iso.datetime() });

/**
 * A rule or group deleted or disabled with "remove its mirrors"; the engine acts on it under
 * its lease.
 */
export const MirrorRemovalSchema = z.object({
  v: z.literal(1),
  /** The rule's or group's id. */
  ruleId: z.string(),
  /** Other marker rule ids its mirrors carry (the rules a group adopted the mirrors of). */
  aliases: z.array(z.string()).default([]),
  /** Where the rule wrote mirrors: searched for mirrors the ledger does not know. */
  targets: z.array(CalendarRefSchema),
  /** What it read: their cursors go with the mirrors, so that enabling it again relists them. */
  sources: z.array(CalendarRefSchema),
  /** True when the rule is gone, false when it was only disabled. */
  ruleDeleted: z.boolean(),
  /** Its name and kind when asked for, so the run that removes its mirrors can name it. */
  name: z.string().optional(),
  kind: z.literal("group").optional(),
  /** Deleted because its account was disconnected, not by the person's own edit. */
  accountDisconnected: z.boolean().default(false),
  requestedAt: z.iso.datetime(),
  /**
   * Asked for with an undo window: the engine leaves it alone until then, and until then the
   * person may take the change back (lib/db/undo_windows.ts).
   */
  undoUntil: z.iso.datetime().optional(),
  /** A deleted owner as it was stored, so that an undo brings back the same id and settings. */
  restore: z.unknown().optional(),
  /** Set by the run that began removing its blocks: from then on nothing can be undone. */
  startedAt: z.iso.datetime().optional(),
});
export type MirrorRemoval = z.infer<typeof MirrorRemovalSchema>;

export const ReleasedRuleSchema = z.object({
  v: z.literal(1),
  ruleId: z.string(),
  releasedAt: z.iso.datetime(),
});

/** The user's rule with this id, or null. */
export async function getRule(
  kv: Deno.Kv,
  userId: string,
  ruleId: string,
): Promise<RuleEntry | null> {
  const entry = await kv.get(keys.rule(userId, ruleId));
  if (entry.value === null) return null;
  return { rule: readRule(entry.value), versionstamp: entry.versionstamp };
}

/** The user's rules, oldest first (ULID ids). */
export async function listRules(kv: Deno.Kv, userId: string): Promise<RuleEntry[]> {
  const out: RuleEntry[] = [];
  for await (const entry of kv.list({ prefix: keys.rules(userId) })) {
    out.push({ rule: readRule(entry.value), versionstamp: entry.versionstamp });
  }
  return out;
}

/** Throws RuleRejectedError when the rules beside the groups target themselves or loop. */
export function assertGraph(rules: readonly Rule[], groups: readonly Group[]): void {
  const problems = checkRuleGraph(rules, groups);
  if (problems.length) throw new RuleRejectedError(problems, rules, groups);
}

/**
 * Creates a rule from parsed input (status ok). Throws RuleRejectedError when the user's rules
 * with this one would target a calendar itself or form a cycle, RuleDuplicateError when an
 * enabled rule already mirrors one of its pairs.
 */
export async function createRule(
  kv: Deno.Kv,
  userId: string,
  input: RuleInput,
  opts: { now: Date; id?: string; restore?: Rule; precondition?: Precondition },
): Promise<RuleEntry> {
  const rule = opts.restore ?? buildRule(input, { id: opts.id ?? ulid(), now: opts.now });
  const res = await commitWithRetry(async () => {
    const ruleSet = await kv.get(keys.ruleSet(userId));
    const guarded = kv.atomic();
    await opts.precondition?.(guarded);
    const existing = await listRules(kv, userId);
    const groups = await listGroupsOf(kv, userId);
    // A duplicate first: between two members of a group it also closes a circle, and "edit the
    // group instead" is the more useful answer.
    assertNoDuplicate(rule, existing.map((e) => e.rule), undefined, groups);
    assertGraph([...existing.map((e) => e.rule), rule], groups);
    const key = keys.rule(userId, rule.id);
    return {
      op: guarded.check(ruleSet).check({ key, versionstamp: null })
        .set(key, storeRule(rule))
        .set(keys.ruleSet(userId), RuleSetSchema.parse({ v: 1, changedAt: rule.createdAt })),
    };
  });
  return { rule, versionstamp: res!.versionstamp };
}

/** Whether `next` mirrors differently from `prev` (its edges' fingerprints changed). */
function changesMirroring(prev: Rule, next: Rule): boolean {
  const prints = (r: Rule) => buildEdges([r]).map(edgeFingerprint).join(",");
  return prev.enabled !== next.enabled || prints(prev) !== prints(next);
}

/** The calendars a rule writes mirrors into (both of them when it runs both ways). */
export function targetsOf(rule: Rule): CalendarRef[] {
  return buildEdges([rule]).map((e) => e.target);
}

/**
 * Applies a patch. With `ifVersionstamp` (the ETag a client read), throws ConflictError when
 * the rule changed since. A change to what the rule mirrors resets its status to ok (the user
 * fixed or changed it: the engine tries again) and makes the engine re-plan it from a full
 * listing of its source. Disabling with `removeMirrors` leaves a removal request; enabling
 * again withdraws a pending one. Throws RuleNotFoundError, RuleRejectedError,
 * RuleDuplicateError (it would newly mirror a pair an enabled rule covers), or a ZodError
 * when the patched rule is invalid as a whole.
 */
export async function updateRule(
  kv: Deno.Kv,
  userId: string,
  ruleId: string,
  patch: RulePatch,
  opts: { now: Date; ifVersionstamp?: string; precondition?: Precondition } & RemovalOptions,
): Promise<RuleEntry> {
  const res = await commitWithRetry<Rule>(async () => {
    const ruleSet = await kv.get(keys.ruleSet(userId));
    const guarded = kv.atomic();
    await opts.precondition?.(guarded);
    const entry = await kv.get(keys.rule(userId, ruleId));
    if (entry.value === null) throw new RuleNotFoundError(ruleId);
    if (opts.ifVersionstamp !== undefined && opts.ifVersionstamp !== entry.versionstamp) {
      throw new ConflictError("the rule was changed meanwhile; reload it and try again");
    }
    const prev = readRule(entry.value);
    let next = applyRulePatch(prev, patch, opts.now);
    if (changesMirroring(prev, next)) next = { ...next, status: "ok", statusReason: undefined };
    const others = (await listRules(kv, userId)).map((e) => e.rule).filter((r) => r.id !== ruleId);
    const groups = await listGroupsOf(kv, userId);
    assertNoDuplicate(next, others, prev, groups);
    assertGraph([...others, next], groups);
    const op = guarded.check(ruleSet).check(entry)
      .set(entry.key, storeRule(next))
      .set(keys.ruleSet(userId), RuleSetSchema.parse({ v: 1, changedAt: next.updatedAt }));
    const removalKey = keys.mirrorRemoval(userId, ruleId);
    if (prev.enabled && !next.enabled && opts.removeMirrors) {
      op.set(removalKey, withUndo(removalFor(prev, false, opts.now), opts.undoUntil));
    } else if (next.enabled) {
      op.delete(removalKey);
    }
    return { op, result: next };
  });
  return { rule: res!.result!, versionstamp: res!.versionstamp };
}

/** A removal request with an undo window (and, for a deleted owner, what brings it back). */
export function withUndo(removal: MirrorRemoval, until?: Date, restore?: unknown): MirrorRemoval {
  if (!until) return removal;
  return MirrorRemovalSchema.parse({
    ...removal,
    undoUntil: until.toISOString(),
    ...(restore === undefined ? {} : { restore }),
  });
}

function removalFor(
  rule: Rule,
  ruleDeleted: boolean,
  now: Date,
  accountDisconnected = false,
): MirrorRemoval {
  return MirrorRemovalSchema.parse({
    v: 1,
    ruleId: rule.id,
    targets: targetsOf(rule),
    sources: buildEdges([rule]).map((e) => e.source),
    ruleDeleted,
    name: rule.name,
    accountDisconnected,
    requestedAt: now.toISOString(),
  });
}

/**
 * Deletes a rule. With `removeMirrors` (the default a user is offered) its mirrors are queued
 * for removal by the engine, which also forgets its ledger then; without, the mirrors stay
 * where they are, released (a reconcile never touches them), and the ledger is forgotten now.
 * `accountDisconnected` records that its account's disconnection deleted it, for the run's words.
 * Returns the deleted rule; throws RuleNotFoundError.
 */
export async function deleteRule(
  kv: Deno.Kv,
  userId: string,
  ruleId: string,
  opts: {
    now: Date;
    removeMirrors: boolean;
    ifVersionstamp?: string;
    accountDisconnected?: boolean;
    undoUntil?: Date;
  },
): Promise<Rule> {
  const res = await commitWithRetry<Rule>(async () => {
    const ruleSet = await kv.get(keys.ruleSet(userId));
    const entry = await kv.get(keys.rule(userId, ruleId));
    if (entry.value === null) throw new RuleNotFoundError(ruleId);
    if (opts.ifVersionstamp !== undefined && opts.ifVersionstamp !== entry.versionstamp) {
      throw new ConflictError("the rule was changed meanwhile; reload it and try again");
    }
    const rule = readRule(entry.value);
    const at = opts.now.toISOString();
    const op = kv.atomic().check(ruleSet).check(entry)
      .delete(entry.key)
      .delete(keys.ruleFailures(userId, ruleId))
      .set(keys.ruleSet(userId), RuleSetSchema.parse({ v: 1, changedAt: at }));
    if (opts.removeMirrors) {
      op.set(
        keys.mirrorRemoval(userId, ruleId),
        withUndo(
          removalFor(rule, true, opts.now, opts.accountDisconnected),
          opts.undoUntil,
          storeRule(rule),
        ),
      );
    } else {
      op.delete(keys.mirrorRemoval(userId, ruleId)).set(
        keys.releasedRule(userId, ruleId),
        ReleasedRuleSchema.parse({ v: 1, ruleId, releasedAt: at }),
      );
    }
    return { op, result: rule };
  });
  if (!opts.removeMirrors) await forgetLedger(kv, userId, { ruleId });
  return res!.result!;
}

/**
 * Sets a rule's status and reason (the engine's verdict), fenced by the sync lease. A status
 * is not an edit: `updatedAt` stays. No-op when the rule is gone or already says exactly this.
 */
export async function setRuleStatus(
  kv: Deno.Kv,
  fence: Fence,
  userId: string,
  ruleId: string,
  status: RuleStatus,
  reason?: string,
): Promise<void> {
  for (;;) {
    const entry = await kv.get(keys.rule(userId, ruleId));
    if (entry.value === null) return;
    const rule = readRule(entry.value);
    if (rule.status === status && rule.statusReason === reason) return;
    const next: Rule = { ...rule, status, statusReason: reason?.slice(0, 500) };
    // False when the rule changed meanwhile (a user edit): read it again.
    if (await fence.commit((op) => op.check(entry).set(entry.key, storeRule(next)))) return;
  }
}

/** Pending "remove its mirrors" requests of the user. */
export async function listMirrorRemovals(kv: Deno.Kv, userId: string): Promise<MirrorRemoval[]> {
  const out: MirrorRemoval[] = [];
  for await (const entry of kv.list({ prefix: keys.mirrorRemovals(userId) })) {
    out.push(MirrorRemovalSchema.parse(entry.value));
  }
  return out;
}

/**
 * Marks a removal request done (its mirrors and ledger are gone). Fenced. One that offered an
 * undo leaves a note for a day, so that a late undo is told what became of it.
 */
export async function completeMirrorRemoval(
  fence: Fence,
  userId: string,
  removal: Pick<MirrorRemoval, "ruleId" | "undoUntil">,
): Promise<void> {
  await fence.commit((op) => {
    op.delete(keys.mirrorRemoval(userId, removal.ruleId));
    const spent = keys.spentUndo(userId, removal.ruleId);
    // A removal without a window leaves no note, and clears an older one: nothing to undo.
    if (removal.undoUntil) op.set(spent, { v: 1 }, { expireIn: SPENT_UNDO_KEPT_MS });
    else op.delete(spent);
    return op;
  });
}

/** How long a late undo is told the blocks were removed (then: nothing to undo). */
const SPENT_UNDO_KEPT_MS = 24 * 3600_000;

/** Ids of rules deleted with their mirrors kept. */
export async function listReleasedRuleIds(kv: Deno.Kv, userId: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const entry of kv.list({ prefix: keys.releasedRules(userId) })) {
    out.add(ReleasedRuleSchema.parse(entry.value).ruleId);
  }
  return out;
}
