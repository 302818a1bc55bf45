/**
 * The scheduler of one instance: turns sync requests into jobs (lib/db/jobs.ts), runs due jobs
 * with its worker, ticks the cron, receives push notifications and keeps push channels in line
 * with the rules. Several instances sharing one KV store each run one; the job table, the cron
 * tick dedupe and the engine's per-user lease make them act as one.
 */
import { monotonicFactory } from "ulid";
import type { Config } from "../config.ts";
import { getRun, listRuns, type Retention, type RunRecord, saveRun } from "../db/history.ts";
import { enqueueJob, getJob, type Job, listOpenJobsOfUser } from "../db/jobs.ts";
import { isLeaseHeld } from "../db/leases.ts";
import { listRulesAndGroups } from "../db/rules.ts";
import { getSyncPause } from "../db/sync_pauses.ts";
import { readSyncProgress } from "../db/sync_progress.ts";
import { getUser } from "../db/users.ts";
import type { Logger } from "../log.ts";
import type { Services } from "../services.ts";
import { syncUser } from "../sync/engine.ts";
import { runAttributes } from "../telemetry/run_attributes.ts";
import { noTracing, type Tracing } from "../telemetry/tracing.ts";
import {
  type JobInfo,
  type SyncProgress,
  type SyncRequest,
  type SyncRequests,
  SyncWaitTimeoutError,
  UnknownJobError,
} from "../sync/requests.ts";
import { type ChannelDeps, pushStatus, reconcileChannels, stopChannels } from "../push/channels.ts";
import { cronSchedule, nextTickAt, type PolledKind, pollTick, tick } from "./cron.ts";
import { type PushChannels, receiveNotification } from "../push/notifications.ts";
import { type JobOutcome, Worker, type WorkerOptions } from "./worker.ts";

export interface SchedulerOptions extends WorkerOptions {
  /** A push job is due this long after its first notification; later ones push it back... */
  pushDebounceMs: number;
  /** ...but never further than this after the first. */
  pushMaxDelayMs: number;
  /** How often `wait` looks at the job (it may run on another instance). */
  waitPollMs: number;
  /** The engine's lease lifetime (default: the engine's 60 s). */
  leaseTtlMs?: number;
  /** Where push notifications are sent; default `${PUBLIC_URL}/api/webhooks/google`. */
  webhookUrl?: string;
  /** Channel lifetime asked of Google (7 days, its default). */
  channelTtlSeconds: number;
  /** A refused watch is tried again after this long. */
  channelRetryMs: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {
  claimMs: 30_000,
  pollMs: 1_000,
  concurrency: 4,
  maxAttempts: 5,
  retryBaseMs: 5_000,
  busyRetryMs: 250,
  // Google sends one notification per change; a person's edit is often several changes.
  pushDebounceMs: 300,
  pushMaxDelayMs: 3_000,
  waitPollMs: 50,
  channelTtlSeconds: 7 * 24 * 3600,
  channelRetryMs: 15 * 60_000,
};

export interface SchedulerInput {
  kv: Deno.Kv;
  config: Config;
  log: Logger;
  services: Pick<Services, "syncDeps" | "providerFor">;
  /** The clock of job due times and claims; default real time. */
  clock?: () => Date;
  /** Job and channel ids; default monotonic ULIDs. */
  newId?: () => string;
  options?: Partial<SchedulerOptions>;
  /** Called after each job this scheduler enqueues: wakes a worker on another thread. */
  onEnqueued?: () => void;
  /** Called when the worker gives a job up after its last attempt failed (metrics). */
  onGivenUp?: (job: Job) => void;
  /** Where each job's run makes its `sync.run` span; default none. */
  tracing?: Tracing;
}

export interface Scheduler extends SyncRequests {
  push: PushChannels;
  /** Enqueues the cron tick containing `now` (what the Deno.cron handler calls). */
  tick(now: Date): Promise<{ tickId: number; created: number }>;
  /** Enqueues the CalDAV (or ICS feed) poll tick containing `now` (its own Deno.cron calls it). */
  pollTick(now: Date, kind?: PolledKind): Promise<{ tickId: number; created: number }>;
  /** Brings the user's push channels in line with the rules (after runs; exposed for tests). */
  reconcileChannels(userId: string): Promise<void>;
  /** Starts the worker and, with `cron`, registers the Deno.cron tick (once per process). */
  start(opts?: { cron?: boolean }): void;
  /** Stops the cron and the worker, letting running jobs finish. */
  stop(): Promise<void>;
  /** Has the worker look for due jobs now (another thread enqueued one). */
  wake(): void;
}

/** Why a paused user's job did not run: the status of "Sync now" and the owner's page say it. */
export const PAUSED_REASON = "syncs of this account are paused by the instance's owner";

/** A run stopped with an error; `runId` is the history record the engine wrote for it, if any. */
class RunFailedError extends Error {
  constructor(cause: unknown, readonly runId: string | undefined) {
    super(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause), { cause });
    this.name = "RunFailedError";
  }
}

