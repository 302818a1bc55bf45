import assert from "node:assert/strict";
import { createFakeTime, type FakeTime } from "../../tests/support/fake_time.ts";
import { RetriesExhaustedError } from "./google_errors.ts";
import { type AttemptReport, createRetryPolicy, type RetryPolicyOptions } from "./retry_policy.ts";

/** A failure shaped like a GaxiosError with Google's error body (notes §4). */
function googleFailure(status: number, reason: string, headers: Record<string, string> = {}) {
  return Object.assign(new Error(reason), {
    status,
    code: status,
    response: {
      status,
      headers: new Headers(headers),
      data: { error: { errors: [{ domain: "global", reason, message: reason }], code: status } },
    },
  });
}

/** A request that got no HTTP answer, as gaxios reports a failure of Deno's fetch. */
function networkFailure(message: string) {
  return Object.assign(new Error(message, { cause: new TypeError(message) }), {
    response: undefined,
  });
}

/** A call that fails with `failures` in order, then returns "done"; counts its invocations. */
function flaky(failures: unknown[]) {
  const call = () => {
    call.calls++;
    const failure = failures.shift();
    return failure === undefined ? Promise.resolve("done") : Promise.reject(failure);
  };
  call.calls = 0;
  return call;
}

function aPolicy(time: FakeTime, overrides: Partial<RetryPolicyOptions> = {}) {
  const attempts: AttemptReport[] = [];
  const policy = createRetryPolicy({
    now: time.now,
    sleep: time.sleep,
    random: () => 0.5,
    requestsPerMinute: Infinity,
    onAttempt: (r) => attempts.push(r),
    ...overrides,
  });
  return { policy, attempts };
}

Deno.test("retry policy: rate limits, 5xx and dropped connections are retried until the call succeeds", async () => {
  const time = createFakeTime();
  const { policy, attempts } = aPolicy(time);
  const call = flaky([
    googleFailure(403, "rateLimitExceeded"),
    googleFailure(403, "userRateLimitExceeded"),
    googleFailure(429, "rateLimitExceeded"),
    googleFailure(500, "backendError"),
    googleFailure(503, "backendError"),
    networkFailure("error reading a body from connection"),
  ]);
  assert.equal(await policy.run("conn", call), "done");
  assert.equal(call.calls, 7);
  assert.deepEqual(attempts.map((a) => a.outcome), [...Array(6).fill("retry"), "ok"]);
});

