/**
 * /metrics over real HTTP on a real server (demo mode, its emulator, a temp KV file) with an
 * HTTP thread beside the main one: a scrape on either thread, and on the listener of
 * BUSYSYNC_METRICS_ADDRESS, shows the whole process; every metric the README lists is there with
 * its labels, none of them names a person or a calendar, and the alert rules and the Grafana
 * dashboard use only metrics a scrape has.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { startDemoServer } from "./support/demo_server.ts";
import { HttpSession } from "./support/http_session.ts";
import { type Exposition, familyOf, parseExposition, total } from "./support/prometheus.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";
const TOKEN = "metrics-test-token-0123456789";

/** One scrape, and the thread that answered it (Server-Timing, lib/http/served_by.ts). */
async function scrape(url: string, client: Deno.HttpClient, token?: string) {
  const res = await fetch(`${url}/metrics`, {
    client,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const thread = res.headers.get("server-timing")?.match(/desc="([^"]+)"/)?.[1];
  return { thread, metrics: parseExposition(text) };
}

/**
 * A scrape answered by each thread: fresh connections until the kernel has handed one to each
 * (all on one thread twenty times in a row is about a 1 in 2^20 chance).
 */
async function scrapeEachThread(url: string, client: Deno.HttpClient) {
  const byThread = new Map<string, Exposition>();
  for (let i = 0; i < 40 && byThread.size < 2; i++) {
    const { thread, metrics } = await scrape(url, client, TOKEN);
    byThread.set(thread ?? "unnamed", metrics);
  }
  assert.deepEqual([...byThread.keys()].sort(), ["http-1", "main"]);
  return byThread;
}

/** The metrics table of the README's "Metrics and alerts": name, type and label names. */
async function readmeMetrics(): Promise<{ name: string; type: string; labels: string[] }[]> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("### Metrics and alerts");
  assert.ok(start >= 0, "the README has a Metrics and alerts section");
  const rest = readme.slice(start + "### Metrics and alerts".length);
  const section = rest.slice(0, rest.search(/^##+ /m));
  const rows = [...section.matchAll(/^\| `(busysync_\w+)` +\| (\w+) +\| ([^|]*)\|/gm)];
  return rows.map(([, name, type, labels]) => ({
    name,
    type,
    labels: [...labels.matchAll(/`(\w+)`/g)].map((m) => m[1]),
  }));
}

/** The metric names a PromQL expression reads, histogram series by their family's name. */
function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\bbusysync_[a-z_]+/g)].map((m) =>
    m[0].replace(/_(bucket|sum|count)$/, "")
  );
}

Deno.test("metrics: after syncs, a scrape on any thread shows the whole process, every metric the README lists with its labels, and a 429 moves the retry and budget-wait counters", async () => {
  const server = await startDemoServer({
    BUSYSYNC_HTTP_WORKERS: "1",
    BUSYSYNC_METRICS_TOKEN: TOKEN,
    BUSYSYNC_METRICS_ADDRESS: "127.0.0.1:0",
    EMULATOR_ADMIN: "1",
  });
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const emulator = server.config.google.apiUrl;
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${emulator}/__emulator/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    assert.ok(res.ok, JSON.stringify(json));
    return json;
  };
  try {
    const session = new HttpSession(server.url, client);
    const { ruleId } = await session.setUp([PERSONAL, WORK]);
    assert.equal((await session.json("/api/sync?wait=true", "POST", {})).run.outcome, "ok");
    const before = (await scrapeEachThread(server.url, client)).get("main")!;

    // The next insert is refused with 429 and Retry-After: 1, and then goes through.
    await admin("faults", {
      method: "events.insert",
      fault: "tooManyRequests",
      times: 1,
      retryAfterSeconds: 1,
    });
    const start = new Date(Date.now() + 26 * 3_600_000);
    start.setUTCMinutes(0, 0, 0);
    await admin(`calendars/${encodeURIComponent(PERSONAL)}/events`, {
      summary: "Physio",
      start: { dateTime: start.toISOString() },
      end: { dateTime: new Date(start.getTime() + 3_600_000).toISOString() },
    });
    const second = await session.json("/api/sync?wait=true", "POST", {});
    assert.equal(second.run.outcome, "ok");
    assert.ok(second.run.rules.some((r: { created: number }) => r.created === 1));

    // Push notifications for no channel of ours, spread over both threads by the kernel: each
    // thread counts only those it received, so a scrape that shows them all gathered the other.
    const servedBy = new Set<string>();
    let sent = 0;
    while (sent < 40 && (servedBy.size < 2 || sent < 4)) {
      const res = await fetch(`${server.url}/api/webhooks/google`, {
        method: "POST",
        client,
        headers: {
          "x-goog-channel-id": `no-such-channel-${sent}`,
          "x-goog-resource-state": "exists",
          "x-goog-resource-id": "some-resource",
        },
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      servedBy.add(res.headers.get("server-timing")?.match(/desc="([^"]+)"/)?.[1] ?? "");
      sent++;
    }
    assert.equal(servedBy.size, 2, "both threads received notifications");

    const byThread = await scrapeEachThread(server.url, client);
    assert.ok(server.metricsUrl, "the metrics listener is up");
    const listener = await scrape(server.metricsUrl, client);
    const scrapes = [...byThread.values(), listener.metrics];
    for (const metrics of scrapes) {
      // Runs happen on the main thread, notifications on both: each scrape has them all.
      assert.ok(total(metrics, "busysync_sync_runs_total", { outcome: "ok" }) >= 2);
      assert.ok(total(metrics, "busysync_sync_writes_total", { kind: "created" }) >= 1);
      assert.ok(
        total(metrics, "busysync_push_notifications_total", { verdict: "ignored" }) >= sent,
      );
      assert.ok(
        total(metrics, "busysync_calendar_requests_total", {
          service: "google",
          method: "events.insert",
          status: "429",
        }) >= 1,
      );
      assert.equal(total(metrics, "busysync_metrics_threads_missing"), 0);
    }

    const after = byThread.get("main")!;
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);
    assert.ok(moved("busysync_calendar_retries_total", { service: "google", status: "429" }) >= 1);
    assert.ok(moved("busysync_calendar_budget_waits_total", { service: "google" }) >= 1);
    assert.ok(moved("busysync_calendar_budget_wait_seconds_total", { service: "google" }) > 0);

    await t_readmeListsWhatIsScraped(after);
    await t_noLabelNamesAPersonOrACalendar(session, scrapes, ruleId);
    await t_alertsAndDashboardUseScrapedMetrics(after);
  } finally {
    client.close();
    await server.stop();
  }
});

