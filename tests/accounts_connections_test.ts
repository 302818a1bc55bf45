/**
 * Connected Google accounts end to end: connecting, the calendar cache, token refresh and
 * death, disconnecting, encryption at rest and key rotation, export/import and account deletion.
 * Google is the emulator over real HTTP; KV is a real file.
 */
import assert from "node:assert/strict";
import { createKeyring, decryptString, needsReencryption } from "../lib/auth/crypto.ts";
import { reencryptAllTokens } from "../lib/accounts/key_rotation.ts";
import { getConnectionEntry } from "../lib/db/connections.ts";
import { keys } from "../lib/db/keys.ts";
import { getRun, saveRun } from "../lib/db/history.ts";
import { openTitles, sealTitles } from "../lib/db/history_titles.ts";
import { randomKeyBase64 } from "../lib/db/settings.ts";
import { ReconnectRequiredError } from "../lib/google/token_source.ts";
import {
  ANN,
  ANN_WORK,
  BOB,
  CLIENT,
  dumpKv,
  type Harness,
  refreshWorks,
  storedTokens,
  type TestClient,
  withHarness,
} from "./support/accounts.ts";
import { aRunRecord } from "../lib/db/test_runs.ts";

/** Ann, signed in, with her personal and work accounts connected. */
async function annWithTwoAccounts(h: Harness): Promise<{ ann: TestClient; userId: string }> {
  const ann = h.client();
  await ann.signIn(ANN);
  assert.equal((await ann.connect(ANN)).status, 303);
  assert.equal((await ann.connect(ANN_WORK)).status, 303);
  const userId = (await (await ann.request("/api/me")).json()).id;
  return { ann, userId };
}

