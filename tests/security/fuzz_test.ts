/**
 * Bad input, property-based (npm fast-check, seeded): every JSON route of the OpenAPI document
 * gets malformed, oversized, wrong-typed and hostile bodies, query strings, path ids and headers
 * from a signed-in user. Each answer must be below 500; each 4xx must be the JSON error shape and
 * leave the KV store as it was. Then a hostile event from "Google" (a `<script>` title, a 100 KB
 * description, an odd time zone, missing fields) is synced with privacy "title": the sync does
 * not fail and no page renders the markup unescaped.
 *
 * With BUSYSYNC_WRITE_RESULTS=1 the run's figures go to bench/results/fuzz.json (CI leaves the
 * tree alone).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ANN, ANN_WORK, startHarness } from "../support/accounts.ts";
import { addEvent, aRule, eventsIn, startApiWorld, syncNow } from "../api/support.ts";

const SEED = 20261124;
const RUNS_PER_ROUTE = 40;
const SCRIPT = `<script>alert("xss")</script>`;

/**
 * Routes left out of the JSON fuzz, and why: login/callback are browser redirects (their bad
 * input is the security suite's open-redirect and state tests), docs/openapi serve static files,
 * and logout takes no input but the session (any request to it signs the fuzzing user out).
 */
const NOT_FUZZED = new Set([
  "get /api/auth/login",
  "get /api/auth/callback",
  "post /api/auth/logout",
  "get /api/openapi.json",
  "get /api/docs",
  "get /api/docs/{file}",
]);

/**
 * KV keys a rejected request may still write: the rate limiter counts every request before any
 * validation runs (that is its job), so its fixed-window counters are left out of the snapshot.
 * Everything else, sessions included, must keep its value and versionstamp.
 */
const VOLATILE_PREFIXES = ["rate_limits"];

const HOSTILE_STRINGS = [
  SCRIPT,
  "__proto__",
  "constructor",
  "'; DROP TABLE rules; --",
  "../../etc/passwd",
  "%00\u0000null",
  "\ud800",
  "😀".repeat(64),
  "a".repeat(10_000),
  "${7*7}{{7*7}}",
  "https://evil.example/",
];

const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 40 }));

/** A JSON value of any shape, with hostile strings mixed in among the random ones. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom("__proto__", "id")), tie("value"), {
      maxKeys: 4,
    }),
  ),
})).value;

/** The raw request bodies: malformed text, random JSON, valid rules with one wrong field, huge. */
function bodies(validRule: Record<string, unknown>): fc.Arbitrary<string | undefined> {
  const fields = [...Object.keys(validRule), "privacy", "window", "filters", "bidirectional"];
  return fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    fc.constantFrom("{", "[", '{"name":', "nul", "{}}", '{"a":1,}', "\ufeff{}", "[".repeat(5_000)),
    hostileJson.map((v) => JSON.stringify(v) ?? "null"),
    fc.tuple(fc.constantFrom(...fields), hostileJson).map(([k, v]) =>
      JSON.stringify({ ...validRule, [k]: v })
    ),
    fc.constant(
      '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},"name":"x"}',
    ),
    fc.integer({ min: 100_000, max: 2_000_000 }).map((n) =>
      JSON.stringify({ ...validRule, name: "x".repeat(n) })
    ),
  );
}

const headerSets = fc.record({
  // Mostly JSON, so most cases get past the content-type gate to the route's own validation.
  "content-type": fc.oneof(
    { arbitrary: fc.constant("application/json"), weight: 6 },
    {
      arbitrary: fc.constantFrom(
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
      ),
      weight: 2,
    },
  ),
  "if-match": fc.oneof(
    fc.constantFrom('"0"', "*", 'W/"x"', ""),
    fc.string({ unit: "grapheme-ascii", maxLength: 20 }),
  ),
  accept: fc.constantFrom("*/*", "text/html", "application/xml", "\u00ff"),
  "x-forwarded-for": fc.constantFrom("127.0.0.1", "::1, 10.0.0.1", "not-an-ip", ""),
}, { requiredKeys: ["content-type"] });

const queries = fc.dictionary(hostileString, hostileString, { maxKeys: 3 });

type Snapshot = Map<string, string>;

async function snapshot(kv: Deno.Kv): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for await (const e of kv.list({ prefix: [] })) {
    if (VOLATILE_PREFIXES.includes(String(e.key[0]))) continue;
    out.set(
      JSON.stringify(e.key, bigints),
      `${e.versionstamp} ${JSON.stringify(e.value, bigints)}`,
    );
  }
  return out;
}

function bigints(_k: string, v: unknown) {
  return typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? [...v] : v;
}

function changedKeys(before: Snapshot, after: Snapshot): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k));
}

/** Headers of a set with empty values dropped (an empty header is the same as none). */
function headersOf(set: Record<string, string>): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(set)) if (v) headers.set(k, v);
  return headers;
}

