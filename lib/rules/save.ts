/**
 * Saving a rule, as the JSON API and the CLI both do it: check the rule as it would be against
 * the user's calendars and other rules, store it, and queue the sync that carries the change
 * out. Domain failures are typed errors (RuleUnacceptableError, RuleInvalidError here;
 * RuleNotFoundError, RuleRejectedError and ConflictError from the store), which each caller
 * turns into its own answer (an HTTP status, an exit code).
 */
import { ZodError } from "zod";
import { countOwnerBlocks, UNDO_WINDOW_MS } from "../db/undo_windows.ts";
import {
  createRule,
  deleteRule,
  getRule,
  type RuleEntry,
  RuleNotFoundError,
  updateRule,
} from "../db/rules.ts";
import {
  applyRulePatch,
  buildRule,
  type Rule,
  type RuleInput,
  type RulePatch,
} from "../model/rule.ts";
import { type OwnerChange, ownerChangeReason } from "../model/sync_reasons.ts";
import type { SyncDeps } from "../sync/engine.ts";
import type { SyncRequests } from "../sync/requests.ts";
import { checkRule, type PropagationHint, type RuleProblem } from "./check.ts";
import { previewOwner, type RulePreview } from "./preview.ts";

/** What saving a rule needs; the app and the CLI pass their own. */
export interface RuleSaveDeps {
  kv: Deno.Kv;
  now: () => Date;
  /** Where the sync of a saved rule is asked for (the KV job table). */
  syncRequests: Pick<SyncRequests, "request">;
}

/** What checking a draft needs: no sync is queued. */
export type RuleDraftDeps = Pick<RuleSaveDeps, "kv" | "now">;

/** What a dry run needs: the engine's dependencies for the user. */
export interface RuleDryRunDeps {
  kv: Deno.Kv;
  syncDeps: (userId: string) => SyncDeps;
}

/**
 * The rule cannot be accepted as the user's calendars and rules stand (an unknown or unwritable
 * calendar, a cycle, a self-target): `problems` says why, first problem first.
 */
export class RuleUnacceptableError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    super(problems.map((p) => p.message).join(" "));
    this.name = "RuleUnacceptableError";
  }
}

/** The rule with a change applied is invalid as a whole (its fields each were valid). */
export class RuleInvalidError extends Error {
  constructor(readonly zodError: ZodError) {
    super(zodError.issues.map((i) => i.message).join("; "));
    this.name = "RuleInvalidError";
  }
}

/** A rule as stored, and the sync job queued to carry the change out (none when nothing is due). */
export interface SavedRule extends RuleEntry {
  syncJobId?: string;
  /** Turned off with an undo window: until when, and the blocks its removal would take. */
  undo?: UndoWindow;
}

/** An undo window that a change opened. */
export interface UndoWindow {
  expiresAt: string;
  blocks: number;
}

/** The id a rule has before it is saved (stored ids are ULIDs, so it never names one). */
export const UNSAVED_ID = "draft";

/**
 * Creates a rule after checking it, and queues its sync when it is on. Throws
 * RuleUnacceptableError, RuleRejectedError (the rule set changed meanwhile and now refuses it)
 * or RuleInvalidError.
 */
export async function addRule(
  deps: RuleSaveDeps,
  userId: string,
  input: RuleInput,
): Promise<SavedRule> {
  const candidate = buildRule(input, { id: UNSAVED_ID, now: deps.now() });
  await assertAcceptable(deps.kv, userId, candidate);
  const entry = await invalidAsTyped(() => createRule(deps.kv, userId, input, { now: deps.now() }));
  if (!entry.rule.enabled) return entry;
  return { ...entry, syncJobId: await queueSync(deps, userId, entry.rule.id, "created") };
}

/**
 * Changes a rule (a PUT's replacement or a PATCH's partial change, e.g. `{ enabled: false }`):
 * checks the rule as it would be, stores it (with `ifVersionstamp`, only if the rule is still
 * at that version) and queues a sync when the rule is on, or was turned off and its mirrors
 * go (unless `keepMirrors`). Throws RuleNotFoundError, ConflictError, RuleUnacceptableError,
 * RuleRejectedError or RuleInvalidError.
 */
export async function changeRule(
  deps: RuleSaveDeps,
  userId: string,
  ruleId: string,
  patch: RulePatch,
  opts: { keepMirrors: boolean; ifVersionstamp?: string; undo?: boolean },
): Promise<SavedRule> {
  const { rule } = await findRule(deps.kv, userId, ruleId);
  const next = await invalidAsTyped(() => Promise.resolve(applyRulePatch(rule, patch, deps.now())));
  await assertAcceptable(deps.kv, userId, next);
  const window = opts.undo && rule.enabled && !next.enabled && !opts.keepMirrors
    ? await openUndoWindow(deps, userId, ruleId)
    : undefined;
  const entry = await invalidAsTyped(() =>
    updateRule(deps.kv, userId, ruleId, patch, {
      now: deps.now(),
      ...(opts.ifVersionstamp !== undefined ? { ifVersionstamp: opts.ifVersionstamp } : {}),
      removeMirrors: !opts.keepMirrors,
      ...(window ? { undoUntil: new Date(window.expiresAt) } : {}),
    })
  );
  // An enabled rule syncs its changes; a rule turned off syncs to have its mirrors removed.
  if (!entry.rule.enabled && !(rule.enabled && !opts.keepMirrors)) return entry;
  const change = !entry.rule.enabled ? "turned_off" : rule.enabled ? "changed" : "turned_on";
  const syncJobId = await queueSync(deps, userId, ruleId, change, window);
  return { ...entry, syncJobId, ...(window ? { undo: window } : {}) };
}

