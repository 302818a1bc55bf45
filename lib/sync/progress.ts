/**
 * A run's progress as the person sees it (lib/db/sync_progress.ts): events listed, busy blocks
 * written and still to write, and the time left. Against Google a connection's request budget
 * (BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE) paces a first sync of thousands of events over many
 * minutes, so "Syncing…" alone would look stuck.
 */
import { clearSyncProgress, saveSyncProgress } from "../db/sync_progress.ts";
import type { Logger } from "../log.ts";

/** At most one progress write per this long: the display polls about once a second. */
const SAVE_EVERY_MS = 1_000;
/** Writes seen before the observed rate is trusted over the budget's. */
const OBSERVED_AFTER = 20;

export interface RunProgressOptions {
  kv: Deno.Kv;
  userId: string;
  runId: string;
  clock: () => Date;
  log: Logger;
  /** Requests per minute one connection may send; Infinity or absent: no budget to go by. */
  requestsPerMinute?: number;
  /** False for a dry run: nothing is stored. */
  live: boolean;
}

/** Mutable, hence a class: one per run, fed by the engine as it lists and writes. */
export class RunProgress {
  readonly #opts: RunProgressOptions;
  readonly #startedAt: Date;
  #stage: "nearest" | "all" = "all";
  #listed = 0;
  #planned = 0;
  #written = 0;
  #nearestUntil: Date | undefined;
  #firstWriteAt: number | undefined;
  #savedAt = -Infinity;
  #saved = false;

  constructor(opts: RunProgressOptions) {
    this.#opts = opts;
    this.#startedAt = opts.clock();
  }

  get written(): number {
    return this.#written;
  }

  /** The first pass over the next days starts (it is shown as such). */
  async nearestStarted(): Promise<void> {
    this.#stage = "nearest";
    await this.#save(true);
  }

  /** The next days are mirrored up to `until`; the whole window follows. */
  async nearestDone(until: Date): Promise<void> {
    this.#stage = "all";
    this.#nearestUntil = until;
    await this.#save(true);
  }

  async listed(events: number): Promise<void> {
    this.#listed += events;
    await this.#save(false);
  }

  async planned(writes: number): Promise<void> {
    this.#planned += writes;
    // New work changes the estimate at once: shown without waiting for the next write.
    await this.#save(writes > 0);
  }

  async wrote(): Promise<void> {
    this.#firstWriteAt ??= this.#opts.clock().getTime();
    this.#written++;
    await this.#save(false);
  }

  /**
   * Seconds the writes still planned should take: at the budget's rate, or slower when the
   * writes so far went slower (a slow service); undefined when neither is known.
   */
  remainingSeconds(now: number): number | undefined {
    const left = Math.max(0, this.#planned - this.#written);
    if (left === 0) return 0;
    const budget = this.#opts.requestsPerMinute ?? Infinity;
    let perSecond = budget / 60;
    if (this.#firstWriteAt !== undefined && this.#written >= OBSERVED_AFTER) {
      const observed = this.#written / Math.max(1, (now - this.#firstWriteAt) / 1000);
      perSecond = Math.min(perSecond, observed);
    }
    return Number.isFinite(perSecond) && perSecond > 0 ? Math.ceil(left / perSecond) : undefined;
  }

  /** Removes the run's record once it is over (a dry run stored none). */
  async finish(): Promise<void> {
    if (!this.#saved) return;
    try {
      await clearSyncProgress(this.#opts.kv, this.#opts.userId, this.#opts.runId);
    } catch (err) {
      // The record goes stale by itself; a display must never fail the run.
      this.#opts.log.warn("sync: progress not cleared", { userId: this.#opts.userId, err });
    }
  }

  async #save(now: boolean): Promise<void> {
    if (!this.#opts.live) return;
    // A run with nothing to write says nothing: most runs are a quick look at the changes.
    if (!now && this.#planned === 0) return;
    const at = this.#opts.clock().getTime();
    if (!now && at - this.#savedAt < SAVE_EVERY_MS) return;
    this.#savedAt = at;
    const remaining = this.remainingSeconds(at);
    try {
      await saveSyncProgress(this.#opts.kv, this.#opts.userId, {
        runId: this.#opts.runId,
        startedAt: this.#startedAt.toISOString(),
        updatedAt: new Date(at).toISOString(),
        stage: this.#stage,
        listed: this.#listed,
        planned: this.#planned,
        written: this.#written,
        ...(this.#nearestUntil ? { nearestUntil: this.#nearestUntil.toISOString() } : {}),
        ...(remaining !== undefined ? { remainingSeconds: remaining } : {}),
      });
      this.#saved = true;
    } catch (err) {
      // A display must never fail the run; the next save tries again.
      this.#opts.log.warn("sync: progress not saved", { userId: this.#opts.userId, err });
    }
  }
}