Deno.test("retry policy: backoff doubles from the base, is capped, and is fully jittered", async () => {
  const time = createFakeTime();
  const { policy } = aPolicy(time, { maxAttempts: 10, maxTotalWaitMs: Infinity });
  const call = flaky(Array.from({ length: 8 }, () => googleFailure(500, "backendError")));
  await policy.run("conn", call);
  // random() = 0.5: half of min(32 s, 1 s × 2^(n-1)).
  assert.deepEqual(time.delays, [500, 1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);

  const zero = createFakeTime();
  const jittered = aPolicy(zero, { random: () => 0 }).policy;
  await jittered.run("conn", flaky([googleFailure(503, "backendError")]));
  assert.deepEqual(zero.delays, [0]);
});

Deno.test("retry policy: Retry-After in seconds is waited for even when the backoff is shorter", async () => {
  const time = createFakeTime();
  const { policy } = aPolicy(time);
  await policy.run(
    "conn",
    flaky([googleFailure(429, "rateLimitExceeded", { "Retry-After": "7" })]),
  );
  assert.deepEqual(time.delays, [7_000]);
});

Deno.test("retry policy: Retry-After as an HTTP date is waited for until that moment", async () => {
  const time = createFakeTime();
  const { policy } = aPolicy(time);
  const at = new Date(time.now() + 20_000).toUTCString();
  await policy.run("conn", flaky([googleFailure(503, "backendError", { "Retry-After": at })]));
  assert.deepEqual(time.delays, [20_000]);
});

Deno.test("retry policy: refusals are never retried (400, 401, 403 forbidden, 404, 409, 410, 412)", async (t) => {
  const refusals = [
    googleFailure(400, "invalid"),
    googleFailure(401, "authError"),
    googleFailure(403, "forbiddenForNonOrganizer"),
    googleFailure(403, "quotaExceeded"),
    googleFailure(403, "insufficientPermissions"),
    googleFailure(404, "notFound"),
    googleFailure(409, "duplicate"),
    googleFailure(410, "fullSyncRequired"),
    googleFailure(412, "conditionNotMet"),
    new TypeError("a bug, not the network"),
  ];
  for (const failure of refusals) {
    await t.step(failure.message, async () => {
      const time = createFakeTime();
      const { policy, attempts } = aPolicy(time);
      const call = flaky([failure]);
      await assert.rejects(policy.run("conn", call), (e) => e === failure);
      assert.equal(call.calls, 1);
      assert.deepEqual(attempts.map((a) => a.outcome), ["failed"]);
      assert.deepEqual(time.delays, []);
    });
  }
});

Deno.test("retry policy: gives up after max attempts with the last failure as the cause", async () => {
  const time = createFakeTime();
  const { policy, attempts } = aPolicy(time, { maxAttempts: 3 });
  const last = googleFailure(500, "backendError");
  const call = flaky([
    googleFailure(500, "backendError"),
    googleFailure(500, "backendError"),
    last,
  ]);
  await assert.rejects(policy.run("conn", call), (e) => {
    assert.ok(e instanceof RetriesExhaustedError);
    assert.equal(e.attempts, 3);
    assert.equal(e.cause, last);
    return true;
  });
  assert.equal(call.calls, 3);
  assert.deepEqual(attempts.map((a) => a.outcome), ["retry", "retry", "failed"]);
});

Deno.test("retry policy: gives up rather than wait past the total wait allowed", async () => {
  const time = createFakeTime();
  const { policy } = aPolicy(time, { maxTotalWaitMs: 60_000 });
  const call = flaky([
    googleFailure(429, "rateLimitExceeded", { "Retry-After": "30" }),
    googleFailure(429, "rateLimitExceeded", { "Retry-After": "40" }),
  ]);
  await assert.rejects(policy.run("conn", call), RetriesExhaustedError);
  // The second wait would bring the total to 70 s: no pointless sleep before giving up.
  assert.deepEqual(time.delays, [30_000]);
  assert.equal(call.calls, 2);
});

Deno.test("retry policy: retries count against the connection's request budget", async () => {
  const time = createFakeTime();
  const { policy } = aPolicy(time, { requestsPerMinute: 2, random: () => 0 });
  const start = time.now();
  await policy.run("conn", flaky([googleFailure(503, "backendError")]));
  // The failed attempt and its retry used both slots of the minute; the next call waits.
  await policy.run("conn", flaky([]));
  assert.equal(time.now() - start, 60_000);
});

Deno.test("retry policy: a Retry-After holds the connection's other calls too, as waits for the budget", async () => {
  const time = createFakeTime();
  const budgetWaits: number[] = [];
  const { policy } = aPolicy(time, { onBudgetWait: (ms) => budgetWaits.push(ms) });
  const start = time.now();
  const refused = policy.run(
    "conn",
    flaky([googleFailure(429, "rateLimitExceeded", { "Retry-After": "5" })]),
  );
  // Sent once the 429 has come back: without the hold it would go out at once.
  await new Promise((resolve) => setTimeout(resolve, 0));
  let sentAt = 0;
  const other = policy.run("conn", () => {
    sentAt = time.now();
    return Promise.resolve("done");
  });
  const elsewhere = policy.run("other-conn", () => Promise.resolve("done"));
  assert.deepEqual(await Promise.all([refused, other, elsewhere]), ["done", "done", "done"]);
  assert.equal(sentAt - start, 5_000);
  assert.deepEqual(budgetWaits, [5_000, 5_000], "the retry and the other call waited");
});