Deno.test("connect: two Google accounts become two connections with their calendars; read-only ones are sources only", async () => {
  await withHarness(async (h) => {
    const ann = h.client();
    await ann.signIn(ANN);
    const start = await ann.request("/api/user/calendars/connect", { method: "POST", json: {} });
    const url = new URL((await start.json()).url);
    assert.deepEqual(url.searchParams.get("scope")!.split(" "), [
      "openid",
      "email",
      "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
      "https://www.googleapis.com/auth/calendar.events",
    ]);
    assert.equal(url.searchParams.get("access_type"), "offline");
    assert.equal(url.searchParams.get("prompt"), "consent");
    assert.equal(url.searchParams.get("include_granted_scopes"), "true");

    const form = await ann.request("/api/user/calendars/connect", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    assert.equal(form.status, 303, "a plain form post is sent on to Google");
    assert.equal(new URL(form.headers.get("location")!).origin, h.emulator.url);

    assert.equal((await ann.connect(ANN)).headers.get("location"), "/connections");
    await ann.connect(ANN_WORK);
    const connections = await ann.connections();
    assert.deepEqual(connections.map((c) => [c.email, c.status]), [
      [ANN, "active"],
      [ANN_WORK, "active"],
    ]);
    assert.ok(!JSON.stringify(connections).includes("tokens"), "no tokens over the API");

    const { items } = await (await ann.request("/api/user/calendars")).json();
    const byId = Object.fromEntries(items.map((c: { calendarId: string }) => [c.calendarId, c]));
    assert.deepEqual(Object.keys(byId).sort(), [
      ANN,
      ANN_WORK,
      "family@group.example",
      "team@work.example.com",
    ]);
    assert.deepEqual(byId["team@work.example.com"], {
      connectionId: connections[1].id,
      accountEmail: ANN_WORK,
      calendarId: "team@work.example.com",
      summary: "Team",
      primary: false,
      accessRole: "writer",
      timeZone: "Europe/London",
      // Its colour in Ann's Google list (the seed's colorId 17), kept with the calendar.
      color: "#9a9cff",
      writable: true,
    });
    assert.equal(byId["family@group.example"].writable, false);
    assert.equal(byId[ANN].primary, true);

    await ann.connect(ANN_WORK);
    assert.equal((await ann.connections()).length, 2, "connecting an account again renews it");

    const bob = h.client("192.0.2.2");
    await bob.signIn(BOB);
    await bob.connect(ANN_WORK);
    const [bobsCopy] = await bob.connections();
    assert.equal(bobsCopy.email, ANN_WORK);
    assert.notEqual(bobsCopy.id, connections[1].id, "another user's connection of it is separate");

    const page = await (await ann.request("/connections")).text();
    assert.match(page, /ann@work\.example\.com/);
    assert.match(page, /read-only: source only/);
  });
});

Deno.test("tokens: an access token close to expiry is refreshed ahead of time and stored encrypted", async () => {
  await withHarness(async (h) => {
    const { userId } = await annWithTwoAccounts(h);
    const [, work] = await annConnections(h, userId);
    const tokens = h.tokenSource();
    const ref = { userId, connectionId: work };
    const first = await tokens.getAccessToken(ref);
    assert.equal(first, (await storedTokens(h, userId, work)).access, "fresh: the stored token");

    h.clock.advance(56 * 60_000);
    const second = await tokens.getAccessToken(ref);
    assert.notEqual(second, first);
    assert.equal((await storedTokens(h, userId, work)).access, second, "the new token is stored");
    const res = await fetch(`${h.emulator.url}/calendar/v3/users/me/calendarList`, {
      headers: { authorization: `Bearer ${second}` },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
  });
});

Deno.test("tokens: when Google expires the access token early, the next call refreshes once and succeeds", async () => {
  await withHarness(async (h) => {
    const { ann, userId } = await annWithTwoAccounts(h);
    const [personal] = await annConnections(h, userId);
    const before = (await storedTokens(h, userId, personal)).access;
    h.clock.advance(2 * 60_000);
    await h.admin("tokens/expire");
    const res = await ann.request("/api/user/calendars?refresh=true");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.failures, []);
    assert.notEqual((await storedTokens(h, userId, personal)).access, before);
  });
});

Deno.test("invalid_grant: a revoked grant marks the connection 'needs reconnect', keeps it, and reconnecting restores it", async (t) => {
  await withHarness(async (h) => {
    const { ann, userId } = await annWithTwoAccounts(h);
    const [personal, work] = await annConnections(h, userId);
    h.clock.advance(2 * 60_000);
    await h.admin("tokens/revoke", { email: ANN_WORK });

    await t.step("a calendar refresh reports it and marks the connection", async () => {
      const body = await (await ann.request("/api/user/calendars?refresh=true")).json();
      assert.deepEqual(
        body.failures.map((f: { connectionId: string; code: string }) => [f.connectionId, f.code]),
        [
          [work, "needs_reconnect"],
        ],
      );
      const listed = await ann.connections();
      const broken = listed.find((c) => c.id === work) as { status: string; statusReason?: string };
      assert.equal(broken.status, "needs_reconnect");
      assert.match(broken.statusReason ?? "", /invalid_grant/);
      assert.equal(
        listed.find((c) => c.id === personal)?.status,
        "active",
        "the other one is fine",
      );
      const cached = body.items.filter((c: { connectionId: string }) => c.connectionId === work);
      assert.equal(cached.length, 2, "its cached calendars stay");
    });

    await t.step("the engine's token source refuses without asking Google again", async () => {
      await assert.rejects(
        () => h.tokenSource().getAccessToken({ userId, connectionId: work }),
        (e: unknown) => e instanceof ReconnectRequiredError && e.connectionId === work,
      );
    });

    await t.step(
      "the connections page shows the state and a reconnect button, for that account only",
      async () => {
        const page = await (await ann.request("/connections")).text();
        assert.match(page, /Needs reconnect/);
        assert.match(page, new RegExp(`action="/api/user/connections/${work}/reconnect"`));
        // A healthy account has nothing to reconnect: the button would only invite doubt.
        assert.doesNotMatch(
          page,
          new RegExp(`action="/api/user/connections/${personal}/reconnect"`),
        );
      },
    );

    await t.step(
      "reconnecting the same account makes the same connection active again",
      async () => {
        const start = await ann.request(`/api/user/connections/${work}/reconnect`, {
          method: "POST",
          json: {},
        });
        const { url } = await start.json();
        assert.equal(new URL(url).searchParams.get("login_hint"), ANN_WORK);
        const back = await ann.authorizeAtGoogle(url, ANN_WORK);
        assert.equal((await ann.request(`${back.pathname}${back.search}`)).status, 303);
        const again = (await ann.connections()).find((c) => c.id === work);
        assert.equal(again?.status, "active");
        assert.ok(await h.tokenSource().getAccessToken({ userId, connectionId: work }));
      },
    );
  });
});

Deno.test("disconnect: the grant is revoked at Google, the connection and its calendars are gone", async () => {
  await withHarness(async (h) => {
    const { ann, userId } = await annWithTwoAccounts(h);
    const [, work] = await annConnections(h, userId);
    const { refresh } = await storedTokens(h, userId, work);
    assert.equal(await refreshWorks(h, refresh), true);

    const res = await ann.request(`/api/user/connections/${work}?removeMirrors=true`, {
      method: "DELETE",
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { removedRules: [], revoked: true });
    assert.equal(await refreshWorks(h, refresh), false, "Google no longer honours the token");
    assert.deepEqual((await ann.connections()).map((c) => c.email), [ANN]);
    const { items } = await (await ann.request("/api/user/calendars")).json();
    assert.ok(items.every((c: { connectionId: string }) => c.connectionId !== work));
    const again = await ann.request(`/api/user/connections/${work}`, { method: "DELETE" });
    assert.equal(again.status, 404);
  });
});

Deno.test("encryption at rest: no Google token and no session token appears in plain text in the KV file", async () => {
  await withHarness(async (h) => {
    const { ann, userId } = await annWithTwoAccounts(h);
    const ids = await annConnections(h, userId);
    h.clock.advance(56 * 60_000);
    await ann.request("/api/user/calendars?refresh=true");
    const secrets: string[] = [];
    for (const id of ids) {
      const { refresh, access } = await storedTokens(h, userId, id);
      assert.match(refresh, /^1\/\/emu-/);
      assert.match(access ?? "", /^ya29\.emu-/);
      secrets.push(refresh, access!);
    }
    secrets.push(ann.cookies.get("busysync_rt")!, ann.cookies.get("busysync_at")!);

    const dump = await dumpKv(h.kvPath);
    assert.ok(dump.includes(ids[0]), "the dump does cover the connections");
    for (const secret of secrets) assert.ok(!dump.includes(secret), "a token is stored in clear");
    assert.doesNotMatch(dump, /ya29\.|1\/\/emu|eyJhbGciOi/);
    assert.ok(!dump.includes(h.config.encryptionKeys![0]), "nor is the key");
  });
});

Deno.test("key rotation: with a new key first, every token is re-encrypted and the old key can go", async () => {
  await withHarness(async (h) => {
    const { userId } = await annWithTwoAccounts(h);
    const ids = await annConnections(h, userId);
    const oldKey = h.config.encryptionKeys![0];
    const newKey = randomKeyBase64();
    const during = await createKeyring([newKey, oldKey]);

    const report = await reencryptAllTokens(h.kv, during);
    assert.deepEqual(report, { connections: 2, reencrypted: 2, failed: [] });
    assert.deepEqual(await reencryptAllTokens(h.kv, during), {
      connections: 2,
      reencrypted: 0,
      failed: [],
    }, "a second run has nothing to do");

    const after = await createKeyring([newKey]);
    for (const id of ids) {
      const entry = await getConnectionEntry(h.kv, userId, id);
      assert.ok(!needsReencryption(after, entry!.connection.tokens!.refresh));
      assert.ok(!needsReencryption(after, entry!.connection.tokens!.access!));
    }
    assert.ok(await h.tokenSource(after).getAccessToken({ userId, connectionId: ids[1] }));
    await assert.rejects(() =>
      getConnectionEntry(h.kv, userId, ids[0]).then((e) =>
        decryptString(h.secrets.keyring, e!.connection.tokens!.refresh, "x")
      )
    );
  });
});

Deno.test("key rotation: the documented command re-encrypts a store in place", async () => {
  await withHarness(async (h) => {
    const { userId } = await annWithTwoAccounts(h);
    const runId = "01KB0000000000000000000000";
    const [action] = await sealTitles(h.secrets.keyring, userId, runId, [{
      ruleId: "r1",
      direction: "forward",
      kind: "create",
      reason: "new",
      sourceEventId: "e1",
      mirrorId: "m1",
      target: "c1/cal",
      sourceTitle: "Dentist",
    }]);
    await saveRun(h.kv, aRunRecord(userId, runId), [action], { maxRuns: 10, maxDays: 30 });
    const newKey = randomKeyBase64();
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli.ts", "keys", "rotate"],
      cwd: new URL("..", import.meta.url).pathname,
      env: {
        BUSYSYNC_KV: h.kvPath,
        GOOGLE_CLIENT_ID: CLIENT.clientId,
        GOOGLE_CLIENT_SECRET: CLIENT.clientSecret,
        BUSYSYNC_ENCRYPTION_KEY: `${newKey},${h.config.encryptionKeys![0]}`,
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    assert.ok(run.success, out);
    assert.match(out, /2 of 2 connection\(s\) re-encrypted/);
    assert.match(out, /event titles of 1 run\(s\) in history re-encrypted/);
    const after = await createKeyring([newKey]);
    const stored = (await getRun(h.kv, userId, runId))!.actions;
    assert.ok(!needsReencryption(after, stored[0].title!));
    const [opened] = await openTitles(after, userId, runId, stored);
    assert.equal(opened.title, "Dentist");
    const [personal] = await annConnections(h, userId);
    assert.ok(await h.tokenSource(after).getAccessToken({ userId, connectionId: personal }));
  });
});

Deno.test("export/import: settings and connections travel without secrets; a newer format is refused", async (t) => {
  await withHarness(async (h) => {
    const { ann } = await annWithTwoAccounts(h);
    const patched = await ann.request("/api/me/settings", {
      method: "PATCH",
      json: { timeZone: "Europe/Berlin" },
    });
    assert.equal(patched.status, 200);
    const bad = await ann.request("/api/me/settings", {
      method: "PATCH",
      json: { timeZone: "Mars/Base" },
    });
    assert.equal(bad.status, 400);
    assert.ok((await bad.json()).error.fields.timeZone);

    const res = await ann.request("/api/user/export");
    assert.match(
      res.headers.get("content-disposition") ?? "",
      /attachment; filename="busysync-export-/,
    );
    const doc = await res.json();
    assert.equal(doc.format, "busysync-export");
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.settings, { timeZone: "Europe/Berlin" });
    assert.deepEqual(doc.connections.map((c: { email: string }) => c.email), [ANN, ANN_WORK]);
    assert.doesNotMatch(JSON.stringify(doc), /emu-|tokens|refresh/);

    await t.step("into another user: settings applied, connections matched by email", async () => {
      const bob = h.client("192.0.2.2");
      await bob.signIn(BOB);
      await bob.connect(ANN_WORK);
      const imported = await bob.request("/api/user/import", {
        method: "POST",
        json: { ...doc, rules: [], futureThing: {} },
      });
      assert.equal(imported.status, 200);
      const body = await imported.json();
      assert.deepEqual(body.imported.connections, { matched: [ANN_WORK], missing: [ANN] });
      assert.deepEqual(body.ignored, ["rules", "futureThing"]);
      assert.deepEqual((await (await bob.request("/api/me")).json()).settings, {
        timeZone: "Europe/Berlin",
      });

      // Two feeds of one host share their name: neither is paired, rather than the wrong one.
      const twins = doc.connections.map((c: { email: string }) => ({ ...c, email: ANN_WORK }));
      const ambiguous = await bob.request("/api/user/import", {
        method: "POST",
        json: { ...doc, connections: twins },
      });
      assert.deepEqual((await ambiguous.json()).imported.connections, {
        matched: [],
        missing: [ANN_WORK, ANN_WORK],
      });
    });
    await t.step(
      "a newer format version is refused with 422, a malformed one with 400",
      async () => {
        const newer = await ann.request("/api/user/import", {
          method: "POST",
          json: { ...doc, version: 2 },
        });
        assert.equal(newer.status, 422);
        assert.equal((await newer.json()).error.code, "import_too_new");
        const wrong = await ann.request("/api/user/import", {
          method: "POST",
          json: { ...doc, settings: { timeZone: 5 } },
        });
        assert.equal(wrong.status, 400);
        assert.ok((await wrong.json()).error.fields["settings.timeZone"]);
        const notOurs = await ann.request("/api/user/import", {
          method: "POST",
          json: { hello: 1 },
        });
        assert.equal(notOurs.status, 400);
      },
    );
  });
});

Deno.test("delete account: every key of the user leaves KV, their grants are revoked, others are untouched", async () => {
  await withHarness(async (h) => {
    const { ann, userId } = await annWithTwoAccounts(h);
    const refreshTokens = await Promise.all(
      (await annConnections(h, userId)).map(async (id) =>
        (await storedTokens(h, userId, id)).refresh
      ),
    );
    const bob = h.client("192.0.2.2");
    await bob.signIn(BOB);
    await bob.connect(BOB);

    const res = await ann.request("/api/me", { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal(ann.cookies.get("busysync_at"), undefined);
    assert.equal((await ann.request("/api/me")).status, 401);
    for (const token of refreshTokens) assert.equal(await refreshWorks(h, token), false);

    const dump = await dumpKv(h.kvPath);
    assert.ok(!dump.includes(userId), "no key or value mentions the deleted user");
    assert.equal((await bob.connections()).length, 1);
    assert.equal((await bob.request("/api/me")).status, 200);

    const fresh = h.client("192.0.2.3");
    await fresh.signIn(ANN);
    const me = await (await fresh.request("/api/me")).json();
    assert.notEqual(me.id, userId, "signing in again starts a new account");
    assert.deepEqual(await fresh.connections(), []);
  });
});

/** The user's connection ids in creation order. */
async function annConnections(h: Harness, userId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of h.kv.list({ prefix: keys.connections(userId) })) ids.push(String(e.key[2]));
  return ids;
}
