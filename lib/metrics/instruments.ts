/**
 * The process's counters and histograms, on a registry of their own (never prom-client's
 * global one), and the events they are fed from: a finished sync run, a sync job given up, an
 * answer from a calendar service, a retry, a wait for the request budget, a refused token
 * refresh, a push notification, a refused KV commit. Each thread that does work keeps one (threads.ts adds them up at a
 * scrape). Labels name kinds of things, never a person, a calendar or an event: no e-mail
 * address, calendar id, user id or event data ever becomes a label value.
 */
import { Counter, Histogram, Registry } from "prom-client";
import type { RunRecord } from "../db/history.ts";
import type { CommitConflict } from "../db/commit_conflicts.ts";
import { SYNC_REASONS, SYNC_TRIGGERS, type SyncReason } from "../model/sync_reasons.ts";
import type { PushVerdict } from "../push/notifications.ts";

/** The calendar services busysync talks to; a label value. */
export type CalendarService = "google";

const RUN_OUTCOMES = ["ok", "partial", "failed"] as const;
/** What a run's writes turned out to be, as its history record counts them per rule. */
const WRITE_KINDS = [
  "created",
  "restored",
  "updated",
  "deleted",
  "already_gone",
  "failed",
] as const;
const PUSH_VERDICTS: readonly PushVerdict[] = ["queued", "acknowledged", "ignored", "forbidden"];
const REFRESH_FAILURES = ["revoked", "error"] as const;
const COMMIT_CONFLICTS: readonly CommitConflict[] = ["check_failed", "locked"];

export interface Metrics {
  /** Holds every instrument below. */
  registry: Registry;
  /** A run finished (dry runs, which only preview, are not counted). */
  runFinished(record: RunRecord): void;
  /** A calendar service answered a request (`status` "none": no answer came). */
  calendarAnswered(
    answer: { service: CalendarService; method: string; status: string; seconds: number },
  ): void;
  /** A failed request will be sent again after `delayMs`; `status` as in calendarAnswered. */
  calendarRetried(service: CalendarService, status: string, delayMs: number): void;
  /** A request waited `ms` for its turn in the request budget (or a Retry-After hold). */
  budgetWaited(service: CalendarService, ms: number): void;
  tokenRefreshFailed(service: CalendarService, reason: (typeof REFRESH_FAILURES)[number]): void;
  pushReceived(service: CalendarService, verdict: PushVerdict): void;
  kvCommitConflict(reason: CommitConflict): void;
  /** The worker gave a sync job up: its last attempt failed. */
  jobGivenUp(reason: SyncReason): void;
}

