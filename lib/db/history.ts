/**
 * Sync history: one record per run (what started it, when, per rule what it did, every error
 * with its cause, API calls used) and, in a separate key, the run's per-event actions, capped.
 * Retention is both by age (expireIn) and by count (the oldest beyond the limit are deleted
 * after each save); expiry is not prompt, so the count limit is what bounds the store.
 */
import { z } from "zod";
import { SYNC_TRIGGERS } from "../model/sync_reasons.ts";
import { RULE_STATUSES } from "../model/rule.ts";
import { commitOnce } from "./commit.ts";
import { keys } from "./keys.ts";

/** Most errors and actions a record keeps; the rest are counted, not stored (64 KiB values). */
export const MAX_RUN_ERRORS = 50;
export const MAX_RUN_ACTIONS = 200;

const count = z.number().int().min(0);

/** Why a run removed an owner's busy blocks: what the person did to it. */
export const REMOVED_OWNER_CAUSES = ["turned_off", "deleted", "account_disconnected"] as const;
export type RemovedOwnerCause = (typeof REMOVED_OWNER_CAUSES)[number];

const RuleRunSchema = z.object({
  /** The rule's id, or the group's (then `kind` says so). */
  ruleId: z.string(),
  kind: z.literal("group").optional(),
  /** Its name at the time of the run (older runs lack it), so a deleted owner is still named. */
  name: z.string().optional(),
  /**
   * What the person did that made this run remove its busy blocks: turned it off, deleted it,
   * or disconnected an account it used (which deleted it).
   */
  removed: z.enum(REMOVED_OWNER_CAUSES).optional(),
  /** Mirrors inserted. */
  created: count,
  /** Mirrors that had been deleted (by hand, or by busysync earlier) and were brought back. */
  restored: count.default(0),
  /** Mirrors patched in place. */
  updated: count,
  deleted: count,
  /** Mirrors the run went to delete and found gone already: no write. */
  alreadyGone: count.default(0),
  /** Listed events whose mirror was already right: no write. */
  unchanged: count,
  /** Listed events this rule does not mirror (filtered, outside its window, mirrors). */
  skipped: count,
  /** Ops attempted that failed. */
  failed: count,
  /** The rule's status after the run; absent on a line of an owner turned off or deleted. */
  status: z.enum(RULE_STATUSES).optional(),
  statusReason: z.string().optional(),
});
export type RuleRun = z.infer<typeof RuleRunSchema>;

const RunErrorSchema = z.object({
  ruleId: z.string().optional(),
  /** The calendar involved, as calendarKey. */
  calendar: z.string().optional(),
  /** The error's type, e.g. CalendarNotFoundError. */
  error: z.string(),
  message: z.string(),
  /** The underlying failure's message (a Google reason, a network error ...). */
  cause: z.string().optional(),
});
export type RunError = z.infer<typeof RunErrorSchema>;

const ApiCallsSchema = z.object({
  /** HTTP requests as the provider's policy counted them (retries included), when known. */
  requests: count.optional(),
  /** Engine-level operations: listings (pages), writes, deletes, marker searches. */
  listPages: count,
  putMirror: count,
  deleteMirror: count,
  listMarked: count,
  /** HTTP requests by API method ("events.insert" ...), retries included, as the provider sent them. */
  methods: z.record(z.string(), count).default({}),
});
export type ApiCalls = z.infer<typeof ApiCallsSchema>;

export const RunRecordSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  userId: z.string(),
  trigger: z.enum(SYNC_TRIGGERS),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  dryRun: z.boolean(),
  full: z.boolean(),
  /** ok: everything applied; partial: some rules failed; failed: the run stopped. */
  outcome: z.enum(["ok", "partial", "failed"]),
  rules: z.array(RuleRunSchema),
  errors: z.array(RunErrorSchema).max(MAX_RUN_ERRORS),
  errorsDropped: count,
  apiCalls: ApiCallsSchema,
  actionsDropped: count,
  /**
   * When retention ends (set by saveRun), kept in the record because KV does not return
   * expireIn: a restore re-applies it, so no run outlives BUSYSYNC_HISTORY_MAX_DAYS.
   */
  expiresAt: z.iso.datetime().optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** What a write did, as the calendar service answered it. */
export const WRITE_OUTCOMES = [
  "created",
  "restored",
  "patched",
  "deleted",
  "already_gone",
] as const;
export type WriteOutcome = (typeof WRITE_OUTCOMES)[number];

const EventTimeSchema = z.union([
  z.object({ date: z.string().max(10) }),
  z.object({ dateTime: z.string().max(40), timeZone: z.string().max(64).optional() }),
]);

export const ActionSchema = z.object({
  ruleId: z.string(),
  /** "forward" or "reverse" for a rule; a group's pair key (group_edges.ts). */
  direction: z.string().max(64),
  /** What the plan asked for; "skip": an event the rule leaves out (`reason` says why). */
  kind: z.enum(["create", "patch", "delete", "skip"]),
  /** What the write turned out to do; absent in records from before it was kept. */
  outcome: z.enum(WRITE_OUTCOMES).optional(),
  reason: z.string(),
  sourceEventId: z.string(),
  mirrorId: z.string(),
  /** The target calendar, as calendarKey. */
  target: z.string(),
  /** The source event's title, encrypted (history_titles.ts), when the run read the event. */
  title: z.string().max(4096).optional(),
  /** The source event's time, when the run read the event. */
  start: EventTimeSchema.optional(),
  end: EventTimeSchema.optional(),
});
export type RunAction = z.infer<typeof ActionSchema>;

