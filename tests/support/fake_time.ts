/**
 * A fake clock and sleep for time-dependent code: a sleep records its delay and resolves on the
 * next macrotask instead of after the delay, moving the clock to its deadline. Sleepers wake in
 * deadline order, one per macrotask, so concurrent callers see time advance as with real timers
 * (not by the sum of their delays).
 */
export interface FakeTime {
  /** Epoch ms. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Every delay asked for, in call order. */
  delays: number[];
}

export function createFakeTime(start = Date.parse("2030-01-01T00:00:00Z")): FakeTime {
  let t = start;
  const delays: number[] = [];
  const sleepers: { deadline: number; wake: () => void }[] = [];
  const wakeEarliest = () => {
    sleepers.sort((a, b) => a.deadline - b.deadline);
    const next = sleepers.shift();
    if (!next) return;
    t = Math.max(t, next.deadline);
    next.wake();
  };
  return {
    now: () => t,
    sleep(ms) {
      delays.push(ms);
      return new Promise((wake) => {
        sleepers.push({ deadline: t + ms, wake });
        setTimeout(wakeEarliest, 0);
      });
    },
    delays,
  };
}
