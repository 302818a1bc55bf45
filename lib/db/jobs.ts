/**
 * The job table: every sync trigger (a click, a rule save, a push notification, a cron tick) is
 * a job here, run by whichever instance's worker claims it first. A table rather than
 * `kv.enqueue`, because a remote KV reached through KV Connect has no queues (PLATFORM.md): the
 * same code runs on one instance and on many.
 *
 * Layout (keys.ts): the record under ["jobs", id]; one pointer under ["jobs_due", atMs, id] per
 * unfinished job, at its due time while waiting and at its claim's expiry while running, so a
 * job whose worker died becomes due again by itself; ["jobs_waiting", user, reason] names the
 * waiting job a new request of that reason joins; ["ticks", tick, user] makes a cron tick
 * enqueue a user once however many instances' crons fire. Every change of a job checks the
 * versionstamp it read, so two workers can never both claim, renew or finish one job.
 */
import { z } from "zod";
import { SYNC_REASONS, type SyncReason } from "../model/sync_reasons.ts";
import { commitOnce, commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";
import { getAll, listIndexed } from "./kv.ts";

const JobSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  userId: z.string(),
  reason: z.enum(SYNC_REASONS),
  /** Sync only the sources of these rules; absent: every rule. */
  ruleIds: z.array(z.string()).optional(),
  full: z.boolean(),
  confirmRuleIds: z.array(z.string()).optional(),
  state: z.enum(["waiting", "running", "done", "failed"]),
  createdAt: z.iso.datetime(),
  dueAt: z.iso.datetime(),
  /** A debounced job's due time slides with each request it absorbs, but never past this. */
  dueAtMost: z.iso.datetime(),
  /** Times a worker started it (a start cut short by a lease held elsewhere is not counted). */
  attempts: z.number().int().min(0),
  claimedBy: z.string().optional(),
  claimUntil: z.iso.datetime().optional(),
  runId: z.string().optional(),
  /** The last failure's message (kept while it is retried, and when it failed for good). */
  error: z.string().optional(),
  endedAt: z.iso.datetime().optional(),
});
export type Job = z.infer<typeof JobSchema>;

/** A job together with the versionstamp it was read at: the claim's fence. */
export interface JobEntry {
  job: Job;
  versionstamp: string;
}

export interface JobRequest {
  reason: SyncReason;
  ruleIds?: readonly string[];
  full?: boolean;
  confirmRuleIds?: readonly string[];
}

export interface EnqueueOptions {
  now: Date;
  newId: () => string;
  /** Due this long after `now` (a debounce); joining a waiting job pushes its due time too. */
  delayMs?: number;
  /** How far a debounced job may be pushed back in all, from its creation. */
  maxDelayMs?: number;
  /**
   * A cron tick: enqueue only if this tick has not enqueued the user yet. `poll`: a CalDAV or
   * ICS feed poll tick, each numbered on its own interval.
   */
  tick?: { id: number; keepMs: number; poll?: "caldav" | "ics" };
  /**
   * A job of its own that joins no waiting job and that no request joins: an undo window's
   * removal, which must neither wait for a debounce nor hold back an immediate request.
   */
  alone?: boolean;
}

/** Finished jobs are kept this long for `wait` and the status page, then expire. */
const FINISHED_JOB_KEPT_MS = 24 * 3600_000;

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** Where a job's due pointer is: its due time while waiting, its claim expiry while running. */
function pointerAt(job: Job): number {
  return job.state === "running" ? ms(job.claimUntil!) : ms(job.dueAt);
}

function readJob(value: unknown): Job {
  return JobSchema.parse(value);
}

/** Union of two rule selections; absent (every rule) absorbs any selection. */
function unionIds(a?: readonly string[], b?: readonly string[]): string[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  return [...new Set([...a, ...b])].sort();
}

function unionConfirmed(a?: readonly string[], b?: readonly string[]): string[] | undefined {
  if (!a?.length && !b?.length) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])].sort();
}