Deno.test("bad input: every JSON route answers 4xx JSON and leaves KV alone", async (t) => {
  // No worker: an accepted POST /api/sync would otherwise start a sync that writes to KV
  // while a later request's before/after snapshots are taken.
  const h = await startHarness({}, { worker: false });
  try {
    const ann = h.client("192.0.2.1");
    await ann.signIn(ANN);
    await ann.connect(ANN);
    await ann.connect(ANN_WORK);
    const { items } = await (await ann.request("/api/user/calendars")).json();
    const ref = (id: string) => {
      const cal = items.find((c: { calendarId: string }) => c.calendarId === id);
      return { connectionId: cal.connectionId, calendarId: id };
    };
    const validRule = { name: "Fuzz", source: ref(ANN), target: ref(ANN_WORK) };
    const created = await ann.request("/api/rules", { method: "POST", json: validRule });
    assert.equal(created.status, 201);
    // Real ids as well as fuzzed ones, so bodies reach validation rather than stopping at 404.
    const realIds = [(await created.json()).id, validRule.source.connectionId];

    const doc = await (await ann.request("/api/openapi.json")).json();
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method, path })))
      .filter((r) => !NOT_FUZZED.has(`${r.method} ${r.path}`));
    for (const must of ["/api/status", "/api/sync", "/api/history", "/api/rules"]) {
      assert.ok(routes.some((r) => r.path === must), `${must} is in the OpenAPI document`);
    }

    let cases = 0;
    for (const route of routes) {
      // A DELETE with a real id succeeds whatever else is sent, and would take away the rule
      // or connection the other cases need: DELETE routes get fuzzed ids only.
      const pathIds = route.method === "delete"
        ? hostileString
        : fc.oneof(fc.constantFrom(...realIds), hostileString);
      await t.step(`${route.method.toUpperCase()} ${route.path}`, async () => {
        const property = fc.asyncProperty(
          pathIds,
          queries,
          headerSets,
          bodies(validRule),
          async (id, query, headerSet, body) => {
            // DELETE /api/me with a valid (or absent) removeMirrors deletes the fuzzing user:
            // only rejected values are sent there.
            if (route.path === "/api/me" && route.method === "delete") {
              query = { ...query, removeMirrors: query.removeMirrors || "maybe" };
              fc.pre(!["true", "false"].includes(query.removeMirrors));
            }
            const path = route.path.replace(/\{\w+\}/g, encodeURIComponent(id.toWellFormed()));
            const search = new URLSearchParams(query).toString();
            const method = route.method.toUpperCase();
            // Counters cleared so every case reaches validation instead of stopping at 429 (the
            // limiter itself is the security suite's subject).
            for await (const e of h.kv.list({ prefix: ["rate_limits"] })) await h.kv.delete(e.key);
            const before = await snapshot(h.kv);
            const res = await ann.request(`${path}${search ? `?${search}` : ""}`, {
              method,
              headers: headersOf(headerSet),
              body: method === "GET" ? undefined : body,
            });
            cases++;
            const text = await res.text();
            const what = `${method} ${path.slice(0, 200)}?${search.slice(0, 200)} body=${
              body?.slice(0, 200)
            } → ${res.status}`;
            assert.ok(res.status < 500, `${what}: ${text.slice(0, 300)}`);
            if (res.status < 400) return;
            const error = JSON.parse(text).error;
            assert.equal(typeof error?.code, "string", `${what}: ${text.slice(0, 300)}`);
            assert.equal(typeof error?.message, "string", `${what}: ${text.slice(0, 300)}`);
            const changed = changedKeys(before, await snapshot(h.kv));
            assert.deepEqual(changed, [], `${what} changed KV`);
          },
        );
        await fc.assert(property, { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true });
      });
    }

    if (Deno.env.get("BUSYSYNC_WRITE_RESULTS") === "1") {
      const summary = { routes: routes.length, cases, failures: 0, seed: SEED };
      const out = new URL("../../bench/results/fuzz.json", import.meta.url);
      await Deno.writeTextFile(out, JSON.stringify(summary, null, 2) + "\n");
    }
  } finally {
    await h.close();
  }
});

Deno.test("bad input: a hostile Google event syncs and renders escaped", async () => {
  const w = await startApiWorld();
  const { h, ann, cal } = w;
  try {
    const rule = await ann.request("/api/rules", {
      method: "POST",
      json: aRule(cal, { name: SCRIPT, privacy: "title" }),
    });
    assert.equal(rule.status, 201, await rule.clone().text());
    const calendar = `calendars/${encodeURIComponent(cal.main.calendarId)}/events`;
    const start = new Date(Date.now() + 48 * 3_600_000);
    start.setUTCMinutes(0, 0, 0);
    const end = new Date(start.getTime() + 3_600_000);
    await h.admin(calendar, {
      summary: SCRIPT,
      description: `<img src=x onerror=alert(1)>${"d".repeat(100_000)}`,
      start: { dateTime: start.toISOString(), timeZone: "Pacific/Chatham" },
      end: { dateTime: end.toISOString(), timeZone: "Etc/GMT-14" },
    });
    // No summary, no description, no time zone: Google omits what was never set.
    await h.admin(calendar, {
      start: { dateTime: start.toISOString() },
      end: { dateTime: end.toISOString() },
    });
    await addEvent(h, cal.main.calendarId, "Plain neighbour", 50);

    const run = await syncNow(w);
    assert.equal(run.outcome, "ok", JSON.stringify(run));
    const mirrored = await eventsIn(h, cal.work.calendarId);
    assert.ok(mirrored.some((e) => e.summary === SCRIPT), "the title is copied as text");
    assert.ok(mirrored.some((e) => e.summary === "Plain neighbour"), "neighbours still sync");

    for (const page of ["/", "/history", `/history/${run.id}`, "/rules"]) {
      const res = await ann.request(page);
      assert.equal(res.status, 200, page);
      const html = await res.text();
      assert.ok(!html.includes(SCRIPT), `${page} renders ${SCRIPT} unescaped`);
      assert.ok(!html.includes("<img src=x"), `${page} renders the description unescaped`);
    }
    const rules = await (await ann.request("/rules")).text();
    // Preact escapes `<` (enough to stop a tag opening) and leaves `>` as it is.
    assert.ok(rules.includes("&lt;script>alert"), "the rule name is shown, escaped");
  } finally {
    await h.close();
  }
});
