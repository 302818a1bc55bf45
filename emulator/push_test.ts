import assert from "node:assert/strict";
import type { calendar_v3 } from "@googleapis/calendar";
import { PUSH_USER_AGENT } from "./push.ts";
import {
  ALICE,
  ALICE_WORK,
  anEvent,
  aSeed,
  BOB,
  failure,
  type Harness,
  SCOPE,
  SHARED,
  startHarness,
} from "./test_support.ts";

const calendarId = ALICE;

interface Notification {
  method: string;
  path: string;
  channelId: string;
  state: string;
  number: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A webhook receiver on a free loopback port. It records every notification, answers with
 * `respond(notification)` (200 by default), and lets a test await a condition on what it has
 * received, with a deadline instead of a sleep.
 */
function startReceiver(respond: (n: Notification) => number = () => 200) {
  const received: Notification[] = [];
  const checks = new Set<() => void>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const headers = Object.fromEntries(req.headers);
    const n: Notification = {
      method: req.method,
      path: new URL(req.url).pathname,
      channelId: headers["x-goog-channel-id"],
      state: headers["x-goog-resource-state"],
      number: Number(headers["x-goog-message-number"]),
      headers,
      body: await req.text(),
    };
    received.push(n);
    for (const check of [...checks]) check();
    return new Response(null, { status: respond(n) });
  });
  /** What the receiver got on one channel, in arrival order. */
  const of = (channelId: string) => received.filter((n) => n.channelId === channelId);
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    of,
    /** Resolves once `channelId` has received `count` notifications; rejects after `ms`. */
    until(channelId: string, count: number, ms = 5000): Promise<Notification[]> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          checks.delete(check);
          reject(new Error(`${channelId}: ${of(channelId).length} of ${count} notifications`));
        }, ms);
        const check = () => {
          if (of(channelId).length < count) return;
          clearTimeout(timer);
          checks.delete(check);
          resolve(of(channelId));
        };
        checks.add(check);
        check();
      });
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Polls `probe` until it returns a value other than undefined; fails after `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface AdminChannel {
  id: string;
  resourceId: string;
  calendarId: string;
  user: string;
  expiration: string;
  messageNumber: number;
  deliveries: { ok: number; failed: number };
}
interface AdminDelivery {
  channelId: string;
  resourceState: string;
  messageNumber: number;
  attempt: number;
  status: number | null;
  outcome: string;
  at: string;
  latencyMs: number;
}

const adminChannels = async (h: Harness) =>
  (await h.admin<{ channels: AdminChannel[] }>("GET", "channels")).channels;
const adminDeliveries = async (h: Harness) =>
  (await h.admin<{ deliveries: AdminDelivery[] }>("GET", "push/deliveries")).deliveries;

function watch(
  api: calendar_v3.Calendar,
  id: string,
  address: string,
  extra: calendar_v3.Schema$Channel = {},
  calendar = calendarId,
) {
  return api.events.watch({
    calendarId: calendar,
    requestBody: { id, type: "web_hook", address, ...extra },
  });
}

Deno.test("push: events.watch answers a channel and the receiver first gets a sync with Google's headers", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  const res = await watch(api, "chan-1", rx.url, { token: "s3cret" }, "primary");
  const channel = res.data;
  assert.equal(res.status, 200);
  assert.equal(channel.kind, "api#channel");
  assert.equal(channel.id, "chan-1");
  assert.equal(channel.token, "s3cret");
  assert.match(channel.resourceId!, /^[A-Za-z0-9_-]{27}$/);
  assert.equal(
    channel.resourceUri,
    `${h.url}/calendar/v3/calendars/primary/events?alt=json`,
    "the URI echoes the calendar id as the caller wrote it",
  );
  assert.match(channel.expiration!, /^\d+$/);

  const [sync] = await rx.until("chan-1", 1);
  assert.equal(sync.method, "POST");
  assert.equal(sync.path, "/hook");
  assert.equal(sync.body, "");
  assert.equal(sync.headers["user-agent"], PUSH_USER_AGENT);
  const googHeaders = Object.fromEntries(
    Object.entries(sync.headers).filter(([k]) => k.startsWith("x-goog-")),
  );
  assert.deepEqual(googHeaders, {
    "x-goog-channel-id": "chan-1",
    "x-goog-channel-expiration": new Date(Number(channel.expiration)).toUTCString(),
    "x-goog-channel-token": "s3cret",
    "x-goog-message-number": "1",
    "x-goog-resource-id": channel.resourceId,
    "x-goog-resource-state": "sync",
    "x-goog-resource-uri": channel.resourceUri,
  });
  assert.match(googHeaders["x-goog-channel-expiration"], /^\w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT$/);
});

Deno.test("push: every API insert, patch and delete sends one exists with a growing message number", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  await watch(api, "api-writes", rx.url, { token: "tok" });
  await rx.until("api-writes", 1);

  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  await rx.until("api-writes", 2);
  await api.events.patch({ calendarId, eventId: e.id!, requestBody: { summary: "moved" } });
  await rx.until("api-writes", 3);
  // A change elsewhere uses up change positions, so this channel's next number skips (§6).
  await api.events.insert({ calendarId: ALICE_WORK, requestBody: anEvent() });
  await api.events.delete({ calendarId, eventId: e.id! });
  const all = await rx.until("api-writes", 4);

  assert.deepEqual(all.map((n) => n.state), ["sync", "exists", "exists", "exists"]);
  assert.deepEqual(all.map((n) => n.headers["x-goog-channel-token"]), ["tok", "tok", "tok", "tok"]);
  assert.equal(all[0].number, 1);
  for (let i = 1; i < all.length; i++) assert(all[i].number > all[i - 1].number, `#${i}`);
  assert(all[3].number > all[2].number + 1, "numbers may skip");
  assert(all.every((n) => n.body === ""));
  // The receiver has the message before the emulator has its answer: wait for the count.
  const listed = await eventually(async () => {
    const [ch] = await adminChannels(h);
    return ch.deliveries.ok === 4 ? ch : undefined;
  });
  assert.equal(listed.messageNumber, all[3].number);
  // Deliveries start at once (no added delay), so push latency measures the app (benchmarks).
  const log = await adminDeliveries(h);
  assert(log.every((d) => d.outcome === "ok" && d.latencyMs < 1000), JSON.stringify(log));
});

