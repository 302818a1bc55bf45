/**
 * The one retry and rate-limit policy every Google call goes through. The googleapis client's
 * own retries are off (lib/google/provider.ts), because they retry only some methods, ignore
 * Retry-After and never retry 403 rate limits (notes §4, [GAX]); here every call is retried the
 * same way and every attempt, retries included, is counted against the connection's budget.
 */
import { backoffDelay } from "../backoff.ts";
import {
  isRateLimited,
  isRetryable,
  RetriesExhaustedError,
  retryAfterMs,
  UnansweredError,
} from "./google_errors.ts";
import { createRequestBudget } from "./request_budget.ts";

export interface RetryPolicyOptions {
  /** Epoch ms. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1); default Math.random. */
  random?: () => number;
  /** BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE, per connection; `Infinity` lifts it. */
  requestsPerMinute: number;
  /** Attempts per call, the first included; default 8. */
  maxAttempts?: number;
  /** Backoff before the first retry is drawn from [0, baseDelayMs); default 1000. */
  baseDelayMs?: number;
  /** Cap of one backoff before jitter; default 32 000 (Google's advice: notes §4, [QUOTA]). */
  maxDelayMs?: number;
  /** Cap of all backoff waits of one call (budget waits excluded); default 120 000. */
  maxTotalWaitMs?: number;
  /** Called after every attempt, so callers can count API calls and retries. */
  onAttempt?: (report: AttemptReport) => void;
  /** Hears of every wait for the request budget (or a Retry-After hold), in ms. */
  onBudgetWait?: (ms: number) => void;
}

/** One attempt of one call. */
export interface AttemptReport {
  connectionId: string;
  /** 1 for the first try. */
  attempt: number;
  /** "retry": failed and will be tried again after `delayMs`; "failed": given up or not retryable. */
  outcome: "ok" | "retry" | "failed";
  delayMs?: number;
  error?: unknown;
}

export interface RunOptions {
  /**
   * Default true. False for a call that must not be sent twice blindly (an insert a server
   * might store twice: notes §10): a failure that may have been carried out (no answer, a
   * timeout, a 5xx) throws UnansweredError at once, for the caller to look before resending;
   * rate limits, which are refused before anything is done, are still retried.
   */
  resendUnanswered?: boolean;
}

export interface RetryPolicy {
  /**
   * Runs `call` for `connectionId`, waiting for the budget before each attempt and retrying
   * rate limits (403 rateLimitExceeded/userRateLimitExceeded, 429), 5xx and network failures.
   * A failure that is not retryable is rethrown as it is; when attempts or backoff time run out,
   * throws RetriesExhaustedError with the last failure as its cause.
   */
  run<T>(connectionId: string, call: () => Promise<T>, options?: RunOptions): Promise<T>;
  /**
   * The connection's requests this policy counted in the last 60 s (its budget in use). Only
   * this process's: the budget is kept in memory, per process.
   */
  requestsInLastMinute(connectionId: string): number;
}

/**
 * Truncated exponential backoff with full jitter: the n-th retry waits a uniform draw from
 * [0, min(maxDelay, base × 2^(n-1))), or what Retry-After asks if that is longer. Full jitter
 * spreads the retries of many concurrent calls that failed together (one rate-limit burst
 * usually fails several at once) instead of sending them back in lockstep.
 */
export function createRetryPolicy(opts: RetryPolicyOptions): RetryPolicy {
  const {
    now,
    sleep,
    random = Math.random,
    maxAttempts = 8,
    baseDelayMs = 1_000,
    maxDelayMs = 32_000,
    maxTotalWaitMs = 120_000,
    onAttempt,
  } = opts;
  const budget = createRequestBudget({
    perMinute: opts.requestsPerMinute,
    now,
    sleep,
    ...(opts.onBudgetWait ? { onWait: opts.onBudgetWait } : {}),
  });

  return {
    requestsInLastMinute: (connectionId) => budget.used(connectionId),
    async run(connectionId, call, options) {
      const resend = options?.resendUnanswered ?? true;
      let waited = 0;
      for (let attempt = 1;; attempt++) {
        await budget.take(connectionId);
        try {
          const result = await call();
          onAttempt?.({ connectionId, attempt, outcome: "ok" });
          return result;
        } catch (error) {
          if (!isRetryable(error)) {
            onAttempt?.({ connectionId, attempt, outcome: "failed", error });
            throw error;
          }
          if (!resend && !isRateLimited(error)) {
            onAttempt?.({ connectionId, attempt, outcome: "failed", error });
            throw new UnansweredError({ cause: error });
          }
          const retryAfter = retryAfterMs(error, now()) ?? 0;
          const delayMs = Math.max(
            backoffDelay(attempt, {
              baseMs: baseDelayMs,
              maxMs: maxDelayMs,
              jitter: "full",
              random,
            }),
            retryAfter,
          );
          if (attempt >= maxAttempts || waited + delayMs > maxTotalWaitMs) {
            onAttempt?.({ connectionId, attempt, outcome: "failed", error });
            throw new RetriesExhaustedError(attempt, waited, { cause: error });
          }
          onAttempt?.({ connectionId, attempt, outcome: "retry", delayMs, error });
          waited += delayMs;
          // Retry-After tells when Google takes this connection's requests again: the other
          // calls of the connection wait for it too (on the budget) instead of each being
          // refused in turn. When it alone is the wait, this call waits it on the budget too.
          if (retryAfter > 0) budget.holdUntil(connectionId, now() + retryAfter);
          if (retryAfter === 0 || delayMs > retryAfter) await sleep(delayMs);
        }
      }
    },
  };
}