/**
 * Enqueues a job for the user, or joins the user's waiting job of the same reason (widening
 * its rule selection, making it full if either is, and for a debounced request moving its due
 * time to `now + delayMs`, within `maxDelayMs` of its creation). A request never joins a job
 * that already runs: that run may have listed its calendars before this trigger's change.
 * With `tick`, a user already enqueued by this tick is not enqueued again. Returns the job id
 * and whether a new job was created.
 */
export async function enqueueJob(
  kv: Deno.Kv,
  userId: string,
  request: JobRequest,
  opts: EnqueueOptions,
): Promise<{ jobId: string; created: boolean }> {
  const now = opts.now.getTime();
  const delay = opts.delayMs ?? 0;
  let unchanged: string | undefined;
  const res = await commitWithRetry<{ jobId: string; created: boolean }>(async () => {
    unchanged = undefined;
    const tickKey = opts.tick &&
      (opts.tick.poll === "ics" ? keys.icsPollTick : opts.tick.poll ? keys.pollTick : keys.tick)(
        opts.tick.id,
        userId,
      );
    const tick = tickKey ? await kv.get<string>(tickKey) : null;
    if (tick?.value) {
      return { op: kv.atomic().check(tick), result: { jobId: tick.value, created: false } };
    }
    const waitingKey = keys.waitingJob(userId, request.reason);
    const waiting = await kv.get<string>(waitingKey);
    const existing = waiting.value && !opts.alone ? await kv.get(keys.job(waiting.value)) : null;
    const markTick = (op: Deno.AtomicOperation, jobId: string) => {
      if (tick && tickKey) {
        op.check(tick).set(tickKey, jobId, { expireIn: opts.tick!.keepMs });
      }
      return op;
    };
    if (existing?.value) {
      const job = readJob(existing.value);
      if (job.state === "waiting") {
        const dueAt = Math.max(ms(job.dueAt), Math.min(now + delay, ms(job.dueAtMost)));
        const next: Job = {
          ...job,
          ruleIds: unionIds(job.ruleIds, request.ruleIds),
          full: job.full || (request.full ?? false),
          confirmRuleIds: unionConfirmed(job.confirmRuleIds, request.confirmRuleIds),
          dueAt: iso(dueAt),
        };
        // A burst of notifications mostly joins without a write (a commit costs ~6 ms on a
        // file store): only a due time moving by a quarter of the debounce or more is written.
        // Unwritten is safe: a job claimed after this read lists after this trigger's change.
        if (!tick && sameSelection(job, next) && dueAt - ms(job.dueAt) < delay / 4) {
          unchanged = job.id;
          return null;
        }
        const op = kv.atomic().check(waiting).check(existing).set(existing.key, next);
        if (dueAt !== ms(job.dueAt)) {
          op.delete(keys.jobDue(pointerAt(job), job.id)).set(keys.jobDue(dueAt, job.id), job.id);
        }
        return { op: markTick(op, job.id), result: { jobId: job.id, created: false } };
      }
    }
    const id = opts.newId();
    const job = JobSchema.parse(
      {
        v: 1,
        id,
        userId,
        reason: request.reason,
        ...(request.ruleIds ? { ruleIds: [...new Set(request.ruleIds)].sort() } : {}),
        full: request.full ?? false,
        ...(request.confirmRuleIds?.length
          ? { confirmRuleIds: [...new Set(request.confirmRuleIds)].sort() }
          : {}),
        state: "waiting",
        createdAt: iso(now),
        dueAt: iso(now + delay),
        dueAtMost: iso(now + Math.max(delay, opts.maxDelayMs ?? delay)),
        attempts: 0,
      } satisfies Job,
    );
    const op = kv.atomic().check(waiting).check({ key: keys.job(id), versionstamp: null })
      .set(keys.job(id), job)
      .set(keys.jobDue(now + delay, id), id)
      .set(keys.jobByUser(userId, id), id)
      .set(keys.jobOpenByUser(userId, id), id);
    if (!opts.alone) op.set(waitingKey, id);
    return { op: markTick(op, id), result: { jobId: id, created: true } };
  });
  if (res === null) return { jobId: unchanged!, created: false };
  return res.result!;
}