Deno.test("push: admin edits notify too, and a reader's channel hears the owner's changes", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const bob = await h.api(BOB);
  await watch(bob, "bob-shared", rx.url, {}, SHARED);
  await rx.until("bob-shared", 1);

  const added = await h.admin<{ id: string }>("POST", `calendars/${SHARED}/events`, anEvent());
  await rx.until("bob-shared", 2);
  await h.admin("PATCH", `calendars/${SHARED}/events/${added.id}`, { summary: "renamed" });
  await rx.until("bob-shared", 3);
  await h.admin("DELETE", `calendars/${SHARED}/events/${added.id}`);
  const all = await rx.until("bob-shared", 4);
  assert.deepEqual(all.map((n) => n.state), ["sync", "exists", "exists", "exists"]);
  assert.equal(all[0].headers["x-goog-channel-token"], undefined, "no token, no token header");
});

Deno.test("push: channels.stop ends deliveries at once; a second stop is 404", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  const stopped = (await watch(api, "to-stop", rx.url)).data;
  await watch(api, "witness", rx.url);
  await rx.until("to-stop", 1);
  await rx.until("witness", 1);

  const res = await api.channels.stop({
    requestBody: { id: "to-stop", resourceId: stopped.resourceId },
  });
  assert.equal(res.status, 204);
  await api.events.insert({ calendarId, requestBody: anEvent() });
  // Both channels would be notified by the same commit; once the witness has its exists, the
  // stopped channel would have had its own.
  await rx.until("witness", 2);
  assert.deepEqual((await adminChannels(h)).map((c) => c.id), ["witness"]);
  assert.deepEqual(rx.of("to-stop").map((n) => n.state), ["sync"]);
  assert(!(await adminDeliveries(h)).some((d) => d.channelId === "to-stop" && d.messageNumber > 1));

  const again = await failure(
    api.channels.stop({ requestBody: { id: "to-stop", resourceId: stopped.resourceId } }),
  );
  assert.deepEqual([again.status, again.reason], [404, "notFound"]);
  assert.equal(again.body!.error.message, "Channel 'to-stop' not found for project 'test-client'");
});

