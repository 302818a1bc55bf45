/**
 * The API's description: /api/openapi.json is OpenAPI 3.1 and lists exactly the routes the app
 * registers under /api; every route it marks as signed-in answers 401 without a session (the
 * owner's answer 404, as for an unknown path); and
 * the interactive reference at /api/docs renders from files the app serves itself, under the
 * app's CSP, with no request leaving the origin.
 */
import assert from "node:assert/strict";
import { ANN, startHarness } from "../support/accounts.ts";
import { HAS_CHROMIUM, launchBrowser } from "../support/browser.ts";

type Operation = { security?: unknown[]; tags?: string[]; responses: Record<string, unknown> };

/**
 * The owner's routes need a session too, but answer everyone else, signed out included, as an
 * unknown path does (404): their existence is not told (tests/api/admin_test.ts).
 */
const hidden = (op: Operation) => op.tags?.includes("Owner") ?? false;
type Schema = { properties?: Record<string, { type?: string; description?: string }> };
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

/** Hono's `:name` and `:name{regex}` path parameters in OpenAPI's `{name}` form. */
const openApiPath = (path: string) => path.replace(/:(\w+)(\{[^/]*\})?/g, "{$1}");

Deno.test("openapi: the document is 3.1 and lists every /api route the app registers, no more", async (t) => {
  const h = await startHarness();
  try {
    const res = await h.client().request("/api/openapi.json");
    assert.equal(res.status, 200);
    const doc: Doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");

    const registered = new Set(
      h.app.routes
        .filter((r) => r.path.startsWith("/api") && r.method !== "ALL")
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)
      ),
    );

    await t.step("every registered route is documented", () => {
      assert.deepEqual([...registered].filter((r) => !documented.has(r)), []);
    });
    await t.step("every documented route exists", () => {
      assert.deepEqual([...documented].filter((r) => !registered.has(r)), []);
    });
    await t.step(
      "every signed-in route documents 401, and each error uses the Error schema",
      () => {
        for (const [path, ops] of Object.entries(doc.paths)) {
          for (const [method, op] of Object.entries(ops)) {
            const status = hidden(op) ? "404" : "401";
            if (op.security) assert.ok(op.responses[status], `${method} ${path} lacks ${status}`);
          }
        }
        const unprocessable = doc.paths["/api/rules"].post.responses["422"] as {
          content: { "application/json": { schema: { $ref: string } } };
        };
        assert.equal(
          unprocessable.content["application/json"].schema.$ref,
          "#/components/schemas/Error",
        );
      },
    );
    await t.step("rules document copyPrivateTitles: what it copies of a private event", () => {
      for (const name of ["RuleInput", "Rule", "RulePatch"]) {
        const option = doc.components.schemas[name].properties?.copyPrivateTitles;
        assert.equal(option?.type, "boolean", name);
        assert.match(option?.description ?? "", /private or confidential/, name);
      }
    });

    await t.step("rules document skipInvitedInTarget: on by default, what it skips", () => {
      // deno-lint-ignore no-explicit-any
      const filters = doc.components.schemas.RuleInput.properties?.filters as any;
      const option = filters?.properties?.skipInvitedInTarget;
      assert.equal(option?.type, "boolean");
      assert.equal(option?.default, true);
      assert.match(option?.description ?? "", /iCalUID/);
    });
    await t.step("POST /api/sync documents `full`: what a full reconcile repairs and costs", () => {
      const full = doc.components.schemas.SyncRequest.properties?.full;
      assert.equal(full?.type, "boolean");
      for (const words of [/whole window/, /missing, duplicate and stale/, /API calls/]) {
        assert.match(full?.description ?? "", words);
      }
    });
  } finally {
    await h.close();
  }
});

Deno.test("openapi: signed out, every signed-in route answers 401 in the error shape (the owner's 404)", async () => {
  const h = await startHarness();
  try {
    const doc: Doc = await (await h.client().request("/api/openapi.json")).json();
    const stranger = h.client("192.0.2.9");
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.security) continue;
        const url = path.replace(/\{\w+\}/g, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        const res = await stranger.request(url, {
          method: method.toUpperCase(),
          json: method === "get" || method === "delete" ? undefined : {},
        });
        assert.equal(res.status, hidden(op) ? 404 : 401, `${method} ${path}`);
        const code = hidden(op) ? "not_found" : "unauthenticated";
        assert.equal((await res.json()).error.code, code, `${method} ${path}`);
        checked++;
      }
    }
    assert.ok(checked >= 25, `only ${checked} signed-in routes`);
  } finally {
    await h.close();
  }
});