/** Builds the instruments on a new registry, every fixed label combination at zero. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const runs = new Counter({
    name: "busysync_sync_runs_total",
    help: "Sync runs finished, by what started them and how they ended.",
    labelNames: ["trigger", "outcome"],
    registers,
  });
  const runSeconds = new Histogram({
    name: "busysync_sync_run_duration_seconds",
    help: "How long sync runs took, from taking the lease to the history record.",
    labelNames: ["trigger"],
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });
  const writes = new Counter({
    name: "busysync_sync_writes_total",
    help: "Busy blocks written by sync runs, by what each write turned out to do.",
    labelNames: ["kind"],
    registers,
  });
  const requests = new Counter({
    name: "busysync_calendar_requests_total",
    help: "HTTP requests to calendar services, retries included, by API method and status " +
      '("none": no answer came).',
    labelNames: ["service", "method", "status"],
    registers,
  });
  const requestSeconds = new Histogram({
    name: "busysync_calendar_request_duration_seconds",
    help: "How long calendar service requests took to answer.",
    labelNames: ["service", "method"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const retries = new Counter({
    name: "busysync_calendar_retries_total",
    help: "Calendar service requests sent again after a rate limit, a 5xx or no answer, by " +
      "the status that failed.",
    labelNames: ["service", "status"],
    registers,
  });
  const retryWait = new Counter({
    name: "busysync_calendar_retry_wait_seconds_total",
    help: "Time retries were held back before being sent again (backoff, or the Retry-After " +
      "the service asked for, which is waited on the request budget and so counts there too).",
    labelNames: ["service"],
    registers,
  });
  const budgetWaits = new Counter({
    name: "busysync_calendar_budget_waits_total",
    help: "Requests that waited for their turn in the per-connection request budget or for " +
      "a Retry-After the service asked for.",
    labelNames: ["service"],
    registers,
  });
  const budgetWaitSeconds = new Counter({
    name: "busysync_calendar_budget_wait_seconds_total",
    help: "Time requests spent waiting for the request budget or a Retry-After.",
    labelNames: ["service"],
    registers,
  });
  const refreshFailures = new Counter({
    name: "busysync_token_refresh_failures_total",
    help: 'Access token refreshes the service refused: "revoked" (the account must be ' +
      'connected again) or "error" (tried again at the next call).',
    labelNames: ["service", "reason"],
    registers,
  });
  const push = new Counter({
    name: "busysync_push_notifications_total",
    help: 'Push notifications received, by verdict ("forbidden": a wrong channel token, ' +
      "rejected).",
    labelNames: ["service", "verdict"],
    registers,
  });
  const conflicts = new Counter({
    name: "busysync_kv_commit_conflicts_total",
    help: "KV atomic commits refused, which the store's retry loops try again: a failed " +
      'check ("check_failed", a concurrent writer) or a locked database ("locked").',
    labelNames: ["reason"],
    registers,
  });
  const givenUp = new Counter({
    name: "busysync_jobs_given_up_total",
    help: "Sync jobs the worker gave up after their last attempt failed, by reason.",
    labelNames: ["reason"],
    registers,
  });

  // Series that exist from the start, so rate() and absent() see them before the first event.
  for (const trigger of SYNC_TRIGGERS) {
    for (const outcome of RUN_OUTCOMES) runs.inc({ trigger, outcome }, 0);
  }
  for (const kind of WRITE_KINDS) writes.inc({ kind }, 0);
  for (const reason of SYNC_REASONS) givenUp.inc({ reason }, 0);
  const service: CalendarService = "google";
  for (const verdict of PUSH_VERDICTS) push.inc({ service, verdict }, 0);
  for (const reason of REFRESH_FAILURES) refreshFailures.inc({ service, reason }, 0);
  for (const reason of COMMIT_CONFLICTS) conflicts.inc({ reason }, 0);
  retryWait.inc({ service }, 0);
  budgetWaits.inc({ service }, 0);
  budgetWaitSeconds.inc({ service }, 0);

  return {
    registry,
    runFinished(record) {
      if (record.dryRun) return;
      runs.inc({ trigger: record.trigger, outcome: record.outcome });
      const seconds = (Date.parse(record.endedAt) - Date.parse(record.startedAt)) / 1000;
      runSeconds.observe({ trigger: record.trigger }, Math.max(0, seconds));
      for (const rule of record.rules) {
        writes.inc({ kind: "created" }, rule.created);
        writes.inc({ kind: "restored" }, rule.restored);
        writes.inc({ kind: "updated" }, rule.updated);
        writes.inc({ kind: "deleted" }, rule.deleted);
        writes.inc({ kind: "already_gone" }, rule.alreadyGone);
        writes.inc({ kind: "failed" }, rule.failed);
      }
    },
    calendarAnswered({ service, method, status, seconds }) {
      requests.inc({ service, method, status });
      requestSeconds.observe({ service, method }, seconds);
    },
    calendarRetried(service, status, delayMs) {
      retries.inc({ service, status });
      retryWait.inc({ service }, delayMs / 1000);
    },
    budgetWaited(service, ms) {
      budgetWaits.inc({ service });
      budgetWaitSeconds.inc({ service }, ms / 1000);
    },
    tokenRefreshFailed(service, reason) {
      refreshFailures.inc({ service, reason });
    },
    pushReceived(service, verdict) {
      push.inc({ service, verdict });
    },
    kvCommitConflict(reason) {
      conflicts.inc({ reason });
    },
    jobGivenUp(reason) {
      givenUp.inc({ reason });
    },
  };
}