/**
 * Makes sure a job that failed for good has a failed run, with its cause, in the user's
 * history: the engine's own record of the run when it wrote one, otherwise a new record saying
 * the job was given up and why. Returns the record's id.
 */
export async function recordJobFailure(
  kv: Deno.Kv,
  job: Job,
  error: unknown,
  opts: { now: Date; newId: () => string; retention: Retention },
): Promise<string> {
  if (error instanceof RunFailedError && error.runId) return error.runId;
  const cause = error instanceof RunFailedError ? error.cause : error;
  const now = opts.now.toISOString();
  const record: RunRecord = {
    v: 1,
    id: opts.newId(),
    userId: job.userId,
    trigger: job.reason,
    startedAt: now,
    endedAt: now,
    dryRun: false,
    full: job.full,
    outcome: "failed",
    rules: [],
    errors: [{
      error: cause instanceof Error ? cause.name : "Error",
      message: `the sync job failed ${job.attempts} times and was given up`,
      cause: cause instanceof Error ? cause.message : String(cause),
    }],
    errorsDropped: 0,
    apiCalls: { listPages: 0, putMirror: 0, deleteMirror: 0, listMarked: 0, methods: {} },
    actionsDropped: 0,
  };
  await saveRun(kv, record, [], opts.retention);
  return record.id;
}

/**
 * Sync requests as jobs in the KV job table and nothing more: for a process that runs no
 * worker (the CLI), whose jobs the worker of any instance on the same store claims (workers
 * look at the table at least every `pollMs`). A push request is debounced.
 */
export function queuedSyncRequests(
  kv: Deno.Kv,
  input: {
    clock?: () => Date;
    newId?: () => string;
    options?: Partial<Pick<SchedulerOptions, "pushDebounceMs" | "pushMaxDelayMs">>;
  } = {},
): Pick<SyncRequests, "request"> {
  const clock = input.clock ?? (() => new Date());
  const newId = input.newId ?? monotonicFactory();
  const options = { ...DEFAULT_SCHEDULER_OPTIONS, ...input.options };
  return {
    async request(userId, req) {
      const debounced = req.reason === "push";
      const { delayMs, ...job } = req;
      const { jobId } = await enqueueJob(kv, userId, job, {
        now: clock(),
        newId,
        ...(delayMs !== undefined ? { delayMs, maxDelayMs: delayMs, alone: true } : {
          delayMs: debounced ? options.pushDebounceMs : 0,
          maxDelayMs: debounced ? options.pushMaxDelayMs : 0,
        }),
      });
      return { jobId };
    },
  };
}

