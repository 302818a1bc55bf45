import assert from "node:assert/strict";
import { ConfigError, decodeBase64Any, loadConfig, pushEnabled } from "./config.ts";

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

Deno.test("config: an empty environment starts in demo mode on the documented defaults", () => {
  const c = loadConfig({});
  assert.equal(c.demo, true);
  assert.equal(c.port, 8000);
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.publicUrl, "http://localhost:8000");
  assert.equal(c.kvPath, "./data/busysync.kv");
  assert.equal(c.google.apiUrl, "http://127.0.0.1:8025");
  assert.equal(c.syncIntervalMinutes, 30);
  assert.deepEqual(c.deleteGuard, { percent: 20, min: 10 });
  assert.deepEqual(c.googleAccountLimits, { createsPerDay: 2000, pauseHours: 6 });
  assert.deepEqual(
    loadConfig({ BUSYSYNC_GOOGLE_CREATES_PER_DAY: "500", BUSYSYNC_GOOGLE_QUOTA_PAUSE_HOURS: "12" })
      .googleAccountLimits,
    { createsPerDay: 500, pauseHours: 12 },
  );
  assert.equal(c.push, "auto");
  assert.equal(pushEnabled(c), false);
  assert.equal(c.trustProxy, false);
  assert.equal(loadConfig({ BUSYSYNC_TRUST_PROXY: "1" }).trustProxy, true);
  assert.equal(c.httpWorkers, 0);
});

Deno.test("config: Google credentials switch to Google's URLs and require an encryption key", () => {
  assert.throws(
    () => loadConfig({ GOOGLE_CLIENT_ID: "id", GOOGLE_CLIENT_SECRET: "s" }),
    (e: unknown) =>
      e instanceof ConfigError && e.variable === "BUSYSYNC_ENCRYPTION_KEY" &&
      /openssl rand -base64 32/.test(e.message),
  );
  const c = loadConfig({
    GOOGLE_CLIENT_ID: "id",
    GOOGLE_CLIENT_SECRET: "s",
    BUSYSYNC_ENCRYPTION_KEY: KEY,
    PUBLIC_URL: "https://sync.example.com/",
  });
  assert.equal(c.demo, false);
  assert.equal(c.google.apiUrl, "https://www.googleapis.com");
  assert.equal(c.google.issuer, "https://accounts.google.com");
  assert.equal(c.publicUrl, "https://sync.example.com");
  assert.equal(pushEnabled(c), true);
});

Deno.test("config: each invalid value names its variable in one line", () => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: "eighty" }, "PORT"],
    [{ PUBLIC_URL: "ftp://x" }, "PUBLIC_URL"],
    [{ BUSYSYNC_PUSH: "sometimes" }, "BUSYSYNC_PUSH"],
    [{ BUSYSYNC_TRUST_PROXY: "yes" }, "BUSYSYNC_TRUST_PROXY"],
    [{ BUSYSYNC_ENCRYPTION_KEY: "c2hvcnQ=" }, "BUSYSYNC_ENCRYPTION_KEY"],
    [{ BUSYSYNC_ALLOWED_EMAILS: "alice@example.com,not an email" }, "BUSYSYNC_ALLOWED_EMAILS"],
    // An owner is one person: a domain entry would make every address of it an owner.
    [{ BUSYSYNC_ADMIN_EMAILS: "owner@example.com,@example.com" }, "BUSYSYNC_ADMIN_EMAILS"],
    [{ BUSYSYNC_DELETE_GUARD_PERCENT: "120" }, "BUSYSYNC_DELETE_GUARD_PERCENT"],
    [{ GOOGLE_CLIENT_ID: "only-id" }, "GOOGLE_CLIENT_SECRET"],
    [{ BUSYSYNC_HTTP_WORKERS: "-1" }, "BUSYSYNC_HTTP_WORKERS"],
    // Each thread opens its own store; a :memory: one would be a different, empty store each.
    [{ BUSYSYNC_HTTP_WORKERS: "1", BUSYSYNC_KV: ":memory:" }, "BUSYSYNC_HTTP_WORKERS"],
    [{ BUSYSYNC_METRICS_TOKEN: "short" }, "BUSYSYNC_METRICS_TOKEN"],
    [{ BUSYSYNC_METRICS_ADDRESS: "9464" }, "BUSYSYNC_METRICS_ADDRESS"],
    [{ BUSYSYNC_METRICS_ADDRESS: "127.0.0.1:99999" }, "BUSYSYNC_METRICS_ADDRESS"],
    [{ BUSYSYNC_METRICS_ADDRESS: "http://127.0.0.1:9464" }, "BUSYSYNC_METRICS_ADDRESS"],
  ];
  for (const [env, variable] of cases) {
    assert.throws(() => loadConfig(env), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.variable, variable);
      assert.ok(!e.message.includes("\n"), e.message);
      return true;
    });
  }
});

