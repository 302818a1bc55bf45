/**
 * Security headers on every response. The routes come from the app itself (`app.routes`), so a
 * route added without a case here fails the test instead of going unchecked: every route is
 * requested once signed out and at least once as intended (signed in, with real ids, answering
 * its normal status), and the answers that leave the handlers some other way (404, validation,
 * CSRF refusal, 415, rate limit, static files, a Google outage) are covered too.
 */
import assert from "node:assert/strict";
import { loadManifest } from "../../lib/web/static_files.ts";
import { aRule, startApiWorld, syncNow } from "../api/support.ts";
import { BOB, HTTPS_URL, PUBLIC_URL, type TestClient } from "../support/accounts.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
const EVIL = "https://evil.example";

/**
 * What lib/http/security_headers.ts promises. Exact sources per directive: a widened one (an
 * added CDN, 'unsafe-inline') must fail here, not slip through as "still contains 'self'".
 */
function expectedCsp(issuerOrigin: string): Record<string, string[]> {
  return {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'", issuerOrigin],
    "frame-ancestors": ["'none'"],
  };
}

const FIXED_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
};

const HSTS = "max-age=31536000; includeSubDomains";

function assertSecurityHeaders(
  res: Response,
  what: string,
  expect: { https: boolean; issuerOrigin: string },
) {
  const csp = res.headers.get("content-security-policy");
  assert.ok(csp, `${what}: no Content-Security-Policy`);
  const directives = new Map(
    csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...sources] = d.split(/\s+/);
      return [name.toLowerCase(), sources] as const;
    }),
  );
  for (const [name, sources] of Object.entries(expectedCsp(expect.issuerOrigin))) {
    assert.deepEqual(directives.get(name), sources, `${what}: CSP ${name} in "${csp}"`);
  }
  assert.doesNotMatch(csp, /unsafe-|\*/, `${what}: CSP loosened: "${csp}"`);
  for (const [name, value] of Object.entries(FIXED_HEADERS)) {
    assert.equal(res.headers.get(name), value, `${what}: ${name}`);
  }
  assert.equal(
    res.headers.get("strict-transport-security"),
    expect.https ? HSTS : null,
    `${what}: HSTS ${expect.https ? "missing on https" : "sent over plain http"}`,
  );
  assert.equal(res.headers.get("x-powered-by"), null, `${what}: X-Powered-By`);
}

/** A Hono route path as a regular expression over request paths. */
function routeRegExp(path: string): RegExp {
  let source = "";
  let last = 0;
  for (const m of path.matchAll(/:(\w+)(?:\{([^}]*)\})?|\*/g)) {
    source += RegExp.escape(path.slice(last, m.index));
    source += m[0] === "*" ? ".*" : m[2] ? `(?:${m[2]})` : "[^/]+";
    last = m.index + m[0].length;
  }
  return new RegExp(`^${source}${RegExp.escape(path.slice(last))}$`);
}

/** Values for path parameters when a route is requested signed out. */
const SAMPLE_PARAMS: Record<string, string> = {
  id: UNKNOWN_ID,
  runId: UNKNOWN_ID,
  userId: UNKNOWN_ID,
  file: "swagger-ui.css",
};

function samplePath(route: string): string {
  return route.replace(/:(\w+)(?:\{[^}]*\})?/g, (_, name: string) => {
    const sample = SAMPLE_PARAMS[name];
    if (!sample) throw new Error(`no sample value for :${name} (in ${route}); add one`);
    return sample;
  }).replace(/\/\*$/, "/x");
}

type Init = Parameters<TestClient["request"]>[1];

/** One request: which route it exercises, what it must answer, and how to send it. */
interface Probe {
  name: string;
  /** `METHOD /path` as app.routes lists it; absent for requests no handler route answers. */
  route?: string;
  status: number;
  path: string;
  init?: Init;
  client?: TestClient;
}