/** Builds the scheduler; nothing runs until `start`. */
export function createScheduler(input: SchedulerInput): Scheduler {
  const { kv, config, log, services, tracing = noTracing } = input;
  const options = { ...DEFAULT_SCHEDULER_OPTIONS, ...input.options };
  const clock = input.clock ?? (() => new Date());
  const newId = input.newId ?? monotonicFactory();
  const intervalMs = config.syncIntervalMinutes * 60_000;

  const channelDeps: ChannelDeps = {
    kv,
    log,
    config,
    clock,
    newId,
    providerFor: services.providerFor,
    address: options.webhookUrl ?? `${config.publicUrl}/api/webhooks/google`,
    ttlSeconds: options.channelTtlSeconds,
    // Two sync intervals ahead: the run after the next one still finds the channel alive.
    renewBeforeMs: 2 * intervalMs,
    retryFailedMs: options.channelRetryMs,
  };

  async function newestRunId(userId: string): Promise<string | undefined> {
    return (await listRuns(kv, userId, { limit: 1 })).items[0]?.id;
  }

  async function execute(job: Job): Promise<JobOutcome> {
    const deps = services.syncDeps(job.userId);
    // Jobs outlive an account deletion (their records are not per user); nothing to sync.
    if (!(await getUser(kv, job.userId))) return { status: "dropped", reason: "the user is gone" };
    // The one place a job becomes a run: a pause stops jobs queued before it too. Resuming
    // queues a sync, so what these jobs would have done is not lost.
    if (await getSyncPause(kv, job.userId)) {
      return { status: "dropped", reason: PAUSED_REASON };
    }
    if (await isLeaseHeld(kv, job.userId, deps.clock())) return { status: "busy" };
    const before = await newestRunId(job.userId);
    return await tracing.runSpan(async (span) => {
      span.setAttributes({ "busysync.trigger": job.reason, "busysync.full": job.full });
      let summary;
      try {
        summary = await syncUser({
          ...deps,
          trigger: job.reason,
          ...(job.ruleIds ? { ruleIds: job.ruleIds } : {}),
          full: job.full,
          ...(job.confirmRuleIds ? { confirmRuleIds: job.confirmRuleIds } : {}),
          ...(options.leaseTtlMs ? { leaseTtlMs: options.leaseTtlMs } : {}),
        });
      } catch (err) {
        // The engine records a run that stops in its history; find it to point the job at it.
        const after = await newestRunId(job.userId);
        const runId = after !== before ? after : undefined;
        span.setAttributes({
          "busysync.outcome": "failed",
          ...(runId && { "busysync.run_id": runId }),
        });
        throw new RunFailedError(err, runId);
      }
      // The lease was taken between the check and the run: wait for that run, then run this job.
      if (summary.status === "coalesced") {
        span.setAttributes({ "busysync.outcome": "coalesced" });
        return { status: "busy" };
      }
      span.setAttributes({
        ...runAttributes(summary.run),
        ...(summary.status === "completed" &&
          { "busysync.follow_up_runs": summary.followUps.length }),
      });
      return { status: "ran", runId: summary.run.id };
    });
  }

  const worker = new Worker({
    kv,
    log,
    clock,
    owner: `worker-${newId()}`,
    options,
    execute,
    recordFailure: (job, error) => {
      input.onGivenUp?.(job);
      return recordJobFailure(kv, job, error, {
        now: services.syncDeps(job.userId).clock(),
        newId,
        retention: { maxRuns: config.historyMaxRuns, maxDays: config.historyMaxDays },
      });
    },
    // Also with push off: reconciling then stops channels opened while it was on.
    afterRun: (job) => reconcileChannels(channelDeps, job.userId),
  });

  const queue = queuedSyncRequests(kv, { clock, newId, options });

  async function request(userId: string, req: SyncRequest): Promise<{ jobId: string }> {
    const { jobId } = await queue.request(userId, req);
    worker.wake();
    input.onEnqueued?.();
    return { jobId };
  }

  async function ownJob(userId: string, jobId: string): Promise<Job | undefined> {
    const job = await getJob(kv, jobId);
    return job?.userId === userId ? job : undefined;
  }

  async function wait(userId: string, jobId: string, timeoutMs: number): Promise<RunRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await ownJob(userId, jobId);
      if (!job) throw new UnknownJobError(jobId);
      if ((job.state === "done" || job.state === "failed") && job.runId) {
        const found = await getRun(kv, userId, job.runId);
        // The run was trimmed from the history already (a tiny BUSYSYNC_HISTORY_MAX_RUNS).
        if (!found) throw new UnknownJobError(jobId);
        return found.run;
      }
      if (job.state === "failed") throw new Error(job.error ?? "the sync job failed");
      if (Date.now() >= deadline) throw new SyncWaitTimeoutError(jobId, timeoutMs);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(options.waitPollMs, Math.max(0, deadline - Date.now())))
      );
    }
  }

  function infoOf(job: Job): JobInfo {
    return {
      id: job.id,
      reason: job.reason,
      state: job.state,
      full: job.full,
      dueAt: job.dueAt,
      attempts: job.attempts,
      ...(job.runId ? { runId: job.runId } : {}),
      ...(job.error ? { error: job.error } : {}),
    };
  }

  async function progress(userId: string): Promise<SyncProgress> {
    // Side by side: under load each sequential read waits behind every other request's.
    const [jobs, rules, push] = await Promise.all([
      listOpenJobsOfUser(kv, userId),
      listRulesAndGroups(kv, userId),
      pushStatus(channelDeps, userId),
    ]);
    const current = jobs.find((j) => j.state === "running");
    const hasRules = rules.some((o) => o.enabled);
    // One sync per user at a time (the lease): a progress record is the running job's.
    const run = current ? await readSyncProgress(kv, userId, clock()) : null;
    return {
      running: current !== undefined,
      ...(current ? { current: { ...infoOf(current), ...(run ? { progress: run } : {}) } } : {}),
      ...(run ? { progress: run } : {}),
      waiting: jobs.filter((j) => j.state === "waiting").map(infoOf),
      ...(hasRules
        ? { nextScheduledRun: nextTickAt(clock(), config.syncIntervalMinutes).toISOString() }
        : {}),
      push,
    };
  }

  const cron = new AbortController();
  let cronStarted = false;

  return {
    request,
    wait,
    job: async (userId, jobId) => {
      const job = await ownJob(userId, jobId);
      if (!job) return undefined;
      const run = job.state === "running" ? await readSyncProgress(kv, userId, clock()) : null;
      return { ...infoOf(job), ...(run ? { progress: run } : {}) };
    },
    progress,
    push: {
      receive: (notification) =>
        receiveNotification({ kv, clock, requests: { request } }, notification),
      stopChannels: (userId, connectionId) => stopChannels(channelDeps, userId, connectionId),
    },
    tick: async (now) => {
      const res = await tick({ kv, config, newId }, now);
      if (res.created) worker.wake();
      return res;
    },
    pollTick: async (now, kind) => {
      const res = await pollTick({ kv, config, newId }, now, kind);
      if (res.created) worker.wake();
      return res;
    },
    reconcileChannels: (userId) => reconcileChannels(channelDeps, userId),
    start(opts = {}) {
      worker.start();
      if (opts.cron && !cronStarted) {
        cronStarted = true;
        // Every instance registers it; the tick dedupe in KV makes one job per user per tick.
        Deno.cron(
          "busysync-sync-tick",
          cronSchedule(config.syncIntervalMinutes),
          { signal: cron.signal },
          async () => {
            try {
              const res = await tick({ kv, config, newId }, clock());
              if (res.created) worker.wake();
            } catch (err) {
              log.error("scheduler: cron tick failed", { err });
            }
          },
        );
        Deno.cron(
          "busysync-caldav-poll",
          cronSchedule(config.caldavPollMinutes),
          { signal: cron.signal },
          async () => {
            try {
              const res = await pollTick({ kv, config, newId }, clock());
              if (res.created) worker.wake();
            } catch (err) {
              log.error("scheduler: CalDAV poll tick failed", { err });
            }
          },
        );
        Deno.cron(
          "busysync-ics-poll",
          cronSchedule(config.icsPollMinutes),
          { signal: cron.signal },
          async () => {
            try {
              const res = await pollTick({ kv, config, newId }, clock(), "ics");
              if (res.created) worker.wake();
            } catch (err) {
              log.error("scheduler: ICS feed poll tick failed", { err });
            }
          },
        );
      }
    },
    async stop() {
      cron.abort();
      await worker.stop();
    },
    wake: () => worker.wake(),
  };
}