/**
 * The undo window a change opening now would get, with the busy blocks its removal would take
 * (the rule's or group's ledger, which the change leaves as it is).
 */
export async function openUndoWindow(
  deps: Pick<RuleSaveDeps, "kv" | "now">,
  userId: string,
  ownerId: string,
): Promise<UndoWindow> {
  return {
    expiresAt: new Date(deps.now().getTime() + UNDO_WINDOW_MS).toISOString(),
    blocks: await countOwnerBlocks(deps.kv, userId, ownerId),
  };
}

/**
 * Deletes a rule. Its mirrors are removed by the sync it queues, unless `keepMirrors` (they
 * then stay, never touched again). Returns the deleted rule and that job; throws RuleNotFoundError or
 * ConflictError (with `ifVersionstamp`, when the rule changed since).
 */
export async function removeRule(
  deps: RuleSaveDeps,
  userId: string,
  ruleId: string,
  opts: { keepMirrors: boolean; ifVersionstamp?: string; undo?: boolean },
): Promise<{ rule: Rule; syncJobId?: string; undo?: UndoWindow }> {
  const window = opts.undo && !opts.keepMirrors
    ? await openUndoWindow(deps, userId, ruleId)
    : undefined;
  const rule = await invalidAsTyped(() =>
    deleteRule(deps.kv, userId, ruleId, {
      now: deps.now(),
      removeMirrors: !opts.keepMirrors,
      ...(opts.ifVersionstamp !== undefined ? { ifVersionstamp: opts.ifVersionstamp } : {}),
      ...(window ? { undoUntil: new Date(window.expiresAt) } : {}),
    })
  );
  // The engine removes pending rules' mirrors at the start of any run: one job suffices.
  if (opts.keepMirrors) return { rule };
  const syncJobId = await queueSync(deps, userId, ruleId, "deleted", window);
  return { rule, syncJobId, ...(window ? { undo: window } : {}) };
}

/**
 * The rule a draft would be: a new one, or with `id` the user's stored rule it would replace
 * (keeping its id and creation time). Throws RuleNotFoundError when the user has no rule `id`.
 */
export async function draftRule(
  deps: RuleDraftDeps,
  userId: string,
  input: RuleInput,
  id?: string,
): Promise<Rule> {
  const stored = id === undefined ? undefined : (await findRule(deps.kv, userId, id)).rule;
  const rule = buildRule(input, { id: stored?.id ?? UNSAVED_ID, now: deps.now() });
  return stored ? { ...rule, createdAt: stored.createdAt } : rule;
}

/**
 * Checks a draft without saving it; returns the chains of rules that would stop short.
 * Throws RuleNotFoundError (no stored rule `id`) or RuleUnacceptableError.
 */
export async function validateDraft(
  deps: RuleDraftDeps,
  userId: string,
  input: RuleInput,
  id?: string,
): Promise<{ hints: PropagationHint[] }> {
  const candidate = await draftRule(deps, userId, input, id);
  const { hints } = await assertAcceptable(deps.kv, userId, candidate);
  return { hints };
}

/**
 * What `rule` (a draft or a stored rule) would do if it ran now, as if it were on; nothing is
 * written. Only the rule's own calendars are checked, not the rest of the rule set: a preview
 * shows what a rule would do whatever the others say. Throws RuleUnacceptableError.
 */
export async function dryRunRule(
  deps: RuleDryRunDeps,
  userId: string,
  rule: Rule,
): Promise<RulePreview> {
  await assertAcceptable(deps.kv, userId, rule, { graph: false });
  return await previewOwner(deps.syncDeps(userId), rule);
}

async function findRule(kv: Deno.Kv, userId: string, ruleId: string): Promise<RuleEntry> {
  const entry = await getRule(kv, userId, ruleId);
  if (!entry) throw new RuleNotFoundError(ruleId);
  return entry;
}

/** The check of `candidate`; throws RuleUnacceptableError when it has problems. */
async function assertAcceptable(
  kv: Deno.Kv,
  userId: string,
  candidate: Rule,
  opts: { graph?: boolean } = {},
) {
  const check = await checkRule(kv, userId, candidate, opts);
  if (check.problems.length) throw new RuleUnacceptableError(check.problems);
  return check;
}

/** A ZodError of a merge or of the store (the rule invalid as a whole) as RuleInvalidError. */
async function invalidAsTyped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ZodError) throw new RuleInvalidError(err);
    throw err;
  }
}

/** Queues the sync that carries out `change` of the rule, named by what the person did. */
async function queueSync(
  deps: RuleSaveDeps,
  userId: string,
  ruleId: string,
  change: OwnerChange,
  window?: UndoWindow,
): Promise<string> {
  const { jobId } = await deps.syncRequests.request(userId, {
    reason: ownerChangeReason("rule", change),
    ruleIds: [ruleId],
    // Due when the window ends: the run it starts removes the blocks, unless undone.
    ...(window ? { delayMs: Date.parse(window.expiresAt) - deps.now().getTime() } : {}),
  });
  return jobId;
}