function sameSelection(a: Job, b: Job): boolean {
  const ids = (x?: readonly string[]) => x === undefined ? "*" : x.join(",");
  return ids(a.ruleIds) === ids(b.ruleIds) && a.full === b.full &&
    ids(a.confirmRuleIds) === ids(b.confirmRuleIds);
}

/** The job, or null when it is unknown or expired. */
export async function getJob(kv: Deno.Kv, jobId: string): Promise<Job | null> {
  const entry = await kv.get(keys.job(jobId));
  return entry.value === null ? null : readJob(entry.value);
}

/** The user's jobs still on record (unfinished, and finished ones until they expire), oldest first. */
export function listJobsOfUser(kv: Deno.Kv, userId: string): Promise<Job[]> {
  return listIndexed(kv, keys.jobsByUser(userId), keys.job, readJob);
}

/** The user's waiting and running jobs: what a status shows, whatever the day's job count. */
export async function listOpenJobsOfUser(kv: Deno.Kv, userId: string): Promise<Job[]> {
  const jobs = await listIndexed(kv, keys.jobsOpenByUser(userId), keys.job, readJob);
  return jobs.filter((job) => job.state === "waiting" || job.state === "running");
}

/**
 * Every job on record, of every user: the unfinished ones and those that ended in the last day
 * (finished jobs expire). One listing of the table, for the owner's page.
 */
export async function listRecentJobs(kv: Deno.Kv): Promise<Job[]> {
  const jobs: Job[] = [];
  for await (const entry of kv.list({ prefix: keys.allJobs() })) jobs.push(readJob(entry.value));
  return jobs;
}

/** Indexes every unfinished job under its user (migration 0002); rerunning it is harmless. */
export async function indexOpenJobs(kv: Deno.Kv): Promise<void> {
  // jobs_due points at every unfinished job.
  for await (const pointer of kv.list<string>({ prefix: keys.jobsDue() })) {
    // Read and written together, retried: indexing is right whatever changed meanwhile, unless
    // the job finished (or went).
    await commitWithRetry(async () => {
      const entry = await kv.get(keys.job(pointer.value));
      if (entry.value === null) return null;
      const job = readJob(entry.value);
      if (job.state === "done" || job.state === "failed") return null;
      return {
        op: kv.atomic().check(entry).set(keys.jobOpenByUser(job.userId, job.id), job.id),
      };
    });
  }
}

/** When the earliest unfinished job becomes due (or its claim expires), in epoch ms; or null. */
export async function nextDueAt(kv: Deno.Kv): Promise<number | null> {
  for await (const entry of kv.list({ prefix: keys.jobsDue() }, { limit: 1 })) {
    return Number(entry.key[1]);
  }
  return null;
}

/** The job table at one moment, as the metrics show it. */
export interface OpenJobCounts {
  /** Jobs waiting for a worker, due or not yet (a debounced push job), by reason. */
  waiting: Record<SyncReason, number>;
  running: number;
  /** How long the waiting job due the earliest has been due, in ms; 0 when none is due. */
  oldestDueMs: number;
}

/**
 * Counts the unfinished jobs (every one has a `jobs_due` pointer). Reads each job's record, so
 * it costs a read per unfinished job: a handful on a healthy instance, where a long queue is
 * itself what the count is for.
 */
