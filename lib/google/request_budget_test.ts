import assert from "node:assert/strict";
import { createFakeTime } from "../../tests/support/fake_time.ts";
import { createRequestBudget } from "./request_budget.ts";

Deno.test("budget: N requests a minute pass at once, the N+1st waits until the first leaves the window", async () => {
  const time = createFakeTime();
  const budget = createRequestBudget({ perMinute: 3, now: time.now, sleep: time.sleep });
  const start = time.now();
  for (let i = 0; i < 3; i++) await budget.take("conn");
  assert.deepEqual(time.delays, []);
  await budget.take("conn");
  assert.deepEqual(time.delays, [60_000]);
  assert.equal(time.now() - start, 60_000);
});

Deno.test("budget: requests spread over time only wait for what is still inside the window", async () => {
  const time = createFakeTime();
  const budget = createRequestBudget({ perMinute: 2, now: time.now, sleep: time.sleep });
  await budget.take("conn");
  await time.sleep(45_000);
  await budget.take("conn");
  await budget.take("conn");
  // The first request was 45 s ago, so the third waits 15 s, not a whole minute.
  assert.deepEqual(time.delays, [45_000, 15_000]);
});

Deno.test("budget: concurrent callers queue in order and never exceed the rate", async () => {
  const time = createFakeTime();
  const budget = createRequestBudget({ perMinute: 2, now: time.now, sleep: time.sleep });
  const started: number[] = [];
  await Promise.all(
    Array.from({ length: 5 }, () => budget.take("conn").then(() => started.push(time.now()))),
  );
  const t0 = started[0];
  assert.deepEqual(started.map((t) => t - t0), [0, 0, 60_000, 60_000, 120_000]);
});

Deno.test("budget: connections have separate budgets", async () => {
  const time = createFakeTime();
  const budget = createRequestBudget({ perMinute: 1, now: time.now, sleep: time.sleep });
  await budget.take("a");
  await budget.take("b");
  assert.deepEqual(time.delays, []);
});

Deno.test("budget: Infinity lifts the budget entirely", async () => {
  const time = createFakeTime();
  const budget = createRequestBudget({ perMinute: Infinity, now: time.now, sleep: time.sleep });
  for (let i = 0; i < 10_000; i++) await budget.take("conn");
  assert.deepEqual(time.delays, []);
});

Deno.test("budget: a rate that is not positive is refused at creation", () => {
  const time = createFakeTime();
  assert.throws(() => createRequestBudget({ perMinute: 0, ...time }), RangeError);
});

Deno.test("budget: a hold makes every request of its key wait until it ends, and the wait is reported", async () => {
  const time = createFakeTime();
  const waits: number[] = [];
  const budget = createRequestBudget({
    perMinute: Infinity,
    now: time.now,
    sleep: time.sleep,
    onWait: (ms) => waits.push(ms),
  });
  budget.holdUntil("conn", time.now() + 2_000);
  // A shorter hold arriving later does not cut the one in force short.
  budget.holdUntil("conn", time.now() + 500);
  await Promise.all([budget.take("conn"), budget.take("conn"), budget.take("other")]);
  assert.deepEqual(waits, [2_000, 2_000]);
  await budget.take("conn");
  assert.deepEqual(waits, [2_000, 2_000], "the hold is over");
});

Deno.test("budget: used counts a connection's requests of the last minute, and reading it takes nothing", async () => {
  const time = createFakeTime();
  const budget = createRequestBudget({ perMinute: 5, now: time.now, sleep: time.sleep });
  assert.equal(budget.used("conn"), 0);
  await budget.take("conn");
  await time.sleep(30_000);
  await budget.take("conn");
  await budget.take("other");
  assert.equal(budget.used("conn"), 2);
  assert.equal(budget.used("conn"), 2);
  await time.sleep(30_000);
  // The first request left the window.
  assert.equal(budget.used("conn"), 1);
  assert.equal(budget.used("other"), 1);
});
