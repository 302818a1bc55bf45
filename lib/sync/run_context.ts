/**
 * The state one sync run shares between its steps: its dependencies, the lease that fences its
 * writes, its report, each rule's verdict, and the policy for failures (which error pauses,
 * breaks or only stops a rule). One failing rule never stops the others: a failure stops only
 * the rules it concerns, for the rest of this run.
 */
import type { Keyring } from "../auth/crypto.ts";
import type { RunRecord } from "../db/history.ts";
import type { Lease } from "../db/leases.ts";
import { LedgerWriter } from "../db/ledger.ts";
import type { Logger } from "../log.ts";
import { type AccountLimits, AccountWrites } from "./account_writes.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import type { EdgeOwner } from "../model/edge_owner.ts";
import {
  type ApiMeter,
  CalendarNotFoundError,
  type CalendarProvider,
  ReconnectRequiredError,
} from "./provider.ts";
import type { RuleStatus } from "../model/rule.ts";
import type { RunReport } from "./run_report.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import { WriteMismatchError } from "./write_check.ts";
import { RunProgress } from "./progress.ts";

export interface SyncConfig {
  deleteGuard: { percent: number; min: number };
  historyMaxRuns: number;
  historyMaxDays: number;
  accountLimits: AccountLimits;
  /**
   * BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE: what the time left of a long sync is estimated from
   * (the provider's budget enforces it; the engine only reads it). Absent: no estimate.
   */
  requestsPerMinute?: number;
  /**
   * How many days ahead an edge that is not caught up gets mirrored first, before its whole
   * window (engine_nearest.ts); default 14, 0 turns the first pass off (benchmarks compare).
   */
  nearestFirstDays?: number;
}

/** What every engine entry point needs; passed in, never imported. */
export interface SyncDeps {
  kv: Deno.Kv;
  userId: string;
  /**
   * The provider that reaches a connection's calendars, reporting every HTTP request it sends
   * to `meter` (the run's own, so that concurrent runs never mix their counts).
   */
  providerFor: (connectionId: string, meter: ApiMeter) => CalendarProvider;
  clock: () => Date;
  config: SyncConfig;
  /** The tokens' keys: the titles a run's history keeps are encrypted with them. */
  keyring: Keyring;
  log: Logger;
  /** Lease lifetime, renewed while a run lasts; default 60 s. */
  leaseTtlMs?: number;
  /** Calendar writes in flight at once; default 8. */
  concurrency?: number;
  /**
   * Makes run and lease-owner ids; default a monotonic ULID factory, so that runs started in
   * the same millisecond still list in order.
   */
  newId?: () => string;
  /**
   * Called once a run (with its follow-ups) has released the lease, e.g. to tell the user about
   * problems it found; its failure is logged and never fails the run.
   */
  afterRun?: () => Promise<void>;
  /**
   * Hears of every run's record as the run finishes (dry runs too, `dryRun` says which), before
   * it is stored: the process's metrics count runs here.
   */
  onRunFinished?: (record: RunRecord) => void;
}

/** A rule's outcome in this run: a status to set, or "failed" (keep the status it had). */
export type Verdict = { status: Exclude<RuleStatus, "ok">; reason: string } | "failed";

/**
 * What a run may do: a dry run plans and writes nothing (a rule preview); a live run holds the
 * user's lease, which fences every write it makes.
 */
export type RunMode = { kind: "dry_run" } | { kind: "live"; lease: Lease };

export class RunContext {
  readonly #providers = new Map<string, CalendarProvider>();
  readonly #verdicts = new Map<string, Verdict>();
  /** The first failure of each rule in this run, for its failure streak (rule_failures.ts). */
  readonly #failures = new Map<string, unknown>();
  readonly #ledger: LedgerWriter | null;
  /** Mirrors deleted in this run (calendarKey + id), so a listing made before is not misread. */
  readonly #deleted = new Set<string>();
  readonly concurrency: number;
  /** Creation budgets and write pauses of the accounts this run writes into. */
  readonly accounts: AccountWrites;
  /** What the person is shown of this run while it lasts. */
  readonly progress: RunProgress;