for (const publicUrl of [PUBLIC_URL, HTTPS_URL]) {
  const https = publicUrl.startsWith("https:");
  Deno.test(`security headers: every route answers with them, signed in and out (${publicUrl})`, async (t) => {
    const w = await startApiWorld({ PUBLIC_URL: publicUrl });
    const { h, ann, cal } = w;
    const expect = { https, issuerOrigin: new URL(h.config.google.issuer).origin };
    try {
      const routes = [
        ...new Set(
          h.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
        ),
      ];
      // Middleware-only paths (ALL) that no handler route sits under answer requests by
      // themselves (the static files): they need a probe of their own.
      const handlerSamples = routes.map((r) => samplePath(r.split(" ")[1]));
      const standalone = [
        ...new Set(
          h.app.routes.filter((r) =>
            r.method === "ALL" && !handlerSamples.some((p) => routeRegExp(r.path).test(p))
          ).map((r) => `ALL ${r.path}`),
        ),
      ];
      assert.ok(routes.length >= 40, `only ${routes.length} routes found`);

      await t.step("signed out, every route", async () => {
        const stranger = h.client("192.0.2.9");
        for (const route of routes) {
          const [method, path] = route.split(" ");
          const res = await stranger.request(samplePath(path), {
            method,
            json: ["GET", "DELETE"].includes(method) ? undefined : {},
          });
          await res.body?.cancel();
          assert.ok(res.status < 500, `${route} signed out: ${res.status}`);
          assertSecurityHeaders(res, `${route} signed out (${res.status})`, expect);
        }
      });

      // Real ids, so each route reaches its handler's normal answer.
      const run = await syncNow(w);
      const { jobId } = await h.scheduler.request(w.annId, { reason: "manual" });
      await h.scheduler.wait(w.annId, jobId, 20_000);
      const rule = await (await ann.request("/api/rules", { method: "POST", json: aRule(cal) }))
        .json();
      const doomed = await (await ann.request("/api/rules", {
        method: "POST",
        json: aRule(cal, { name: "To delete", target: cal.team }),
      })).json();
      const members = (...refs: (typeof cal.main)[]) => refs.map((calendar) => ({ calendar }));
      const group = await (await ann.request("/api/groups", {
        method: "POST",
        json: { name: "Family and work", members: members(cal.family, cal.work) },
      })).json();
      const doomedGroup = await (await ann.request("/api/groups", {
        method: "POST",
        json: { name: "Group to delete", members: members(cal.family, cal.team), enabled: false },
      })).json();
      const exported = await (await ann.request("/api/user/export")).json();
      const bob = h.client("192.0.2.20");
      await bob.signIn(BOB);
      await bob.connect(BOB);
      const [bobConnection] = await bob.connections();
      // Bob signs in once more from another browser: that callback is the probe below.
      const phone = h.client("192.0.2.21");
      const login = await phone.request("/api/auth/login");
      const back = await phone.authorizeAtGoogle(login.headers.get("location")!, BOB);
      const manifest = await loadManifest(ROOT);

      const probe = (
        route: string,
        status: number,
        path: string,
        init?: Init,
        client?: TestClient,
      ): Probe => ({ name: route, route, status, path, init, client });

      const probes: Probe[] = [
        probe("GET /", 200, "/"),
        probe("GET /signin", 303, "/signin?next=/rules"),
        probe("GET /connections", 200, "/connections"),
        probe("GET /rules", 200, "/rules"),
        probe("GET /rules/new", 200, "/rules/new"),
        probe("GET /rules/:id", 200, `/rules/${rule.id}`),
        probe("GET /groups/new", 200, "/groups/new"),
        // The page's own answer for an id that names no group: the editor's page, as a 404.
        probe("GET /groups/:id", 404, "/groups/no-such-group"),
        probe("GET /history", 200, "/history"),
        probe("GET /history/:runId", 200, `/history/${run.id}`),
        probe("GET /healthz", 200, "/healthz"),
        probe("GET /readyz", 200, "/readyz"),
        probe("GET /api/openapi.json", 200, "/api/openapi.json"),
        probe("GET /api/docs", 200, "/api/docs"),
        probe(
          "GET /api/docs/:file{init\\.js|swagger-ui\\.css|swagger-ui-bundle\\.js}",
          200,
          "/api/docs/init.js",
        ),
        probe("GET /api/me", 200, "/api/me"),
        probe("GET /settings", 200, "/settings"),
        probe("GET /api/me/tokens", 200, "/api/me/tokens"),
        probe("POST /api/me/tokens", 201, "/api/me/tokens", {
          method: "POST",
          json: { name: "headers", expiresInDays: 30 },
        }),
        probe("DELETE /api/me/tokens/:id", 404, "/api/me/tokens/01ARZ3NDEKTSV4RRFFQ69G5FAV", {
          method: "DELETE",
        }),
        probe("PATCH /api/me/settings", 200, "/api/me/settings", {
          method: "PATCH",
          json: { timeZone: "Europe/Berlin" },
        }),
        probe("GET /api/user/connections", 200, "/api/user/connections"),
        probe("GET /api/user/calendars", 200, "/api/user/calendars"),
        probe("GET /api/user/export", 200, "/api/user/export"),
        probe("POST /api/user/import", 200, "/api/user/import", { method: "POST", json: exported }),
        probe("POST /api/user/calendars/connect", 200, "/api/user/calendars/connect", {
          method: "POST",
          json: {},
        }),
        // A refused connect: the 400 of a missing address, checked before any server is asked.
        probe("POST /api/user/connections/caldav", 400, "/api/user/connections/caldav", {
          method: "POST",
          json: { preset: "other", username: "a", password: "b" },
        }),
        // A refused feed: the 400 of a missing address, checked before anything is fetched.
        probe("POST /api/user/connections/ics", 400, "/api/user/connections/ics", {
          method: "POST",
          json: {},
        }),
        probe(
          "POST /api/user/connections/:id/reconnect",
          200,
          `/api/user/connections/${cal.work.connectionId}/reconnect`,
          { method: "POST", json: {} },
        ),
        probe("GET /api/status", 200, "/api/status"),
        probe("POST /api/sync", 202, "/api/sync", { method: "POST", json: {} }),
        probe("GET /api/sync/:runId", 200, `/api/sync/${jobId}`),
        probe("GET /api/history", 200, "/api/history"),
        probe("GET /api/history/:runId", 200, `/api/history/${run.id}`),
        probe("GET /api/rules", 200, "/api/rules"),
        probe("POST /api/rules", 201, "/api/rules", {
          method: "POST",
          // Team into main: "To delete" already mirrors main into the team.
          json: aRule(cal, { name: "From the team", source: cal.team, target: cal.main }),
        }),
        probe("POST /api/rules/validate", 200, "/api/rules/validate", {
          method: "POST",
          // Off: an enabled copy of the stored rule would be a duplicate.
          json: aRule(cal, { enabled: false }),
        }),
        probe("POST /api/rules/preview", 200, "/api/rules/preview", {
          method: "POST",
          json: aRule(cal),
        }),
        probe("GET /api/rules/:id", 200, `/api/rules/${rule.id}`),
        probe("PUT /api/rules/:id", 200, `/api/rules/${rule.id}`, {
          method: "PUT",
          json: aRule(cal, { name: "Renamed" }),
        }),
        probe("PATCH /api/rules/:id", 200, `/api/rules/${rule.id}`, {
          method: "PATCH",
          json: { name: "Patched" },
        }),
        probe("POST /api/rules/:id/preview", 200, `/api/rules/${rule.id}/preview`, {
          method: "POST",
          json: {},
        }),
        // Not held by the delete guard: the refusal is the representative answer.
        probe("POST /api/rules/:id/confirm", 409, `/api/rules/${rule.id}/confirm`, {
          method: "POST",
          json: {},
        }),
        probe("DELETE /api/rules/:id", 200, `/api/rules/${doomed.id}?keepMirrors=true`, {
          method: "DELETE",
        }),
        // Nothing was changed with ?undo=true: the refusal is the representative answer.
        probe("POST /api/rules/:id/undo", 404, `/api/rules/${rule.id}/undo`, { method: "POST" }),
        probe("GET /api/groups", 200, "/api/groups"),
        probe("POST /api/groups", 201, "/api/groups", {
          method: "POST",
          // Off, as every other pair of these calendars is mirrored or would close a circle.
          json: { name: "Another", members: members(cal.family, cal.team), enabled: false },
        }),
        probe("POST /api/groups/validate", 200, "/api/groups/validate", {
          method: "POST",
          json: { name: "Check", members: members(cal.family, cal.team), enabled: false },
        }),
        probe("POST /api/groups/preview", 200, "/api/groups/preview", {
          method: "POST",
          json: { name: "Try", members: members(cal.family, cal.team) },
        }),
        // Work into the team closes main → work → team → main ("From the team" above).
        probe("POST /api/groups/proposal", 200, "/api/groups/proposal", {
          method: "POST",
          json: aRule(cal, { name: "Work to team", source: cal.work, target: cal.team }),
        }),
        probe("GET /api/groups/:id", 200, `/api/groups/${group.id}`),
        probe("PUT /api/groups/:id", 200, `/api/groups/${group.id}`, {
          method: "PUT",
          json: { name: "Renamed group", members: members(cal.family, cal.work) },
        }),
        probe("PATCH /api/groups/:id", 200, `/api/groups/${group.id}`, {
          method: "PATCH",
          json: { name: "Patched group" },
        }),
        probe("POST /api/groups/:id/preview", 200, `/api/groups/${group.id}/preview`, {
          method: "POST",
          json: {},
        }),
        probe("POST /api/groups/:id/confirm", 409, `/api/groups/${group.id}/confirm`, {
          method: "POST",
          json: {},
        }),
        probe("DELETE /api/groups/:id", 200, `/api/groups/${doomedGroup.id}?keepMirrors=true`, {
          method: "DELETE",
        }),
        probe("POST /api/groups/:id/undo", 404, `/api/groups/${group.id}/undo`, {
          method: "POST",
        }),
        // An unknown channel is acknowledged and ignored (an error would make Google retry).
        probe("POST /api/webhooks/google", 200, "/api/webhooks/google", {
          method: "POST",
          headers: {
            "x-goog-channel-id": "unknown-channel",
            "x-goog-channel-token": "x",
            "x-goog-resource-state": "exists",
            "x-goog-resource-id": "r",
          },
        }, h.client("192.0.2.30")),
        probe(
          "GET /api/auth/login",
          302,
          "/api/auth/login?next=/rules",
          {},
          h.client("192.0.2.22"),
        ),
        probe("GET /api/auth/callback", 303, `${back.pathname}${back.search}`, {}, phone),
        probe("POST /api/auth/refresh", 200, "/api/auth/refresh", { method: "POST" }),
        probe(
          "DELETE /api/user/connections/:id",
          200,
          `/api/user/connections/${bobConnection.id}`,
          { method: "DELETE" },
          bob,
        ),
        // Ann is no owner: the owner's routes answer her as an unknown path (tests/api/admin_test.ts).
        probe("GET /admin", 404, "/admin"),
        probe("GET /api/admin/overview", 404, "/api/admin/overview"),
        probe("POST /api/admin/users/:userId/pause", 404, `/api/admin/users/${w.annId}/pause`, {
          method: "POST",
        }),
        probe("POST /api/admin/users/:userId/resume", 404, `/api/admin/users/${w.annId}/resume`, {
          method: "POST",
        }),
        probe("DELETE /api/admin/users/:userId", 404, `/api/admin/users/${w.annId}`, {
          method: "DELETE",
        }),
        probe("DELETE /api/me", 204, "/api/me", { method: "DELETE" }, bob),
        probe("POST /api/auth/logout", 204, "/api/auth/logout", { method: "POST" }, phone),
        {
          name: "a hashed island bundle",
          route: "ALL /static/*",
          status: 200,
          path: manifest.boot,
        },
        {
          name: "a plain static file",
          route: "ALL /static/*",
          status: 200,
          path: "/static/styles.css",
        },
        { name: "a missing static file", status: 404, path: "/static/nope.css" },
        { name: "an unknown path", status: 404, path: "/no-such-page" },
        { name: "an unknown rule id", status: 404, path: `/api/rules/${UNKNOWN_ID}` },
        { name: "a query that fails validation", status: 400, path: "/api/history?limit=0" },
        {
          name: "malformed JSON",
          status: 400,
          path: "/api/rules",
          init: { method: "POST", headers: { "content-type": "application/json" }, body: "{x" },
        },
        {
          name: "a form body on a JSON route",
          status: 415,
          path: "/api/rules",
          init: { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" },
        },
        {
          name: "a cross-site POST (CSRF refusal)",
          status: 403,
          path: "/api/rules",
          init: { method: "POST", json: aRule(cal), origin: EVIL },
        },
      ];

      await t.step("every route has a probe, and every probe names a real route", () => {
        const probed = new Set(probes.flatMap((p) => p.route ? [p.route] : []));
        assert.deepEqual(
          [...routes, ...standalone].filter((r) => !probed.has(r)),
          [],
          "routes without a probe",
        );
        assert.deepEqual(
          [...probed].filter((r) => !routes.includes(r) && !standalone.includes(r)),
          [],
          "probes of routes the app does not have",
        );
        for (const p of probes.filter((p) => p.route)) {
          const [method, path] = p.route!.split(" ");
          if (method !== "ALL") assert.equal((p.init?.method ?? "GET").toUpperCase(), method);
          const pathname = new URL(p.path, publicUrl).pathname;
          assert.match(pathname, routeRegExp(path), `${p.name}: ${p.path} is not that route`);
        }
      });

      await t.step("signed in, each route's normal answer and the error answers", async () => {
        for (const p of probes) {
          const res = await (p.client ?? ann).request(p.path, p.init);
          const body = await res.text();
          assert.equal(res.status, p.status, `${p.name}: ${body.slice(0, 300)}`);
          assertSecurityHeaders(res, `${p.name} (${res.status})`, expect);
        }
      });

      await t.step("a rate-limited request (429)", async () => {
        const flooder = h.client("198.51.100.7");
        let res: Response | undefined;
        for (let i = 0; i < 11; i++) {
          res = await flooder.request("/api/auth/login");
          await res.body?.cancel();
        }
        assert.equal(res!.status, 429);
        assertSecurityHeaders(res!, "429", expect);
      });

      await t.step("a Google outage during sign-in (502)", async () => {
        // Every token call fails: google-auth-library retries a code exchange by itself.
        await h.admin("faults", { method: "oauth.token", fault: "backendError" });
        const res = await h.client("192.0.2.40").signIn(BOB);
        await res.body?.cancel();
        await h.admin("faults", undefined, "DELETE");
        assert.equal(res.status, 502);
        assertSecurityHeaders(res, "502", expect);
      });
    } finally {
      await h.close();
    }
  });
}
