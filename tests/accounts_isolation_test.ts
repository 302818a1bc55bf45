/**
 * Two signed-in users, and every account route: neither can read, change or delete the other's
 * connections or calendars, and another user's id answers exactly like an id that never
 * existed (404), so ids do not leak. Later issues add their routes here.
 */
import assert from "node:assert/strict";
import { keys } from "../lib/db/keys.ts";
import { ANN, ANN_WORK, BOB, startHarness } from "./support/accounts.ts";

const NEVER_EXISTED = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

Deno.test("isolation: no account route lets one user see or touch another user's connections or calendars", async (t) => {
  const h = await startHarness();
  try {
    const ann = h.client("192.0.2.1");
    await ann.signIn(ANN);
    await ann.connect(ANN);
    await ann.connect(ANN_WORK);
    const annConnections = await ann.connections();
    const annIds = annConnections.map((c) => c.id);
    const annUserId = (await (await ann.request("/api/me")).json()).id;

    const bob = h.client("192.0.2.2");
    await bob.signIn(BOB);
    await bob.connect(BOB);
    const [bobConnection] = await bob.connections();

    const notFoundBody = async (res: Response) => {
      assert.equal(res.status, 404);
      return await res.json();
    };

    await t.step(
      "DELETE /api/user/connections/:id: 404 like an unknown id, nothing revoked",
      async () => {
        const unknown = await notFoundBody(
          await bob.request(`/api/user/connections/${NEVER_EXISTED}`, { method: "DELETE" }),
        );
        for (const id of annIds) {
          const res = await bob.request(`/api/user/connections/${id}?removeMirrors=true`, {
            method: "DELETE",
          });
          assert.deepEqual(await notFoundBody(res), unknown);
        }
      },
    );

    await t.step("POST /api/user/connections/:id/reconnect: 404", async () => {
      for (const id of [...annIds, NEVER_EXISTED]) {
        const res = await bob.request(`/api/user/connections/${id}/reconnect`, {
          method: "POST",
          json: {},
        });
        assert.equal(res.status, 404);
      }
    });

    await t.step("GET /api/user/connections lists only one's own", async () => {
      assert.deepEqual((await bob.connections()).map((c) => c.id), [bobConnection.id]);
      assert.deepEqual((await ann.connections()).map((c) => c.id), annIds);
    });

    await t.step(
      "GET /api/user/calendars (cached and refreshed) lists only one's own",
      async () => {
        for (const query of ["", "?refresh=true"]) {
          const { items } = await (await bob.request(`/api/user/calendars${query}`)).json();
          assert.deepEqual(items.map((c: { calendarId: string }) => c.calendarId), [BOB]);
        }
      },
    );

    await t.step("GET /api/user/export and the connections page show only one's own", async () => {
      const doc = await (await bob.request("/api/user/export")).json();
      assert.deepEqual(doc.connections.map((c: { email: string }) => c.email), [BOB]);
      const page = await (await bob.request("/connections")).text();
      assert.doesNotMatch(page, /ann@/);
    });

    await t.step("POST /api/user/import cannot reach another user's connections", async () => {
      const annExport = await (await ann.request("/api/user/export")).json();
      const res = await bob.request("/api/user/import", { method: "POST", json: annExport });
      const body = await res.json();
      assert.deepEqual(body.imported.connections, { matched: [], missing: [ANN, ANN_WORK] });
      assert.equal((await bob.connections()).length, 1);
    });

    await t.step("PATCH /api/me/settings and DELETE /api/me act on oneself only", async () => {
      await bob.request("/api/me/settings", { method: "PATCH", json: { timeZone: "UTC" } });
      assert.deepEqual((await (await ann.request("/api/me")).json()).settings, {});
    });

    await t.step("a connect flow started by one user cannot be completed by another", async () => {
      const start = await ann.request("/api/user/calendars/connect", { method: "POST", json: {} });
      const back = await ann.authorizeAtGoogle((await start.json()).url, BOB);
      // Even with Ann's binding cookie copied over, Bob's session is not the one that started it.
      for (const [name, value] of ann.cookies) {
        if (name.includes("oauth")) bob.cookies.set(name, value);
      }
      const res = await bob.request(`${back.pathname}${back.search}`);
      assert.equal(res.status, 403);
      assert.match(await res.text(), /signed in as someone else/);
      assert.equal((await ann.connections()).length, 2);
      assert.equal((await bob.connections()).length, 1);
    });

    await t.step("signed out, every account route answers 401", async () => {
      const stranger = h.client("192.0.2.3");
      const routes: [string, string][] = [
        ["GET", "/api/me"],
        ["PATCH", "/api/me/settings"],
        ["DELETE", "/api/me"],
        ["GET", "/api/user/connections"],
        ["POST", "/api/user/calendars/connect"],
        ["POST", `/api/user/connections/${annIds[0]}/reconnect`],
        ["DELETE", `/api/user/connections/${annIds[0]}`],
        ["GET", "/api/user/calendars"],
        ["GET", "/api/user/export"],
        ["POST", "/api/user/import"],
      ];
      for (const [method, path] of routes) {
        const res = await stranger.request(path, {
          method,
          json: method === "GET" ? undefined : {},
        });
        assert.equal(res.status, 401, `${method} ${path}`);
      }
      // Every page sends a stranger to sign in, and back to the same address afterwards.
      const pages = [
        "/connections",
        "/rules",
        "/rules/new",
        "/rules/r1",
        "/history?outcome=failed",
      ];
      for (const path of [...pages, "/history/01RUN"]) {
        const page = await stranger.request(path);
        await page.body?.cancel();
        assert.equal(page.status, 303, path);
        assert.equal(
          page.headers.get("location"),
          `/signin?${new URLSearchParams({ next: path })}`,
          path,
        );
      }
    });

    await t.step("after all that, Ann's connections and grants are intact", async () => {
      const after = await ann.connections();
      assert.deepEqual(after, annConnections);
      for (const id of annIds) {
        assert.ok(await h.tokenSource().getAccessToken({ userId: annUserId, connectionId: id }));
        assert.ok((await h.kv.get(keys.connection(annUserId, id))).value);
      }
    });
  } finally {
    await h.close();
  }
});

