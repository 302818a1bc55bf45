import assert from "node:assert/strict";
import {
  ALICE,
  anEvent,
  calendarClient,
  failure,
  startHarness,
  TEST_CLIENT,
} from "./test_support.ts";

const calendarId = ALICE;

Deno.test("faults: the next N calls of a method fail, then the method recovers", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", { method: "events.list", fault: "rateLimitExceeded", times: 2 });
  for (let i = 0; i < 2; i++) {
    const f = await failure(api.events.list({ calendarId }));
    assert.deepEqual([f.status, f.reason], [403, "rateLimitExceeded"]);
    assert.equal(f.body!.error.errors[0].domain, "usageLimits");
  }
  await api.events.insert({ calendarId, requestBody: anEvent() }); // other methods unaffected
  assert.equal((await api.events.list({ calendarId })).status, 200);
  assert.deepEqual(await h.admin("GET", "faults"), { faults: [] }, "a used-up rule is gone");
});

Deno.test("faults: `after` lets that many matching calls through before the rule fires", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", { method: "events.list", fault: "notFound", after: 2, times: 1 });
  for (let i = 0; i < 2; i++) assert.equal((await api.events.list({ calendarId })).status, 200);
  assert.equal((await failure(api.events.list({ calendarId }))).status, 404);
  assert.equal((await api.events.list({ calendarId })).status, 200);
});

Deno.test("faults: each error fault answers with Google's status and reason", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const cases: [string, number, string][] = [
    ["userRateLimitExceeded", 403, "userRateLimitExceeded"],
    ["quotaExceeded", 403, "quotaExceeded"],
    ["tooManyRequests", 429, "rateLimitExceeded"],
    ["backendError", 500, "backendError"],
    ["serviceUnavailable", 503, "backendError"],
    ["authError", 401, "authError"],
  ];
  for (const [fault, status, reason] of cases) {
    await h.admin("POST", "faults", { method: "events.get", fault, times: 1 });
    const f = await failure(api.events.get({ calendarId, eventId: "whatever1" }));
    assert.deepEqual([f.status, f.reason], [status, reason], fault);
  }
});

Deno.test("faults: a 429 carries Retry-After", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", { fault: "tooManyRequests", times: 1, retryAfterSeconds: 7 });
  const f = await failure(api.calendarList.list());
  const headers = f.error.response!.headers as Headers;
  assert.equal(f.status, 429);
  assert.equal(headers.get("retry-after"), "7");
});

Deno.test("faults: the client's own retries get through a single 503 on a GET", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE, { retry: true });
  await h.admin("DELETE", "requests");
  await h.admin("POST", "faults", { method: "events.list", fault: "serviceUnavailable", times: 1 });
  assert.equal((await api.events.list({ calendarId })).status, 200);
  const counts = await h.admin<{ counts: Record<string, number> }>("GET", "requests");
  assert.equal(counts.counts["events.list"], 2, "the failed call is counted too");
});

Deno.test("faults: a percentage of calls fails, in the same pattern for the same seed", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const pattern = async () => {
    await h.admin("DELETE", "faults");
    await h.admin("POST", "faults", { method: "*", fault: "backendError", percent: 30, seed: 42 });
    const out: boolean[] = [];
    for (let i = 0; i < 30; i++) {
      out.push(await api.calendarList.list().then(() => true, () => false));
    }
    return out;
  };
  const first = await pattern();
  const failures = first.filter((ok) => !ok).length;
  assert.ok(failures > 2 && failures < 20, `30% of 30 calls failed ${failures} times`);
  assert.deepEqual(await pattern(), first);
});

Deno.test("faults: a connection reset reaches the client as a network error", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", { method: "events.list", fault: "connectionReset", times: 1 });
  const f = await failure(api.events.list({ calendarId }));
  assert.equal(f.error.code, "ECONNRESET");
  assert.equal(f.reason, undefined, "no Google error body arrives");
  assert.equal(f.error.response?.data, undefined);
  assert.equal((await api.events.list({ calendarId })).status, 200);
});

Deno.test("faults: a lost response commits the write, yet the client sees a network error", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", { method: "events.insert", fault: "lostResponse", times: 1 });
  const id = "lostresp00000001";
  const f = await failure(api.events.insert({ calendarId, requestBody: anEvent({ id }) }));
  assert.equal(f.error.code, "ECONNRESET");
  assert.equal(f.error.response?.data, undefined, "no answer arrives");
  assert.equal((await api.events.get({ calendarId, eventId: id })).data.id, id, "it was stored");
  const retry = await failure(api.events.insert({ calendarId, requestBody: anEvent({ id }) }));
  assert.deepEqual([retry.status, retry.reason], [409, "duplicate"]);
});

Deno.test("faults: a lost response also hides a refused call's answer", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", { method: "events.get", fault: "lostResponse", times: 1 });
  const f = await failure(api.events.get({ calendarId, eventId: "missing01" }));
  assert.equal(f.error.code, "ECONNRESET");
});

Deno.test("faults: a delay slows a call down, which then succeeds", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", {
    method: "events.list",
    fault: "delay",
    delayMs: 120,
    times: 1,
  });
  const started = performance.now();
  const res = await api.events.list({ calendarId });
  assert.equal(res.status, 200);
  assert.ok(performance.now() - started >= 115);
});

Deno.test("faults: a token endpoint fault hits the refresh, which the library retries", async () => {
  await using h = startHarness();
  const tokens = await h.admin<{ refresh_token: string }>("POST", "tokens", {
    email: ALICE,
    clientId: TEST_CLIENT.clientId,
  });
  await h.admin("POST", "faults", { method: "oauth.token", fault: "serviceUnavailable", times: 1 });
  const api = calendarClient(h.url, {
    refresh_token: tokens.refresh_token,
    expiry_date: Date.now() - 1000,
  });
  assert.equal((await api.events.list({ calendarId })).status, 200);
  assert.deepEqual(await h.admin("GET", "faults"), { faults: [] }, "the fault was used");
});

Deno.test("faults: bad fault rules are refused with 400", async () => {
  await using h = startHarness();
  for (
    const rule of [
      { fault: "explode" },
      { fault: "delay" },
      { fault: "backendError", times: 1, percent: 10 },
    ]
  ) {
    const res = await fetch(`${h.url}/__emulator/faults`, {
      method: "POST",
      body: JSON.stringify(rule),
    });
    assert.equal(res.status, 400, JSON.stringify(rule));
    await res.body?.cancel();
  }
});

Deno.test("requests: every Calendar call is counted by method, failed ones included", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.calendarList.list();
  await api.events.insert({ calendarId, requestBody: anEvent() });
  await api.events.list({ calendarId });
  await failure(api.events.get({ calendarId, eventId: "missing01" }));
  await fetch(`${h.url}/calendar/v3/calendars/primary/events`).then((r) => r.body?.cancel());
  assert.deepEqual(await h.admin("GET", "requests"), {
    counts: { "calendarList.list": 1, "events.insert": 1, "events.list": 2, "events.get": 1 },
    total: 5,
  });
  await h.admin("DELETE", "requests");
  assert.deepEqual(await h.admin("GET", "requests"), { counts: {}, total: 0 });
});