Deno.test("push: only the user and client that opened a channel can stop it", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const alice = await h.api(ALICE);
  const channel = (await watch(alice, "owned", rx.url, {}, SHARED)).data;
  const requestBody = { id: "owned", resourceId: channel.resourceId };

  const bob = await h.api(BOB);
  const otherUser = await failure(bob.channels.stop({ requestBody }));
  assert.deepEqual([otherUser.status, otherUser.reason], [403, "forbidden"]);
  const otherClient = await h.api(ALICE, { clientId: "another-project" });
  const foreign = await failure(otherClient.channels.stop({ requestBody }));
  assert.deepEqual([foreign.status, foreign.reason], [404, "notFound"]);
  const wrongResource = await failure(
    alice.channels.stop({ requestBody: { id: "owned", resourceId: "nope" } }),
  );
  assert.equal(wrongResource.status, 404);
  const unknown = await failure(
    alice.channels.stop({ requestBody: { id: "never", resourceId: channel.resourceId } }),
  );
  assert.equal(unknown.status, 404);
  const missing = await failure(alice.channels.stop({ requestBody: { id: "owned" } }));
  assert.deepEqual([missing.status, missing.reason], [400, "required"]);
  assert.deepEqual((await adminChannels(h)).map((c) => c.id), ["owned"]);

  assert.equal((await alice.channels.stop({ requestBody })).status, 204);
});

Deno.test("push: a channel past its expiration on the emulator's clock stops delivering and is dropped", async () => {
  let now = Date.UTC(2030, 0, 1);
  await using rx = startReceiver();
  await using h = startHarness(aSeed(), () => now);
  const api = await h.api(ALICE);
  const short = (await watch(api, "short", rx.url, { params: { ttl: "60" } })).data;
  assert.equal(short.expiration, String(now + 60_000));
  await watch(api, "long", rx.url);
  await rx.until("short", 1);
  await rx.until("long", 1);

  now += 60_000;
  await api.events.insert({ calendarId, requestBody: anEvent() });
  await rx.until("long", 2);
  assert.deepEqual(rx.of("short").map((n) => n.state), ["sync"]);
  assert.deepEqual((await adminChannels(h)).map((c) => c.id), ["long"]);
  const gone = await failure(
    api.channels.stop({ requestBody: { id: "short", resourceId: short.resourceId } }),
  );
  assert.equal(gone.status, 404, "an expired channel is gone");
});

Deno.test("push: admin channels/expire ends one channel or all, and reset forgets them", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  await watch(api, "a", rx.url);
  await watch(api, "b", rx.url);
  await watch(api, "c", rx.url);
  assert.deepEqual(await h.admin("POST", "channels/expire", { id: "a" }), { expired: 1 });
  await assert.rejects(h.admin("POST", "channels/expire", { id: "a" }), /404/);
  await api.events.insert({ calendarId, requestBody: anEvent() });
  await rx.until("b", 2);
  assert(!rx.of("a").some((n) => n.state === "exists"));

  assert.deepEqual(await h.admin("POST", "channels/expire", {}), { expired: 2 });
  assert.deepEqual(await adminChannels(h), []);
  await watch(api, "d", rx.url);
  await eventually(async () => (await adminDeliveries(h)).find((d) => d.channelId === "d"));
  await h.admin("POST", "reset", { restoreSeed: true });
  assert.deepEqual(await adminChannels(h), []);
  assert.deepEqual(await adminDeliveries(h), []);
});

Deno.test("push: expiration is what was asked, shortened to the emulator's maximum", async () => {
  const now = Date.UTC(2030, 0, 1);
  const day = 86_400_000;
  await using rx = startReceiver();
  await using h = startHarness(aSeed(), () => now);
  const api = await h.api(ALICE);
  const expiry = async (id: string, extra: calendar_v3.Schema$Channel) =>
    Number((await watch(api, id, rx.url, extra)).data.expiration) - now;
  assert.equal(await expiry("default", {}), 7 * day, "params.ttl defaults to 604800 s");
  assert.equal(await expiry("explicit", { expiration: String(now + day) }), day);
  assert.equal(await expiry("ttl", { params: { ttl: "3600" } }), 3_600_000);
  assert.equal(
    await expiry("both", { expiration: String(now + 2 * day), params: { ttl: "60" } }),
    60_000,
    "the earlier of the two",
  );
  assert.equal(await expiry("long", { params: { ttl: String(30 * 86_400) } }), 7 * day);
  const past = await failure(watch(api, "past", rx.url, { expiration: String(now - 1) }));
  assert.deepEqual([past.status, past.reason], [400, "invalid"]);

  await using capped = startHarness(aSeed(), () => now, { maxChannelTtlSeconds: 3600 });
  const capi = await capped.api(ALICE);
  const res = await watch(capi, "capped", rx.url, { expiration: String(now + day) });
  assert.equal(Number(res.data.expiration) - now, 3_600_000);
});

