/**
 * Exponential backoff, the one formula for every retry in busysync: Google calls, failed jobs
 * and KV commits that lost a race.
 */

export interface BackoffOptions {
  /** The ceiling of the first retry; it doubles per retry. */
  baseMs: number;
  /** The ceiling never grows past this. */
  maxMs: number;
  /**
   * "full": a uniform draw from [0, ceiling), which spreads many callers that failed together
   * the most; "half": from [ceiling / 2, ceiling × 1.5), which keeps each wait near its ceiling.
   */
  jitter: "full" | "half";
  random?: () => number;
}

/** How long to wait before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, options: BackoffOptions): number {
  const { baseMs, maxMs, jitter, random = Math.random } = options;
  const ceiling = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return jitter === "full" ? random() * ceiling : ceiling * (0.5 + random());
}