Deno.test("isolation: one user's rules, runs and syncs answer another user exactly like ids that never existed", async (t) => {
  const h = await startHarness();
  try {
    const ann = h.client("192.0.2.1");
    await ann.signIn(ANN);
    await ann.connect(ANN);
    await ann.connect(ANN_WORK);
    const { items: calendars } = await (await ann.request("/api/user/calendars")).json();
    const ref = (id: string) => {
      const cal = calendars.find((c: { calendarId: string }) => c.calendarId === id);
      return { connectionId: cal.connectionId, calendarId: id };
    };
    const annRule = { name: "Ann's", source: ref(ANN), target: ref(ANN_WORK) };
    const created = await ann.request("/api/rules", { method: "POST", json: annRule });
    const rule = await created.json();
    const etag = created.headers.get("etag");
    const synced = await (await ann.request("/api/sync?wait=true", { method: "POST", json: {} }))
      .json();
    const jobId: string = synced.runId;
    const runId: string = synced.run.id;

    const bob = h.client("192.0.2.2");
    await bob.signIn(BOB);
    await bob.connect(BOB);

    const unknownBody = async (method: string, path: string, json?: unknown) => {
      const res = await bob.request(path, { method, json });
      assert.equal(res.status, 404, `${method} ${path}`);
      return await res.json();
    };

    await t.step(
      "a rule id: GET, PUT, PATCH, DELETE, preview, confirm all answer 404",
      async () => {
        const cases: [string, string, unknown][] = [
          ["GET", "", undefined],
          ["PUT", "", annRule],
          ["PATCH", "", { enabled: false }],
          ["DELETE", "", undefined],
          ["POST", "/preview", {}],
          ["POST", "/confirm", {}],
        ];
        for (const [method, suffix, body] of cases) {
          const theirs = await unknownBody(method, `/api/rules/${rule.id}${suffix}`, body);
          const never = await unknownBody(method, `/api/rules/${NEVER_EXISTED}${suffix}`, body);
          assert.deepEqual(theirs, never, `${method} ${suffix}`);
        }
      },
    );

    await t.step("a rule id in a body (validate, preview, sync) answers 404 too", async () => {
      const draft = { ...annRule, source: ref(ANN), id: rule.id };
      await unknownBody("POST", "/api/rules/validate", draft);
      await unknownBody("POST", "/api/rules/preview", draft);
      await unknownBody("POST", "/api/sync", { ruleId: rule.id });
    });

    await t.step(
      "another user's calendars in a rule are unknown calendars (422), never used",
      async () => {
        for (const path of ["/api/rules", "/api/rules/validate", "/api/rules/preview"]) {
          const res = await bob.request(path, { method: "POST", json: annRule });
          assert.equal(res.status, 422, path);
          assert.equal((await res.json()).error.code, "unknown_calendar");
        }
      },
    );

    await t.step(
      "runs and sync jobs: 404 by run id and by job id; lists show only one's own",
      async () => {
        for (const id of [runId, jobId]) {
          assert.deepEqual(
            await unknownBody("GET", `/api/history/${id}`),
            await unknownBody("GET", `/api/history/${NEVER_EXISTED}`),
          );
          assert.deepEqual(
            await unknownBody("GET", `/api/sync/${id}`),
            await unknownBody("GET", `/api/sync/${NEVER_EXISTED}`),
          );
        }
        assert.deepEqual((await (await bob.request("/api/rules")).json()).items, []);
        const history = await (await bob.request(`/api/history?ruleId=${rule.id}`)).json();
        assert.deepEqual(history.items, []);
        const status = await (await bob.request("/api/status")).json();
        assert.deepEqual(status.rules, []);
        assert.equal(status.lastRun, null);
        assert.deepEqual(status.connections.map((c: { email: string }) => c.email), [BOB]);
      },
    );

    await t.step("after all that, Ann's rule and run are untouched", async () => {
      const res = await ann.request(`/api/rules/${rule.id}`);
      assert.equal(res.headers.get("etag"), etag);
      assert.deepEqual(await res.json(), rule);
      assert.equal((await ann.request(`/api/history/${runId}`)).status, 200);
    });
  } finally {
    await h.close();
  }
});