/** Left-out events a run lists on top of its writes; the per-rule counts say how many in all. */
export const MAX_LEFT_OUT_ACTIONS = 50;

export const ActionsRecordSchema = z.object({
  v: z.literal(1),
  actions: z.array(ActionSchema).max(MAX_RUN_ACTIONS + MAX_LEFT_OUT_ACTIONS),
  /**
   * When retention ends, kept in the record because KV does not return expireIn: a restore
   * (backup.ts) re-applies it and skips records past it, so old titles do not come back.
   */
  expiresAt: z.iso.datetime().optional(),
});

export interface Retention {
  maxRuns: number;
  maxDays: number;
}

const DAY_MS = 86_400_000;
/** Deno KV refuses values over 64 KiB; JSON length is close to its encoding, hence a margin. */
const MAX_ACTIONS_CHARS = 48_000;
const TRIM_BATCH = 100;

/**
 * Stores a run with its actions (both expiring after `maxDays`), then deletes the user's
 * oldest runs beyond `maxRuns`. Throws a ZodError for a malformed record (a bug, not data).
 */
export async function saveRun(
  kv: Deno.Kv,
  record: RunRecord,
  actions: RunAction[],
  retention: Retention,
): Promise<void> {
  const expireIn = retention.maxDays * DAY_MS;
  const expiresAt = new Date(Date.parse(record.endedAt) + expireIn).toISOString();
  const run = RunRecordSchema.parse({ ...record, expiresAt });
  const stored = ActionsRecordSchema.parse({ v: 1, actions, expiresAt });
  // Titles and times make actions long: the last ones go (counted) so the value fits KV's cap.
  while (stored.actions.length > 0 && JSON.stringify(stored).length > MAX_ACTIONS_CHARS) {
    stored.actions.pop();
    run.actionsDropped++;
  }
  await commitOnce(() =>
    kv.atomic()
      .set(keys.run(run.userId, run.id), run, { expireIn })
      .set(keys.runActions(run.userId, run.id), stored, { expireIn })
  );
  await trimRuns(kv, run.userId, retention.maxRuns);
}

async function trimRuns(kv: Deno.Kv, userId: string, maxRuns: number): Promise<void> {
  let seen = 0;
  let doomed: string[] = [];
  const flush = async () => {
    const ids = doomed;
    doomed = [];
    await commitOnce(() => {
      const op = kv.atomic();
      for (const id of ids) op.delete(keys.run(userId, id)).delete(keys.runActions(userId, id));
      return op;
    });
  };
  for await (const entry of kv.list({ prefix: keys.runs(userId) }, { reverse: true })) {
    if (++seen <= maxRuns) continue;
    doomed.push(String(entry.key.at(-1)));
    if (doomed.length >= TRIM_BATCH) await flush();
  }
  if (doomed.length) await flush();
}

/** Most records one page looks at for a filter, so a rare match cannot make a page slow. */
const MAX_SCANNED_PER_PAGE = 1000;

/**
 * A page of the user's runs, newest first, of those `match` accepts (default: all); pass the
 * returned cursor for the next page. A filtered page may hold fewer than `limit` runs and
 * still have a cursor when it stopped looking after MAX_SCANNED_PER_PAGE records.
 */
export async function listRuns(
  kv: Deno.Kv,
  userId: string,
  opts: { limit?: number; cursor?: string; match?: (run: RunRecord) => boolean } = {},
): Promise<{ items: RunRecord[]; cursor?: string }> {
  const limit = opts.limit ?? 20;
  const iter = kv.list(
    { prefix: keys.runs(userId) },
    { reverse: true, cursor: opts.cursor, ...(opts.match ? {} : { limit }) },
  );
  const items: RunRecord[] = [];
  let scanned = 0;
  for await (const entry of iter) {
    const run = RunRecordSchema.parse(entry.value);
    if (!opts.match || opts.match(run)) items.push(run);
    if (items.length === limit || ++scanned === MAX_SCANNED_PER_PAGE) {
      // The cursor of the last record looked at; an empty next page is possible and harmless.
      return { items, cursor: iter.cursor };
    }
  }
  return { items };
}

/** One run and its recorded actions, or null when it is unknown or past retention. */
export async function getRun(
  kv: Deno.Kv,
  userId: string,
  runId: string,
): Promise<{ run: RunRecord; actions: RunAction[] } | null> {
  const [run, actions] = await kv.getMany([
    keys.run(userId, runId),
    keys.runActions(userId, runId),
  ]);
  if (run.value === null) return null;
  return {
    run: RunRecordSchema.parse(run.value),
    actions: actions.value === null ? [] : ActionsRecordSchema.parse(actions.value).actions,
  };
}
