/**
 * A per-connection request budget: at most `perMinute` requests in any 60-second window, the
 * shape of Google's own per-user quota (a sliding window: notes §4, [QUOTA]). Over budget, a
 * caller waits for its turn instead of failing.
 */

const WINDOW_MS = 60_000;

export interface RequestBudgetOptions {
  /** Requests allowed per key in any 60 s; `Infinity` lifts the budget (benchmarks). */
  perMinute: number;
  /** Epoch ms. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Hears of every wait a request made for its turn, in ms (metrics). */
  onWait?: (ms: number) => void;
}

export interface RequestBudget {
  /**
   * Resolves when one more request for `key` fits the budget and any hold on `key` is over,
   * and counts that request.
   */
  take(key: string): Promise<void>;
  /**
   * Sends no request for `key` before `untilMs` (epoch ms): the server said when it will take
   * requests again (Retry-After), and that holds for every call of the connection, not only
   * the one that was refused. An earlier hold than one in force changes nothing.
   */
  holdUntil(key: string, untilMs: number): void;
  /** The requests of `key` counted in the 60 s up to now, waiting ones included (no change). */
  used(key: string): number;
}

/**
 * A sliding-window log: the start time of each of a key's recent requests. A request's slot is
 * either now or, when the last `perMinute` slots fill the window, one window after the oldest of
 * them. Slots are reserved before waiting, so concurrent callers queue in order and never
 * overshoot; memory per key is at most `perMinute` numbers.
 */
export function createRequestBudget(opts: RequestBudgetOptions): RequestBudget {
  const { perMinute, now, sleep, onWait } = opts;
  if (!(perMinute > 0)) throw new RangeError(`perMinute must be positive, got ${perMinute}`);
  const slots = new Map<string, number[]>();
  const holds = new Map<string, number>();

  async function waitFor(ms: number): Promise<void> {
    onWait?.(ms);
    await sleep(ms);
  }

  return {
    async take(key) {
      const t = now();
      const held = holds.get(key) ?? 0;
      if (held <= t) holds.delete(key);
      if (perMinute === Infinity) {
        if (held > t) await waitFor(held - t);
        return;
      }
      const log = slots.get(key) ?? [];
      // Slots are reserved in non-decreasing order, so expired ones sit at the front.
      let expired = 0;
      while (expired < log.length && log[expired] <= t - WINDOW_MS) expired++;
      log.splice(0, expired);
      const slot = Math.max(
        held,
        log.length < perMinute ? t : Math.max(t, log[log.length - perMinute] + WINDOW_MS),
      );
      log.push(slot);
      slots.set(key, log);
      if (slot > t) await waitFor(slot - t);
    },

    holdUntil(key, untilMs) {
      if (untilMs > (holds.get(key) ?? 0)) holds.set(key, untilMs);
    },
    used(key) {
      const since = now() - WINDOW_MS;
      return (slots.get(key) ?? []).filter((slot) => slot > since).length;
    },
  };
}