export async function countOpenJobs(kv: Deno.Kv, now: Date): Promise<OpenJobCounts> {
  const ids: string[] = [];
  for await (const pointer of kv.list<string>({ prefix: keys.jobsDue() })) ids.push(pointer.value);
  const counts: OpenJobCounts = {
    waiting: Object.fromEntries(SYNC_REASONS.map((r) => [r, 0])) as Record<SyncReason, number>,
    running: 0,
    oldestDueMs: 0,
  };
  for (const entry of await getAll(kv, ids.map(keys.job))) {
    if (entry.value === null) continue;
    const job = readJob(entry.value);
    if (job.state === "running") counts.running++;
    if (job.state !== "waiting") continue;
    counts.waiting[job.reason]++;
    counts.oldestDueMs = Math.max(counts.oldestDueMs, now.getTime() - Date.parse(job.dueAt));
  }
  return counts;
}

export interface ClaimOptions {
  owner: string;
  now: Date;
  /** How long the claim lasts unless renewed; a dead worker's job is due again after it. */
  claimMs: number;
  /** Users whose jobs this worker must not claim now (it is running one of theirs). */
  skipUsers?: ReadonlySet<string>;
}

/**
 * Claims the earliest due job: a waiting job whose time has come, or a running one whose
 * claim expired (its worker died). Returns it with the versionstamp that fences the claim, or
 * null when nothing is due. The claim counts an attempt and ends the job's "waiting" status,
 * so later requests create a new job instead of joining one that may have listed already.
 */
export async function claimDueJob(kv: Deno.Kv, opts: ClaimOptions): Promise<JobEntry | null> {
  const now = opts.now.getTime();
  const due = kv.list<string>(
    { prefix: keys.jobsDue(), end: keys.jobsDueBefore(now + 1) },
    { limit: 50 },
  );
  for await (const pointer of due) {
    const jobId = pointer.value;
    const entry = await kv.get(keys.job(jobId));
    if (entry.value === null) {
      // The record expired or was removed under a stale pointer: drop the pointer.
      await commitOnce(() => kv.atomic().check(pointer).delete(pointer.key));
      continue;
    }
    const job = readJob(entry.value);
    if (opts.skipUsers?.has(job.userId)) continue;
    if (pointerAt(job) > now || job.state === "done" || job.state === "failed") continue;
    const waitingKey = keys.waitingJob(job.userId, job.reason);
    const waiting = await kv.get<string>(waitingKey);
    const claimUntil = now + opts.claimMs;
    const next: Job = {
      ...job,
      state: "running",
      attempts: job.attempts + 1,
      claimedBy: opts.owner,
      claimUntil: iso(claimUntil),
    };
    const op = kv.atomic().check(entry).check(pointer).check(waiting)
      .delete(pointer.key)
      .set(keys.jobDue(claimUntil, jobId), jobId)
      .set(entry.key, next);
    if (waiting.value === jobId) op.delete(waitingKey);
    const res = await commitOnceOrLocked(op);
    if (res) return { job: next, versionstamp: res };
    // Another worker got it first (or something changed it): try the next one.
  }
  return null;
}

/** Commits `op`; returns the versionstamp, or null when a check failed or the store was busy. */
async function commitOnceOrLocked(op: Deno.AtomicOperation): Promise<string | null> {
  try {
    const res = await op.commit();
    return res.ok ? res.versionstamp : null;
  } catch (err) {
    // Two processes on one file: SQLite's lock is a lost race here, as a failed check is.
    if (err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message)) return null;
    throw err;
  }
}

/**
 * Rewrites a claimed job if the claim still holds (its versionstamp), moving its due pointer
 * to where the new state needs it. Returns the new entry, or null when the claim was lost.
 */
