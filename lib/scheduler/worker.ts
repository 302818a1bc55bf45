/**
 * The worker: claims due jobs from the KV job table (lib/db/jobs.ts) and runs them, on every
 * instance that shares the store. Claims are leases: renewed while a job runs, so a worker that
 * dies (SIGKILL, a lost machine) lets its job become due again when the claim expires, and
 * another instance finishes it. One sync per user at a time is the engine's lease; the worker
 * adds that it never runs two jobs of one user itself, and that a job finding the lease held
 * elsewhere waits its turn instead of being coalesced (its caller wants a run record of its own).
 */
import {
  claimDueJob,
  deferJob,
  finishJob,
  type Job,
  type JobEntry,
  nextDueAt,
  renewClaim,
  retryJob,
} from "../db/jobs.ts";
import { backoffDelay } from "../backoff.ts";
import { writersPaused } from "../db/maintenance.ts";
import type { Logger } from "../log.ts";

/** What running one job came to. */
export type JobOutcome =
  /** It ran; the run's record id. */
  | { status: "ran"; runId: string }
  /** Another run of the user holds the lease: try again shortly. */
  | { status: "busy" }
  /** Nothing to run any more (the user is gone): the job ends, failed, with the reason. */
  | { status: "dropped"; reason: string };

export interface WorkerOptions {
  /** Claim lifetime; renewed every third of it while the job runs. */
  claimMs: number;
  /** Longest idle wait before looking for due jobs again (jobs of other instances). */
  pollMs: number;
  /** Jobs (of different users) run at once by this worker. */
  concurrency: number;
  /** Attempts before a job fails for good. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt (with jitter), at most 32 times this. */
  retryBaseMs: number;
  /** Wait before a job whose user's lease was held is tried again. */
  busyRetryMs: number;
}

export interface WorkerDeps {
  kv: Deno.Kv;
  log: Logger;
  clock: () => Date;
  /** This worker's name in claims; unique per process. */
  owner: string;
  options: WorkerOptions;
  /** Runs a claimed job. Throws when the run failed; the worker retries or fails the job. */
  execute(job: Job): Promise<JobOutcome>;
  /**
   * Called when a job failed for good, to make sure its failure is in the user's history.
   * Returns the id of the run record that holds the cause.
   */
  recordFailure(job: Job, error: unknown): Promise<string | undefined>;
  /** Called after a job ran (e.g. to reconcile push channels); failures are only logged. */
  afterRun?(job: Job): Promise<void>;
}

/** A worker with a lifecycle (start, wake, stop), hence a class. */
export class Worker {
  readonly #deps: WorkerDeps;
  /** Users with a job running here: their other jobs wait, so this worker never coalesces. */
  readonly #busyUsers = new Set<string>();
  readonly #wakers = new Set<() => void>();
  #loops: Promise<void>[] = [];
  #stopping = false;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
  }

  /** Starts `concurrency` claim loops. */
  start(): void {
    if (this.#loops.length) return;
    this.#stopping = false;
    for (let i = 0; i < this.#deps.options.concurrency; i++) this.#loops.push(this.#loop());
  }

  /** Looks for due jobs now instead of at the end of the current wait (a job was enqueued). */
  wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  /**
   * Stops claiming, lets the jobs that run finish (their runs end and release their leases),
   * then resolves. Safe to call twice.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  async #loop(): Promise<void> {
    const { kv, clock, owner, options, log } = this.#deps;
    while (!this.#stopping) {
      try {
        // A backup asked every writer to pause; jobs wait in the table meanwhile.
        if (await writersPaused(kv)) {
          await this.#sleep(options.pollMs);
          continue;
        }
        const claimed = await claimDueJob(kv, {
          owner,
          now: clock(),
          claimMs: options.claimMs,
          skipUsers: this.#busyUsers,
        });
        if (!claimed) {
          const next = await nextDueAt(kv);
          const wait = next === null ? options.pollMs : next - clock().getTime();
          // At least a little: the earliest due job may be one this worker skips (its user busy).
          await this.#sleep(Math.min(options.pollMs, Math.max(20, wait)));
          continue;
        }
        this.#busyUsers.add(claimed.job.userId);
        try {
          // Every line of the job carries its id, whoever writes it (the engine, a provider).
          await log.within({ jobId: claimed.job.id }, () => this.#run(claimed));
        } finally {
          this.#busyUsers.delete(claimed.job.userId);
        }
        // Another loop may be idle while due jobs wait (e.g. the one it skipped).
        this.wake();
      } catch (err) {
        if (this.#stopping) return;
        log.error("scheduler: worker loop failed; retrying", { err });
        await this.#sleep(options.pollMs);
      }
    }
  }

  async #run(claimed: JobEntry): Promise<void> {
    const { kv, clock, log, options } = this.#deps;
    const { job } = claimed;
    let current: JobEntry | null = claimed;
    let renewing: Promise<void> | undefined;
    // Keep the claim while the job runs; a failed renewal means another worker took the job
    // over (our claim had expired): the engine's lease still fences our writes, and the job's
    // end is then the other worker's to record.
    const renew = setInterval(() => {
      renewing ??= (async () => {
        if (!current) return;
        try {
          current = await renewClaim(kv, current, { now: clock(), claimMs: options.claimMs });
          if (!current) log.warn("scheduler: lost the claim of a running job", { jobId: job.id });
        } catch (err) {
          log.warn("scheduler: renewing a claim failed", { jobId: job.id, err });
        }
      })().finally(() => renewing = undefined);
    }, options.claimMs / 3);
    let outcome: JobOutcome | undefined;
    let failure: unknown;
    try {
      if (job.attempts > options.maxAttempts) {
        // Its workers kept dying while running it (the claim expired each time).
        failure = new Error(`no worker finished it in ${options.maxAttempts} attempts`);
      } else {
        outcome = await this.#deps.execute(job);
      }
    } catch (err) {
      failure = err;
    } finally {
      clearInterval(renew);
      await renewing;
    }
    if (!current) return;
    if (outcome?.status === "busy") {
      await deferJob(kv, current, { dueAt: new Date(clock().getTime() + options.busyRetryMs) });
      return;
    }
    if (outcome?.status === "dropped") {
      await finishJob(kv, current, { now: clock(), error: outcome.reason });
      return;
    }
    if (outcome?.status === "ran") {
      await finishJob(kv, current, { now: clock(), runId: outcome.runId });
      await this.#afterRun(job);
      return;
    }
    const message = failure instanceof Error
      ? `${failure.name}: ${failure.message}`
      : String(failure);
    if (job.attempts < options.maxAttempts) {
      const delay = backoffDelay(job.attempts, {
        baseMs: options.retryBaseMs,
        maxMs: 32 * options.retryBaseMs,
        jitter: "half",
      });
      log.warn("scheduler: job failed; retrying", {
        jobId: job.id,
        attempt: job.attempts,
        err: failure,
      });
      await retryJob(kv, current, { dueAt: new Date(clock().getTime() + delay), error: message });
      return;
    }
    log.error("scheduler: job failed for good", {
      jobId: job.id,
      userId: job.userId,
      err: failure,
    });
    const runId = await this.#deps.recordFailure(job, failure);
    await finishJob(kv, current, { now: clock(), runId, error: message });
  }

  async #afterRun(job: Job): Promise<void> {
    try {
      await this.#deps.afterRun?.(job);
    } catch (err) {
      this.#deps.log.warn("scheduler: after-run step failed", { userId: job.userId, err });
    }
  }

  /** Waits `ms`, or less when woken or stopped. */
  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