Deno.test("push: a channel id in use is 400 channelIdNotUnique; ids are per project and reusable after stop", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  const first = (await watch(api, "same-id", rx.url)).data;
  const dup = await failure(watch(api, "same-id", rx.url, {}, ALICE_WORK));
  assert.deepEqual([dup.status, dup.reason], [400, "channelIdNotUnique"]);
  const otherProject = await h.api(ALICE, { clientId: "another-project" });
  assert.equal((await watch(otherProject, "same-id", rx.url)).status, 200);
  await api.channels.stop({ requestBody: { id: "same-id", resourceId: first.resourceId } });
  assert.equal((await watch(api, "same-id", rx.url)).status, 200);
});

Deno.test("push: malformed channels are 400", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const address = "http://127.0.0.1:9/hook";
  const cases: [calendar_v3.Schema$Channel, string][] = [
    [{ id: "x".repeat(65), type: "web_hook", address }, "invalid"],
    [{ id: "ok", type: "web_hook", address, token: "t".repeat(257) }, "invalid"],
    [{ id: "ok", type: "email", address }, "invalid"],
    [{ id: "ok", type: "web_hook", address: "ftp://example.com/hook" }, "invalid"],
    [{ id: "ok", type: "web_hook", address: "not a url" }, "invalid"],
    [{ id: "ok", type: "web_hook", address, params: { ttl: "soon" } }, "invalid"],
    [{ id: "ok", type: "web_hook" }, "required"],
  ];
  for (const [requestBody, reason] of cases) {
    const f = await failure(api.events.watch({ calendarId, requestBody }));
    assert.deepEqual([f.status, f.reason], [400, reason], JSON.stringify(requestBody));
  }
  // `webhook` is accepted as well as `web_hook` ([V3] Schema$Channel), and 64 characters is fine.
  const res = await api.events.watch({
    calendarId,
    requestBody: { id: "x".repeat(64), type: "webhook", address },
  });
  assert.equal(res.status, 200);
});

Deno.test("push: a receiver answering 503 gets the same message again with backoff; other errors fail at once", async () => {
  const answers = [503, 503, 200, 404];
  await using rx = startReceiver(() => answers.shift() ?? 503);
  await using h = startHarness(undefined, undefined, {
    push: { attempts: 3, retryBaseDelayMs: 5 },
  });
  const api = await h.api(ALICE);
  await watch(api, "flaky", rx.url);
  const syncs = await rx.until("flaky", 3);
  assert.deepEqual(syncs.map((n) => [n.state, n.number]), [["sync", 1], ["sync", 1], ["sync", 1]]);
  const ok = await eventually(async () => {
    const [ch] = await adminChannels(h);
    return ch.deliveries.ok === 1 ? ch : undefined;
  });
  assert.deepEqual(ok.deliveries, { ok: 1, failed: 0 });

  await api.events.insert({ calendarId, requestBody: anEvent() }); // answered 404: no retry
  await api.events.insert({ calendarId, requestBody: anEvent() }); // 503 three times: gives up
  await rx.until("flaky", 7);
  const failed = await eventually(async () => {
    const [ch] = await adminChannels(h);
    return ch.deliveries.failed === 2 ? ch : undefined;
  });
  assert.deepEqual(failed.deliveries, { ok: 1, failed: 2 });
  const log = await adminDeliveries(h);
  assert.deepEqual(
    log.map((d) => [d.resourceState, d.attempt, d.status, d.outcome]),
    [
      ["sync", 1, 503, "retry"],
      ["sync", 2, 503, "retry"],
      ["sync", 3, 200, "ok"],
      ["exists", 1, 404, "failed"],
      ["exists", 1, 503, "retry"],
      ["exists", 2, 503, "retry"],
      ["exists", 3, 503, "failed"],
    ],
  );
  assert(log.every((d) => d.channelId === "flaky" && !Number.isNaN(Date.parse(d.at))));
});

Deno.test("push: an unreachable address is retried as a network error, then counted failed", async () => {
  const closed = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(),
  );
  const address = `http://127.0.0.1:${closed.addr.port}/hook`;
  await closed.shutdown();
  await using h = startHarness(undefined, undefined, {
    push: { attempts: 2, retryBaseDelayMs: 5 },
  });
  const api = await h.api(ALICE);
  await watch(api, "nowhere", address);
  const log = await eventually(async () => {
    const entries = await adminDeliveries(h);
    return entries.length === 2 ? entries : undefined;
  });
  assert.deepEqual(log.map((d) => [d.status, d.outcome]), [[null, "retry"], [null, "failed"]]);
  assert.deepEqual((await adminChannels(h))[0].deliveries, { ok: 0, failed: 1 });
});

