import assert from "node:assert/strict";
import { createLogger } from "./log.ts";
import { logIdsFromSecret } from "./log_ids.ts";

const SECRET = new TextEncoder().encode("an instance's session secret, 32+");

function capture(secret: Uint8Array = SECRET) {
  const lines: string[] = [];
  const ids = logIdsFromSecret(secret);
  return { log: createLogger("debug", (line) => lines.push(line), { ids }), lines };
}

Deno.test("log: an error anywhere in the fields keeps only its name, message, stack and cause", () => {
  const { log, lines } = capture();
  // Shaped like a Google client error: its request (with the bearer token) rides on the error.
  const google = Object.assign(new Error("Request failed with status code 500"), {
    config: { headers: { Authorization: "Bearer ya29.secret-access-token" } },
    response: { data: { access_token: "ya29.other" } },
  });
  const outer = new Error("sync failed", { cause: google });
  log.error("run failed", { err: outer, context: { attempt: 2, last: google } });
  const text = lines.join("\n");
  assert.ok(!text.includes("ya29"), text);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.err.message, "sync failed");
  assert.equal(entry.err.cause.message, "Request failed with status code 500");
  assert.equal(entry.context.attempt, 2);
  assert.equal(entry.context.last.name, "Error");
});

Deno.test("log: fields named like secrets are redacted at any depth", () => {
  const { log, lines } = capture();
  log.info("oauth", {
    refresh_token: "1//refresh",
    nested: { headers: { authorization: "Bearer abc", cookie: "busysync_rt=xyz" } },
    clientSecret: "s3cret",
    items: [{ accessToken: "at" }],
    tokenHash: "kept: a digest, not a token",
  });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.refresh_token, "[redacted]");
  assert.equal(entry.nested.headers.authorization, "[redacted]");
  assert.equal(entry.nested.headers.cookie, "[redacted]");
  assert.equal(entry.clientSecret, "[redacted]");
  assert.equal(entry.items[0].accessToken, "[redacted]");
  assert.equal(entry.tokenHash, "kept: a digest, not a token");
});

Deno.test("log: a cycle or a deep structure cannot break a log line", () => {
  const { log, lines } = capture();
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 50; i++) deep = (deep.next = {}) as Record<string, unknown>;
  log.warn("odd", { loop, root });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.loop.self, "[cycle]");
  assert.ok(JSON.stringify(entry.root).includes("[too deep]"));
});

Deno.test("log: user, connection and calendar ids come out as keyed hashes, one per value", async (t) => {
  const { log, lines } = capture();
  const userId = "01J9Z3V0000000000000000000";
  log.info("push: watch refused", {
    userId,
    connectionId: "01J9Z3V1111111111111111111",
    calendarId: "ann@example.com",
    source: { connectionId: "01J9Z3V1111111111111111111", calendarId: "c_family123" },
    ruleId: "01J9Z3V2222222222222222222",
  });
  log.warn("sync: rule failed", { userId, calendar: "Ann@Example.com" });
  const [first, second] = lines.map((line) => JSON.parse(line));
  await t.step("each named field is its kind and 12 hex digits", () => {
    assert.match(first.userId, /^user:[0-9a-f]{12}$/);
    assert.match(first.connectionId, /^conn:[0-9a-f]{12}$/);
    assert.match(first.calendarId, /^cal:[0-9a-f]{12}$/);
    assert.match(first.source.calendarId, /^cal:[0-9a-f]{12}$/);
  });
  await t.step("one value is one token on every line and at any depth", () => {
    assert.equal(second.userId, first.userId);
    assert.equal(first.source.connectionId, first.connectionId);
    // An address is compared case-blind.
    assert.equal(second.calendar, first.calendarId);
  });
  await t.step("ids that name no one are kept", () => {
    assert.equal(first.ruleId, "01J9Z3V2222222222222222222");
  });
  await t.step("no value is in the clear", () => {
    const text = lines.join("\n");
    for (const value of [userId, "01J9Z3V1111111111111111111", "ann@", "c_family123"]) {
      assert.ok(!text.toLowerCase().includes(value.toLowerCase()), `${value} in ${text}`);
    }
  });
});

Deno.test("log: an e-mail address anywhere in a line is hashed, its message and errors included", () => {
  const { log, lines } = capture();
  // Shaped like a Google client error about a calendar: the address sits in its URL, encoded.
  const err = new Error(
    "Not Found: GET https://www.googleapis.com/calendar/v3/calendars/bob%40example.com/events",
  );
  log.warn("calendar list for bob@example.com failed", {
    err,
    note: "mailto:BOB@example.com, or <bob.work+cal@sub.example.co.uk>.",
    byCalendar: { "bob@example.com": 2 },
    encoded: "calendars%2Fbob%40example.com%2Fevents",
  });
  const text = lines[0];
  assert.ok(!/bob/i.test(text), text);
  const entry = JSON.parse(text);
  const token = entry.msg.match(/email:[0-9a-f]{12}/)[0];
  assert.equal(entry.msg, `calendar list for ${token} failed`);
  assert.ok(entry.err.message.endsWith(`/calendars/${token}/events`), entry.err.message);
  assert.ok(entry.err.stack.includes(token));
  assert.match(entry.note, new RegExp(`^mailto:${token}, or <email:[0-9a-f]{12}>\\.$`));
  assert.deepEqual(Object.keys(entry.byCalendar), [token]);
  assert.equal(entry.encoded, `calendars%2F${token}%2Fevents`);
});

Deno.test("log: an address hashes to the same hex as a calendar id and as text", () => {
  const { log, lines } = capture();
  log.info("about ann@example.com", { calendarId: "ann@example.com" });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.msg.replace("about email:", ""), entry.calendarId.replace("cal:", ""));
});

Deno.test("log: hashes hold across restarts of an instance and differ between instances", () => {
  const values = { userId: "01J9Z3V0000000000000000000", calendarId: "ann@example.com" };
  const hashesOf = (secret: Uint8Array) => {
    const { log, lines } = capture(secret);
    log.info("x", values);
    const { userId, calendarId } = JSON.parse(lines[0]);
    return { userId, calendarId };
  };
  const restarted = new TextEncoder().encode("an instance's session secret, 32+");
  assert.deepEqual(hashesOf(SECRET), hashesOf(restarted));
  const other = hashesOf(new TextEncoder().encode("another instance's secret, 32+..."));
  assert.notEqual(other.userId, hashesOf(SECRET).userId);
  assert.notEqual(other.calendarId, hashesOf(SECRET).calendarId);
});

Deno.test("log: a logger given no instance key still names no one", () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  log.info("signed in ann@example.com", { userId: "01J9Z3V0000000000000000000" });
  assert.ok(!lines[0].includes("ann@") && !lines[0].includes("01J9Z3V0"), lines[0]);
});

Deno.test("log: within a scope every line carries its fields, across awaits, nested scopes adding theirs", async () => {
  const { log, lines } = capture();
  await log.within({ jobId: "j1" }, async () => {
    log.info("claimed");
    await log.within({ runId: "r1" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      log.info("in the run", { ruleId: "x" });
    });
    log.info("after the run");
  });
  log.info("outside");
  const [claimed, inRun, after, outside] = lines.map((line) => JSON.parse(line));
  assert.equal(claimed.jobId, "j1");
  assert.equal(claimed.runId, undefined);
  assert.deepEqual([inRun.jobId, inRun.runId, inRun.ruleId], ["j1", "r1", "x"]);
  assert.deepEqual([after.jobId, after.runId], ["j1", undefined]);
  assert.deepEqual([outside.jobId, outside.runId], [undefined, undefined]);
});