async function updateClaimed(
  kv: Deno.Kv,
  claimed: JobEntry,
  next: Job,
  options: {
    expireIn?: number;
    /**
     * Give the job its reason's waiting slot back if free. Only for a deferred job: one to be
     * retried waits out a backoff, and a request joining it would wait that long too.
     */
    retakeSlot?: boolean;
  } = {},
): Promise<JobEntry | null> {
  const key = keys.job(claimed.job.id);
  const finished = next.state === "done" || next.state === "failed";
  const res = await commitWithRetry<boolean>(async () => {
    const current = await kv.get(key);
    if (current.versionstamp !== claimed.versionstamp) {
      return { op: kv.atomic().check(current), result: false };
    }
    const op = kv.atomic().check(current)
      .delete(keys.jobDue(pointerAt(claimed.job), claimed.job.id))
      .set(key, next, options.expireIn === undefined ? {} : { expireIn: options.expireIn });
    if (finished) {
      op.set(keys.jobByUser(next.userId, next.id), next.id, { expireIn: options.expireIn })
        .delete(keys.jobOpenByUser(next.userId, next.id));
    } else {
      op.set(keys.jobDue(pointerAt(next), next.id), next.id);
    }
    if (options.retakeSlot) {
      // Deferred before it ran: it lists nothing before it runs, so requests may join it as
      // before its claim, unless a newer job has the slot meanwhile.
      const slot = await kv.get<string>(keys.waitingJob(next.userId, next.reason));
      op.check(slot);
      if (slot.value === null) op.set(slot.key, next.id);
    }
    return { op, result: true };
  });
  return res?.result ? { job: next, versionstamp: res.versionstamp } : null;
}

/** Extends the claim to `now + claimMs`. Returns the new entry, or null when it was lost. */
export async function renewClaim(
  kv: Deno.Kv,
  claimed: JobEntry,
  opts: { now: Date; claimMs: number },
): Promise<JobEntry | null> {
  const claimUntil = iso(opts.now.getTime() + opts.claimMs);
  return await updateClaimed(kv, claimed, { ...claimed.job, claimUntil });
}

/**
 * Puts a claimed job back to wait until `dueAt` without counting the attempt: another run of
 * the same user holds the sync lease, and this job must run after it, not be coalesced into it.
 */
export async function deferJob(
  kv: Deno.Kv,
  claimed: JobEntry,
  opts: { dueAt: Date },
): Promise<JobEntry | null> {
  const { claimedBy: _c, claimUntil: _u, ...rest } = claimed.job;
  return await updateClaimed(kv, claimed, {
    ...rest,
    state: "waiting",
    attempts: claimed.job.attempts - 1,
    dueAt: iso(opts.dueAt.getTime()),
  }, { retakeSlot: true });
}

/** Schedules another attempt of a failed job at `dueAt`, keeping its error for the status page. */
export async function retryJob(
  kv: Deno.Kv,
  claimed: JobEntry,
  opts: { dueAt: Date; error: string },
): Promise<JobEntry | null> {
  const { claimedBy: _c, claimUntil: _u, ...rest } = claimed.job;
  return await updateClaimed(kv, claimed, {
    ...rest,
    state: "waiting",
    dueAt: iso(opts.dueAt.getTime()),
    error: opts.error.slice(0, 1000),
  });
}

/**
 * Ends a claimed job: done with its run, or failed with its cause (and the run recording the
 * failure). The record then expires after FINISHED_JOB_KEPT_MS. Returns false when the claim
 * was lost (another worker took the job over and will end it).
 */
export async function finishJob(
  kv: Deno.Kv,
  claimed: JobEntry,
  outcome: { now: Date; runId?: string; error?: string },
): Promise<boolean> {
  // A success clears the error an earlier attempt left.
  const { claimUntil: _u, error: _e, ...rest } = claimed.job;
  const next: Job = {
    ...rest,
    state: outcome.error === undefined ? "done" : "failed",
    endedAt: outcome.now.toISOString(),
    ...(outcome.runId ? { runId: outcome.runId } : {}),
    ...(outcome.error === undefined ? {} : { error: outcome.error.slice(0, 1000) }),
  };
  return (await updateClaimed(kv, claimed, next, { expireIn: FINISHED_JOB_KEPT_MS })) !== null;
}