  constructor(
    readonly deps: SyncDeps,
    readonly mode: RunMode,
    readonly report: RunReport,
    /** The run's one clock reading: every window of the run is computed from it. */
    readonly now: Date,
    /** The rules and groups this run syncs. */
    readonly active: readonly EdgeOwner[],
  ) {
    this.concurrency = deps.concurrency ?? 8;
    if (deps.onRunFinished) report.onFinished(deps.onRunFinished);
    this.#ledger = mode.kind === "live" ? new LedgerWriter(mode.lease, deps.userId) : null;
    this.accounts = new AccountWrites(deps.kv, deps.userId, deps.config.accountLimits, now);
    this.progress = new RunProgress({
      kv: deps.kv,
      userId: deps.userId,
      runId: report.runId,
      clock: deps.clock,
      log: deps.log,
      requestsPerMinute: deps.config.requestsPerMinute,
      live: mode.kind === "live",
    });
  }

  get kv(): Deno.Kv {
    return this.deps.kv;
  }

  get userId(): string {
    return this.deps.userId;
  }

  get log(): Logger {
    return this.deps.log;
  }

  /** The lease as a fence for writes; only called on paths a dry run never takes. */
  get fence(): Lease {
    if (this.mode.kind !== "live") throw new Error("a dry run must not write");
    return this.mode.lease;
  }

  /** The run's ledger writes, fenced by its lease; flush before anything that relies on them. */
  get ledger(): LedgerWriter {
    if (!this.#ledger) throw new Error("a dry run must not write");
    return this.#ledger;
  }

  provider(connectionId: string): CalendarProvider {
    let provider = this.#providers.get(connectionId);
    if (!provider) {
      provider = this.deps.providerFor(connectionId, this.report.meter);
      this.#providers.set(connectionId, provider);
    }
    return provider;
  }

  markDeleted(cal: CalendarRef, id: string): void {
    this.#deleted.add(`${calendarKey(cal)}/${id}`);
  }

  wasDeleted(cal: CalendarRef, id: string): boolean {
    return this.#deleted.has(`${calendarKey(cal)}/${id}`);
  }

  /** True once something stopped the rule for the rest of this run. */
  isStopped(ruleId: string): boolean {
    return this.#verdicts.has(ruleId);
  }

  verdictOf(ruleId: string): Verdict | undefined {
    return this.#verdicts.get(ruleId);
  }

  /** The first failure recorded against the rule in this run, if any. */
  failureOf(ruleId: string): unknown {
    return this.#failures.get(ruleId);
  }

  /** Stops a rule whose deletes need the user's confirmation. */
  trip(ruleId: string, reason: string): void {
    this.#verdicts.set(ruleId, { status: "needs_confirmation", reason });
  }

  /**
   * Records a failure of `ruleId` and stops the rules it concerns: lost authorization pauses
   * every rule using that connection (their mirrors stay as they are); a calendar that is gone
   * breaks the rule; a calendar that answered a write with something else than was sent breaks
   * every rule writing into it (nothing more is written there); anything else (the service kept
   * failing) stops the rule for this run only.
   */
  fail(
    ruleId: string,
    err: unknown,
    where: { calendar?: CalendarRef; failedOp?: boolean } = {},
  ): void {
    this.report.recordError(err, { ruleId, ...where });
    this.log.warn("sync: rule failed", { userId: this.userId, ruleId, error: err });
    if (!this.#failures.has(ruleId)) this.#failures.set(ruleId, err);
    if (err instanceof WriteMismatchError) {
      const into = calendarKey(err.cal);
      for (const owner of this.active) {
        const targets = owner.edges.map((e) => calendarKey(e.target));
        if (owner.id === ruleId || targets.includes(into)) {
          this.#verdicts.set(owner.id, { status: "broken", reason: err.message });
        }
      }
      return;
    }
    if (err instanceof ReconnectRequiredError) {
      const reason = err.service === "google"
        ? `the connected Google account needs to be connected again (${err.message})`
        : err.message;
      for (const owner of this.active) {
        const uses = owner.calendars.some((c) => c.connectionId === err.connectionId);
        if (uses) this.#verdicts.set(owner.id, { status: "paused", reason });
      }
      return;
    }
    if (err instanceof CalendarNotFoundError) {
      this.#verdicts.set(ruleId, { status: "broken", reason: err.message });
      return;
    }
    if (!this.#verdicts.has(ruleId)) this.#verdicts.set(ruleId, "failed");
  }

  /**
   * Runs `fn` over `items` with at most `concurrency` in flight. `fn` handles the failures it
   * expects; anything it throws (a lost lease) stops handing out items and is rethrown once
   * the calls in flight have settled, so no write starts after the run learned it must stop.
   */
  async pool<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    let fatal: { error: unknown } | undefined;
    const worker = async () => {
      while (!fatal && next < items.length) {
        const item = items[next++];
        try {
          await fn(item);
        } catch (error) {
          fatal ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
    if (fatal) throw fatal.error;
  }
}