Deno.test("config: key lists accept standard and URL-safe base64, empty values mean unset", () => {
  const urlSafe = KEY.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  const c = loadConfig({ BUSYSYNC_ENCRYPTION_KEY: `${KEY}, ${urlSafe}`, PORT: "" });
  assert.equal(c.encryptionKeys?.length, 2);
  assert.equal(c.port, 8000);
  assert.equal(decodeBase64Any(urlSafe)?.length, 32);
  assert.equal(decodeBase64Any("***"), undefined);
  const allowed = loadConfig({ BUSYSYNC_ALLOWED_EMAILS: "Alice@Example.com, @corp.example" });
  assert.deepEqual(allowed.allowedEmails, ["alice@example.com", "@corp.example"]);
  const owners = loadConfig({ BUSYSYNC_ADMIN_EMAILS: " Owner@Example.com,,ann@gmail.com " });
  assert.deepEqual(owners.adminEmails, ["owner@example.com", "ann@gmail.com"]);
  assert.deepEqual(loadConfig({}).adminEmails, []);
});

Deno.test("config: metrics are off by default; a token and a listener address can each turn them on", () => {
  assert.deepEqual(loadConfig({}).metrics, {});
  const token = "0123456789abcdef0123";
  assert.deepEqual(loadConfig({ BUSYSYNC_METRICS_TOKEN: token }).metrics, { token });
  assert.deepEqual(loadConfig({ BUSYSYNC_METRICS_ADDRESS: "127.0.0.1:9464" }).metrics, {
    address: { hostname: "127.0.0.1", port: 9464 },
  });
  assert.deepEqual(loadConfig({ BUSYSYNC_METRICS_ADDRESS: "[::1]:9464" }).metrics.address, {
    hostname: "::1",
    port: 9464,
  });
  assert.deepEqual(loadConfig({ BUSYSYNC_METRICS_ADDRESS: "0.0.0.0:0" }).metrics.address, {
    hostname: "0.0.0.0",
    port: 0,
  });
});

Deno.test("config: traces are off by default; OTEL_DENO=true starts only with Deno's own spans unsampled", () => {
  assert.equal(loadConfig({}).tracing, false);
  // Deno reads these for itself; without OTEL_DENO they change nothing.
  assert.equal(loadConfig({ OTEL_TRACES_SAMPLER: "always_on" }).tracing, false);
  const safe = { OTEL_TRACES_SAMPLER: "parentbased_always_off", OTEL_PROPAGATORS: "none" };
  assert.equal(loadConfig({ OTEL_DENO: "true", ...safe }).tracing, true);
  for (
    const [variable, env] of [
      ["OTEL_TRACES_SAMPLER", { OTEL_DENO: "true" }],
      ["OTEL_TRACES_SAMPLER", { OTEL_DENO: "true", ...safe, OTEL_TRACES_SAMPLER: "always_on" }],
      ["OTEL_PROPAGATORS", { OTEL_DENO: "true", ...safe, OTEL_PROPAGATORS: "tracecontext" }],
    ] as const
  ) {
    assert.throws(
      () => loadConfig(env),
      (e) => e instanceof ConfigError && e.variable === variable && /OAuth codes/.test(e.message),
      JSON.stringify(env),
    );
  }
});
