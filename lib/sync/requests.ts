/**
 * How the rest of the app asks for a sync: every trigger (a "Sync now" click, a rule save, a
 * push notification, the cron tick, a guard confirmation) becomes a job in the KV job table,
 * run by whichever instance's worker claims it first. Routes depend on this interface only;
 * lib/scheduler/ implements it.
 */
import type { RunRecord } from "../db/history.ts";
import type { SyncReason } from "../model/sync_reasons.ts";
import type { RunProgress } from "../model/run_progress.ts";

export interface SyncRequest {
  reason: SyncReason;
  /** Sync only the sources these rules read; all of the user's rules when absent. */
  ruleIds?: readonly string[];
  /** A full reconcile (list everything, repair drift) instead of an incremental run. */
  full?: boolean;
  /** Rules whose deletes the user confirmed after the delete guard held them. */
  confirmRuleIds?: readonly string[];
  /** Due this long from now, in a job of its own (an undo window's removal). */
  delayMs?: number;
}

/** A job as the status page shows it. */
export interface JobInfo {
  id: string;
  reason: SyncReason;
  state: "waiting" | "running" | "done" | "failed";
  /** A full reconcile (asked for by this request or by one that joined it). */
  full: boolean;
  /** When it may run (ISO); later than now while backing off after a failure. */
  dueAt: string;
  attempts: number;
  /** Set once it ran: the history record of its run. */
  runId?: string;
  error?: string;
  /** While it runs: how far it has got (a run with writes to make says so). */
  progress?: RunProgressInfo;
}

/** A run's progress as the store keeps it: overwritten at most once a second. */
export interface RunProgressInfo extends RunProgress {
  updatedAt: string;
}

/** Where a sync currently stands for the user: what `GET /api/status` reports. */
export interface SyncProgress {
  running: boolean;
  /** The job being worked on, if any. */
  current?: JobInfo;
  waiting: JobInfo[];
  /** How far the running sync has got, when it has busy blocks to write. */
  progress?: RunProgressInfo;
  /** When the cron will next enqueue this user (ISO). */
  nextScheduledRun?: string;
  /** Push per source calendar; `enabled: false` with a reason when push is off. */
  push: {
    enabled: boolean;
    reason?: string;
    channels: {
      connectionId: string;
      calendarId: string;
      state: "active" | "expired" | "failed";
      expiresAt?: string;
      lastNotificationAt?: string;
    }[];
  };
}

export interface SyncRequests {
  /**
   * Enqueues a job for the user and returns its id (deduplicated: a request while a job of its
   * reason waits joins it, widening its rules and making it full if either is, so a full
   * request is never swallowed by a plain one). Never runs the sync in the caller.
   */
  request(userId: string, request: SyncRequest): Promise<{ jobId: string }>;
  /**
   * Resolves with the run record of the job once it ran; rejects with a timeout error after
   * `timeoutMs`. Works across instances (it polls the job record in KV).
   */
  wait(userId: string, jobId: string, timeoutMs: number): Promise<RunRecord>;
  /** The job's state, or undefined when the user has no such job (e.g. another user's id). */
  job(userId: string, jobId: string): Promise<JobInfo | undefined>;
  progress(userId: string): Promise<SyncProgress>;
}

/** `wait` gave up: the job had not run within the time asked for (it may still run later). */
export class SyncWaitTimeoutError extends Error {
  constructor(readonly jobId: string, timeoutMs: number) {
    super(`sync job ${jobId} did not finish within ${timeoutMs} ms`);
    this.name = "SyncWaitTimeoutError";
  }
}

/** The user has no job with this id (never had, another user's, or expired after a day). */
export class UnknownJobError extends Error {
  constructor(readonly jobId: string) {
    super(`no sync job ${jobId}`);
    this.name = "UnknownJobError";
  }
}