Deno.test("openapi: an API token is refused exactly the routes whose security leaves it out", async (t) => {
  const h = await startHarness({}, { worker: false });
  try {
    const doc: Doc & { components: { securitySchemes: Record<string, { scheme?: string }> } } =
      await (await h.client().request("/api/openapi.json")).json();
    await t.step("the document has an apiToken bearer scheme", () => {
      assert.equal(doc.components.securitySchemes.apiToken?.scheme, "bearer");
    });
    const ann = h.client();
    await ann.signIn(ANN, undefined, { firstTime: true });
    const created = await ann.request("/api/me/tokens", {
      method: "POST",
      json: { name: "openapi", expiresInDays: 30 },
    });
    const { token } = await created.json();
    const sessionOnly: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.security || hidden(op)) continue;
        const allowsToken = op.security.some((s) => Object.hasOwn(s as object, "apiToken"));
        const url = path.replace(/\{\w+\}/g, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        const res = await h.app.request(`${h.config.publicUrl}${url}`, {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: method === "get" || method === "delete" ? undefined : "{}",
        });
        const body = await res.text();
        const code = res.status === 403 ? JSON.parse(body).error.code : undefined;
        const refused = code === "token_not_allowed";
        assert.equal(refused, !allowsToken, `${method} ${path}: ${res.status} ${code}`);
        if (!allowsToken) sessionOnly.push(`${method.toUpperCase()} ${path}`);
      }
    }
    await t.step(
      "those are creating tokens, deleting the account and adding accounts",
      () => {
        const expected = [
          "DELETE /api/me",
          "POST /api/me/tokens",
          "POST /api/user/calendars/connect",
          "POST /api/user/connections/caldav",
          "POST /api/user/connections/ics",
          "POST /api/user/connections/{id}/reconnect",
        ];
        // The owner's routes are hidden from others (admin_test.ts refuses the owner's token).
        assert.deepEqual(sessionOnly.sort(), expected);
      },
    );
  } finally {
    await h.close();
  }
});

Deno.test("openapi: /api/docs is served by the app itself, under a same-origin CSP", async (t) => {
  const h = await startHarness({}, { serve: true });
  try {
    const client = h.client();
    const page = await client.request("/api/docs");
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.every((a) => a.startsWith("/")), `an asset off the origin: ${assets}`);
    assert.doesNotMatch(html, /<script>[^<]/, "no inline script");
    for (const asset of assets.filter((a) => a.startsWith("/api/docs/"))) {
      const res = await client.request(asset);
      assert.equal(res.status, 200, asset);
      await res.body?.cancel();
    }
    const missing = await client.request("/api/docs/../../deno.json");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    await t.step({
      name: "it renders every operation in Chromium with no CSP violation",
      ignore: !HAS_CHROMIUM,
      fn: async () => {
        const browser = await launchBrowser();
        try {
          const tab = await browser.newPage();
          const problems: string[] = [];
          tab.on("console", (m) => m.type() === "error" && problems.push(m.text()));
          tab.on("pageerror", (e) => problems.push(e.message));
          const offOrigin: string[] = [];
          tab.on("request", (r) => !r.url().startsWith(h.url!) && offOrigin.push(r.url()));
          await tab.goto(`${h.url}/api/docs`);
          await tab.waitForSelector(".opblock", { timeout: 15_000 });
          const doc: Doc = await (await client.request("/api/openapi.json")).json();
          const operations = Object.values(doc.paths).flatMap((ops) => Object.keys(ops)).length;
          assert.equal(await tab.locator(".opblock").count(), operations);
          assert.deepEqual(problems, []);
          assert.deepEqual(offOrigin, []);
        } finally {
          await browser.close();
        }
      },
    });
  } finally {
    await h.close();
  }
});