Deno.test("push: pause holds deliveries in order until resume", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  assert.deepEqual(await h.admin("POST", "push/pause"), { paused: true });
  await watch(api, "held", rx.url);
  await api.events.insert({ calendarId, requestBody: anEvent() });
  const [queued] = await adminChannels(h);
  assert(queued.messageNumber > 1, "the exists message is queued");
  assert.deepEqual(await adminDeliveries(h), []);
  assert.deepEqual(rx.of("held"), []);

  assert.deepEqual(await h.admin("POST", "push/resume"), { paused: false });
  const all = await rx.until("held", 2);
  assert.deepEqual(all.map((n) => [n.state, n.number]), [["sync", 1], [
    "exists",
    queued.messageNumber,
  ]]);
});

Deno.test("push: events.watch is 404 for calendars the user cannot see and needs an events read scope", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const bob = await h.api(BOB);
  for (const id of [ALICE, "nobody@example.com"]) {
    const f = await failure(watch(bob, "nope", rx.url, {}, id));
    assert.deepEqual([f.status, f.reason], [404, "notFound"], id);
  }
  const listOnly = await h.api(ALICE, { scopes: [SCOPE("calendar.calendarlist.readonly")] });
  const f = await failure(watch(listOnly, "scoped", rx.url));
  assert.deepEqual([f.status, f.reason], [403, "insufficientPermissions"]);
  assert.equal(f.body!.error.status, "PERMISSION_DENIED");
  const readOnly = await h.api(ALICE, { scopes: [SCOPE("calendar.events.readonly")] });
  const channel = (await watch(readOnly, "scoped", rx.url)).data;
  assert.equal(
    (await readOnly.channels.stop({
      requestBody: { id: "scoped", resourceId: channel.resourceId },
    })).status,
    204,
  );
});

Deno.test("push: resourceId is stable per calendar and query; resourceUri carries the query", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  const byAlias = (await watch(api, "r1", rx.url, {}, "primary")).data;
  const byId = (await watch(api, "r2", rx.url, {}, ALICE)).data;
  const other = (await watch(api, "r3", rx.url, {}, ALICE_WORK)).data;
  const filtered = (await api.events.watch({
    calendarId,
    eventTypes: ["default"],
    requestBody: { id: "r4", type: "web_hook", address: rx.url },
  })).data;
  assert.equal(byAlias.resourceId, byId.resourceId);
  assert.notEqual(byId.resourceId, other.resourceId);
  assert.notEqual(byId.resourceId, filtered.resourceId);
  assert.equal(
    filtered.resourceUri,
    `${h.url}/calendar/v3/calendars/${ALICE}/events?alt=json&eventTypes=default`,
  );
});

Deno.test("push: events.watch and channels.stop are counted and can be faulted by method name", async () => {
  await using rx = startReceiver();
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "faults", [
    { method: "events.watch", fault: "backendError", times: 1 },
    { method: "channels.stop", fault: "serviceUnavailable", times: 1 },
  ]);
  const broken = await failure(watch(api, "faulted", rx.url));
  assert.equal(broken.status, 500);
  const channel = (await watch(api, "faulted", rx.url)).data;
  const requestBody = { id: "faulted", resourceId: channel.resourceId };
  assert.equal((await failure(api.channels.stop({ requestBody }))).status, 503);
  assert.equal((await api.channels.stop({ requestBody })).status, 204);
  const { counts } = await h.admin<{ counts: Record<string, number> }>("GET", "requests");
  assert.deepEqual([counts["events.watch"], counts["channels.stop"]], [2, 2]);
});

Deno.test("push: closing the emulator aborts a delivery the receiver is still holding", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const { promise: arrived, resolve: arrive } = Promise.withResolvers<void>();
  await using holder = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async () => {
    arrive();
    await released;
    return new Response(null, { status: 200 });
  });
  const h = startHarness(undefined, undefined, { push: { retryBaseDelayMs: 60_000 } });
  try {
    const api = await h.api(ALICE);
    await watch(api, "held-open", `http://127.0.0.1:${holder.addr.port}/hook`);
    await arrived;
    const started = performance.now();
    await h.emulator.close();
    // An aborted request is not retried: close must not sit out the 60 s backoff.
    assert(performance.now() - started < 5_000);
  } finally {
    release();
  }
});
