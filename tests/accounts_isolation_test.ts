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
      const page = await stranger.request("/connections");
      assert.equal(page.status, 303);
      assert.equal(page.headers.get("location"), "/signin?next=%2Fconnections");
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