/** Every metric the README lists is in the scrape with its type and labels, and only those. */
async function t_readmeListsWhatIsScraped(metrics: Exposition) {
  const listed = await readmeMetrics();
  assert.ok(listed.length >= 15, `the README lists ${listed.length} metrics`);
  for (const { name, type, labels } of listed) {
    assert.equal(metrics.types.get(name), type, `${name} is a ${type}`);
    const samples = metrics.samples.filter((s) => familyOf(metrics, s.name) === name);
    assert.ok(samples.length > 0, `${name} has samples`);
    for (const label of labels) {
      assert.ok(samples.some((s) => label in s.labels), `${name} has the label ${label}`);
    }
  }
  const families = new Set(metrics.samples.map((s) => familyOf(metrics, s.name)));
  assert.deepEqual(
    [...families].filter((f) => f.startsWith("busysync_")).sort(),
    listed.map((m) => m.name).sort(),
    "the README lists every busysync metric a scrape has",
  );
}

/** No label value is an e-mail address, a calendar, connection, user or rule id. */
async function t_noLabelNamesAPersonOrACalendar(
  session: HttpSession,
  scrapes: Exposition[],
  ruleId: string,
) {
  const me = await session.json("/api/me");
  const { items } = await session.json("/api/user/calendars");
  const secret = new Set<string>([me.id, ruleId]);
  for (const c of items as { connectionId: string; calendarId: string }[]) {
    secret.add(c.connectionId);
    secret.add(c.calendarId);
  }
  assert.ok(secret.size >= 4);
  for (const metrics of scrapes) {
    for (const { name, labels } of metrics.samples) {
      for (const value of Object.values(labels)) {
        assert.doesNotMatch(value, /@/, `${name} carries ${value}`);
        assert.ok(!secret.has(value), `${name} carries ${value}`);
      }
    }
  }
}

/** The alert rules and the dashboard read only metrics that a real scrape has. */
async function t_alertsAndDashboardUseScrapedMetrics(metrics: Exposition) {
  const families = new Set(metrics.samples.map((s) => familyOf(metrics, s.name)));
  const rules = parseYaml(
    await Deno.readTextFile(`${ROOT}infrastructure/prometheus/busysync_alerts.yml`),
  ) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const alertExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
  const dashboard = JSON.parse(
    await Deno.readTextFile(`${ROOT}infrastructure/grafana/busysync_dashboard.json`),
  ) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  assert.ok(alertExprs.length >= 5 && panelExprs.length >= 8);
  for (const expr of [...alertExprs, ...panelExprs]) {
    const names = metricNamesIn(expr);
    // Prometheus' own `up` is the one other series an alert may read (BusysyncDown).
    assert.ok(names.length > 0 || /^up\{/.test(expr), `${expr} reads a busysync metric`);
    for (const name of names) assert.ok(families.has(name), `${name} (in ${expr}) is scraped`);
  }
}

Deno.test("metrics: with only BUSYSYNC_METRICS_ADDRESS, the app's port has no /metrics and the listener serves nothing else", async () => {
  const server = await startDemoServer({ BUSYSYNC_METRICS_ADDRESS: "127.0.0.1:0" });
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const app = await fetch(`${server.url}/metrics`, { client });
    await app.body?.cancel();
    assert.equal(app.status, 404);
    const { metrics } = await scrape(server.metricsUrl!, client);
    assert.equal(total(metrics, "busysync_sync_runs_total"), 0);
    for (const path of ["/", "/healthz", "/api/me", "/metrics/x"]) {
      const res = await fetch(`${server.metricsUrl}${path}`, { client });
      assert.equal(res.status, 404, path);
      assert.equal((await res.json()).error.code, "not_found");
    }
  } finally {
    client.close();
    await server.stop();
  }
});
