import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { createPageRenderer } from "../components/render_page.tsx";
import { loadSecrets } from "../lib/auth/secrets.ts";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { createMetrics } from "../lib/metrics/instruments.ts";
import { createStoreGauges } from "../lib/metrics/store_gauges.ts";
import { createMetricsScraper } from "../lib/metrics/threads.ts";
import { createScheduler } from "../lib/scheduler/scheduler.ts";
import { createServices } from "../lib/services.ts";
import { loadManifest } from "../lib/web/static_files.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function makeApp(env: Record<string, string> = {}) {
  const kv = await Deno.openKv(":memory:");
  const config = loadConfig(env);
  const secrets = await loadSecrets(kv, config);
  const log = createLogger("error", () => {});
  const services = createServices({ config, kv, log, secrets, now: () => new Date() });
  // Never started: these tests run no sync.
  const scheduler = createScheduler({ kv, config, log, services });
  const app = createApp({
    config,
    kv,
    secrets,
    log,
    services,
    staticDir: `${ROOT}static`,
    syncRequests: scheduler,
    push: scheduler.push,
    render: createPageRenderer({ demo: config.demo, manifest: await loadManifest(ROOT) }),
    metrics: createMetricsScraper({
      own: createMetrics().registry,
      store: createStoreGauges({ kv, now: () => new Date() }),
      peers: 0,
      channel: "unused without peers",
      log,
    }),
  });
  return { app, kv };
}

Deno.test("health: /healthz answers ok and /readyz reports the KV store", async () => {
  const { app, kv } = await makeApp();
  try {
    assert.deepEqual(await (await app.request("/healthz")).json(), { status: "ok" });
    const ready = await app.request("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ok", kv: true });
    kv.close();
    const down = await app.request("/readyz");
    assert.equal(down.status, 503);
  } finally {
    try {
      kv.close();
    } catch { /* closed above */ }
  }
});

Deno.test("pages: the home page ships only its own island bundle and a strict CSP", async () => {
  const { app, kv } = await makeApp();
  try {
    const res = await app.request("/");
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /data-island="LiveStatus"/);
    assert.match(html, /id="island-manifest"/);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!/https?:\/\/(?!localhost)/.test(html.replace(/http:\/\/localhost:\d+/g, "")));
  } finally {
    kv.close();
  }
});

Deno.test("static: hashed bundles are immutable for a year, traversal is refused", async () => {
  const { app, kv } = await makeApp();
  try {
    const manifest = await loadManifest(ROOT);
    const res = await app.request(manifest.boot);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(res.headers.get("content-type") ?? "", /javascript/);
    assert.equal((await app.request("/static/../deno.json")).status, 404);
    assert.equal((await app.request("/static/..%2fdeno.json")).status, 404);
    assert.equal((await app.request("/static/build%2f..%2f..%2fdeno.json")).status, 404);
    // Not percent-decodable: no file can have that name.
    assert.equal((await app.request("/static/%zz")).status, 404);
    assert.equal((await app.request("/static/build/%E0%A4%A")).status, 404);
  } finally {
    kv.close();
  }
});

Deno.test("errors: a mistyped API address answers JSON, a mistyped page address an HTML page", async () => {
  const { app, kv } = await makeApp();
  try {
    const api = await app.request("/api/nope");
    assert.equal(api.status, 404);
    assert.deepEqual(await api.json(), { error: { code: "not_found", message: "No such route." } });
    const page = await app.request("/rulez");
    assert.equal(page.status, 404);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const html = await page.text();
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<h1 id="notice-title">No such page<\/h1>/);
    assert.match(html, /href="\/"/, "a way back");
    // In the site's layout, with its stylesheet and strict CSP.
    assert.match(html, /<link[^>]+stylesheet/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  } finally {
    kv.close();
  }
});

Deno.test("errors: a refused page request answers an HTML page with the reason", async () => {
  const { app, kv } = await makeApp();
  try {
    // A cross-site form post to a page address: the CSRF guard refuses it before any route.
    const res = await app.request("/rules", {
      method: "POST",
      headers: {
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "name=x",
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const html = await res.text();
    assert.match(html, /<h1 id="notice-title">Not allowed<\/h1>/);
    assert.match(html, /did not come from a busysync page/);
  } finally {
    kv.close();
  }
});

Deno.test("metrics: /metrics is not there without a token, and with one it wants that token as Bearer", async (t) => {
  await t.step("no BUSYSYNC_METRICS_TOKEN: 404", async () => {
    const { app, kv } = await makeApp();
    try {
      const res = await app.request("/metrics");
      assert.equal(res.status, 404);
      await res.body?.cancel();
    } finally {
      kv.close();
    }
  });
  await t.step(
    "a token: a missing or wrong Bearer is 401 in JSON, the right one scrapes",
    async () => {
      const token = "a-metrics-token-of-some-length";
      const { app, kv } = await makeApp({ BUSYSYNC_METRICS_TOKEN: token });
      try {
        for (const authorization of [undefined, "Bearer wrong-token-of-some-length", token]) {
          const res = await app.request("/metrics", {
            headers: authorization ? { authorization } : {},
          });
          assert.equal(res.status, 401, String(authorization));
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
          assert.equal((await res.json()).error.code, "unauthorized");
        }
        const res = await app.request("/metrics", {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
        assert.match(
          await res.text(),
          /^busysync_sync_runs_total\{trigger="manual",outcome="ok"\} 0$/m,
        );
      } finally {
        kv.close();
      }
    },
  );
});
