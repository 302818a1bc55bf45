/**
 * The owner's page and API (`/admin`, `/api/admin/...`): who counts as an owner (a listed,
 * verified address; a domain's address only with that domain's `hd`; the Google account the
 * address was first proven by), the answer everyone else gets (exactly an unknown path's, on
 * every route), what the overview holds (and never: an event's title), and the actions: pause
 * and resume a user's syncs, delete a user with their busy blocks.
 */
import assert from "node:assert/strict";
import { markNeedsReconnect } from "../../lib/db/connections.ts";
import { recordBackup } from "../../lib/db/maintenance.ts";
import { getSyncPause } from "../../lib/db/sync_pauses.ts";
import { getUser } from "../../lib/db/users.ts";
import { PAUSED_REASON } from "../../lib/scheduler/scheduler.ts";
import { VERSION } from "../../lib/version.ts";
import {
  ANN,
  ANN_WORK,
  BOB,
  BOB_WORK,
  type Harness,
  startHarness,
  type TestClient,
} from "../support/accounts.ts";
import { addEvent, aRule, eventsIn, startApiWorld, syncNow } from "./support.ts";

const OWNER = "owner@gmail.com";
const UNVERIFIED = "unverified@gmail.com";

/** Google accounts the shared seed lacks: a Gmail owner, and an address Google never confirmed. */
async function addOwnerAccounts(h: Harness) {
  await h.admin("seed", {
    users: [
      { email: OWNER, name: "Olivia Owner", calendars: [] },
      { email: UNVERIFIED, name: "Una Unverified", emailVerified: false, calendars: [] },
    ],
  });
}

/** Every owner route, aimed at `userId`. */
const routes = (userId: string) => [
  { method: "GET", path: "/admin" },
  { method: "GET", path: "/api/admin/overview" },
  { method: "POST", path: `/api/admin/users/${userId}/pause` },
  { method: "POST", path: `/api/admin/users/${userId}/resume` },
  { method: "DELETE", path: `/api/admin/users/${userId}?removeMirrors=false` },
];

/** Every owner route answers `client` as an unknown path does, and changes nothing. */
async function assertHidden(h: Harness, client: TestClient, targetId: string, who: string) {
  const unknownApi = await (await client.request("/api/no-such-route")).json();
  const unknownPage = await (await client.request("/no-such-page")).text();
  for (const { method, path } of routes(targetId)) {
    const res = await client.request(path, { method });
    assert.equal(res.status, 404, `${who}: ${method} ${path}`);
    if (path.startsWith("/api/")) assert.deepEqual(await res.json(), unknownApi, path);
    else assert.equal(await res.text(), unknownPage, path);
  }
  assert.ok(await getUser(h.kv, targetId), `${who} deleted nobody`);
  assert.equal(await getSyncPause(h.kv, targetId), null, `${who} paused nobody`);
}

const idOf = async (client: TestClient) => (await (await client.request("/api/me")).json()).id;

Deno.test("owner's page: only a listed, proven and pinned owner gets it; everyone else gets 404 on every route", async (t) => {
  const h = await startHarness({
    BUSYSYNC_ADMIN_EMAILS: [OWNER, ANN_WORK, ANN, UNVERIFIED].join(","),
  });
  try {
    await addOwnerAccounts(h);
    const bob = h.client("192.0.2.2");
    await bob.signIn(BOB);
    const bobId = await idOf(bob);

    await t.step("signed out: 404 on every route", async () => {
      await assertHidden(h, h.client("192.0.2.3"), bobId, "signed out");
    });

    await t.step("a signed-in user whose address is not listed: 404 on every route", async () => {
      await assertHidden(h, bob, bobId, "bob");
    });

    const owner = h.client("192.0.2.4");
    await t.step(
      "a listed Gmail address, verified: the page, the overview and the actions",
      async () => {
        await owner.signIn(OWNER);
        const page = await owner.request("/admin");
        assert.equal(page.status, 200);
        assert.match(await page.text(), /Owner's page/);
        const overview = await (await owner.request("/api/admin/overview")).json();
        assert.deepEqual(overview.users.map((u: { email: string }) => u.email).sort(), [
          BOB,
          OWNER,
        ]);
        const paused = await owner.request(`/api/admin/users/${bobId}/pause`, { method: "POST" });
        assert.equal(paused.status, 200);
        assert.ok(await getSyncPause(h.kv, bobId));
        const resumed = await owner.request(`/api/admin/users/${bobId}/resume`, { method: "POST" });
        assert.equal(resumed.status, 200);
        assert.equal(await getSyncPause(h.kv, bobId), null);

        // The owner's own API token reaches none of it: power over others needs the owner.
        const created = await owner.request("/api/me/tokens", {
          method: "POST",
          json: { name: "script", expiresInDays: 30 },
        });
        assert.equal(created.headers.get("cache-control"), "no-store");
        const { token } = await created.json();
        for (
          const [method, path] of [["GET", "/api/admin/overview"], [
            "POST",
            `/api/admin/users/${bobId}/pause`,
          ]]
        ) {
          const res = await h.app.request(`${h.config.publicUrl}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}` },
          });
          assert.equal(res.status, 403, `${method} ${path}`);
          assert.equal((await res.json()).error.code, "token_not_allowed");
        }
        assert.equal(await getSyncPause(h.kv, bobId), null, "the token paused nobody");
      },
    );

    await t.step(
      "a listed address Google never verified: no sign-in, so no owner's page",
      async () => {
        const una = h.client("192.0.2.5");
        const res = await una.signIn(UNVERIFIED);
        assert.equal(res.status, 403);
        assert.match(await res.text(), /no verified email/);
        await assertHidden(h, una, bobId, "unverified");
      },
    );

    await t.step(
      "a domain's address: with the domain's hd it is an owner, without it not",
      async () => {
        // ann@work.example.com is a Workspace account of work.example.com (hd in its id_token).
        const work = h.client("192.0.2.6");
        await work.signIn(ANN_WORK);
        assert.equal((await work.request("/api/admin/overview")).status, 200);
        // ann@example.com is a personal Google account: no hd, and example.com is no Gmail.
        const personal = h.client("192.0.2.7");
        await personal.signIn(ANN);
        await assertHidden(h, personal, bobId, "a domain's address without hd");
      },
    );

    await t.step(
      "the address moved to another Google account: that account is refused, the pinned one stays owner",
      async () => {
        // The emulator's users are keyed by address: this replaces OWNER's Google account with a
        // new one (another sub) carrying the same verified address.
        await h.admin("seed", {
          users: [{
            email: OWNER,
            name: "Not Olivia",
            sub: "199999999999999999999",
            calendars: [],
          }],
        });
        const impostor = h.client("192.0.2.8");
        await impostor.signIn(OWNER);
        const impostorId = await idOf(impostor);
        assert.equal((await getUser(h.kv, impostorId))?.email, OWNER);
        await assertHidden(h, impostor, bobId, "a second account with the owner's address");
        // The pinned account's session still opens the page: the address is its.
        assert.equal((await owner.request("/api/admin/overview")).status, 200);
      },
    );
  } finally {
    await h.close();
  }
});

Deno.test("owner's page: users, budgets, jobs, incidents, never a title; pause, resume and delete act as they say", async (t) => {
  const w = await startApiWorld({ BUSYSYNC_ADMIN_EMAILS: OWNER });
  const { h, ann, annId, cal } = w;
  const TITLE = "Dentist appointment 7Q";
  try {
    await addOwnerAccounts(h);
    const owner = h.client("192.0.2.4");
    await owner.signIn(OWNER);
    const ownerId = await idOf(owner);
    const overview = async () => await (await owner.request("/api/admin/overview")).json();
    await addEvent(h, cal.main.calendarId, TITLE, 26);
    const rule = await (await ann.request("/api/rules", { method: "POST", json: aRule(cal) }))
      .json();
    assert.equal((await syncNow(w)).outcome, "ok");
    assert.equal((await eventsIn(h, ANN_WORK)).length, 1);

    await t.step(
      "the overview: users and their last sync, budgets in use, the instance",
      async () => {
        const o = await overview();
        const annRow = o.users.find((u: { id: string }) => u.id === annId);
        assert.equal(annRow.email, ANN);
        assert.equal(annRow.rules, 1);
        assert.equal(annRow.connections, 2);
        assert.equal(annRow.lastSync.outcome, "ok");
        assert.equal(annRow.paused, false);
        assert.equal(o.users.find((u: { id: string }) => u.id === ownerId).lastSync, undefined);
        const work = o.accounts.find((a: { email: string }) => a.email === ANN_WORK);
        assert.equal(work.createsToday, 1);
        assert.ok(work.requestsLastMinute > 0);
        assert.equal(o.limits.requestsPerMinute, h.config.googleRequestsPerMinute);
        assert.equal(o.version, VERSION);
        assert.equal(o.store.kind, "file");
        assert.ok(o.store.bytes > 0);
        assert.equal(o.lastBackup, null);
        assert.deepEqual(o.needReconnect, []);
        assert.deepEqual(o.incidents, []);
      },
    );

    await t.step(
      "after a sync, neither the page nor the API holds an event title or a rule name",
      async () => {
        const page = await (await owner.request("/admin")).text();
        const api = JSON.stringify(await overview());
        for (const text of [page, api]) {
          assert.ok(text.includes(ANN), "the page is about Ann");
          assert.ok(!text.includes(TITLE), "an event title on the owner's page");
          assert.ok(!text.includes(rule.name), "a rule name on the owner's page");
        }
      },
    );

    await t.step(
      "pause: no job of hers runs, the cron queues none, Sync now says paused",
      async () => {
        const res = await owner.request(`/api/admin/users/${annId}/pause`, { method: "POST" });
        assert.deepEqual(await res.json(), { userId: annId, paused: true });
        const sync = await ann.request("/api/sync", { method: "POST", json: {} });
        assert.equal(sync.status, 409);
        assert.equal((await sync.json()).error.code, "sync_paused");
        assert.equal((await h.scheduler.tick(new Date())).created, 0);
        // A job that got into the table anyway (queued before the pause, a rule save) ends unrun.
        const { jobId } = await h.scheduler.request(annId, { reason: "manual" });
        await assert.rejects(h.scheduler.wait(annId, jobId, 20_000), new RegExp(PAUSED_REASON));
        const o = await overview();
        assert.equal(o.users.find((u: { id: string }) => u.id === annId).paused, true);
        const failing = o.jobs.failing.find((j: { id: string }) => j.id === jobId);
        assert.equal(failing.error, PAUSED_REASON);
        assert.match(await (await owner.request("/admin")).text(), /Resume syncs/);
      },
    );

    await t.step("a cross-site request is refused like every unsafe API call", async () => {
      const res = await owner.request(`/api/admin/users/${annId}/resume`, {
        method: "POST",
        origin: "https://evil.example",
      });
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error.code, "csrf");
      assert.ok(await getSyncPause(h.kv, annId));
    });

    await t.step("resume: the pause is lifted and a sync runs at once", async () => {
      await addEvent(h, cal.main.calendarId, "Second appointment", 28);
      const res = await owner.request(`/api/admin/users/${annId}/resume`, { method: "POST" });
      const body = await res.json();
      assert.equal(body.paused, false);
      const run = await h.scheduler.wait(annId, body.jobId, 20_000);
      assert.equal(run.outcome, "ok");
      assert.equal((await eventsIn(h, ANN_WORK)).length, 2);
    });

    await t.step("a connection whose access died is listed, with its incident", async () => {
      const bob = h.client("192.0.2.2");
      await bob.signIn(BOB, undefined, { firstTime: true });
      const bobId = await idOf(bob);
      const [connection] = await bob.connections();
      await markNeedsReconnect(h.kv, bobId, connection.id, "Access ended.", new Date());
      const o = await overview();
      assert.deepEqual(o.needReconnect.map((c: { email: string }) => c.email), [BOB]);
      assert.deepEqual(
        o.incidents.map((i: { kind: string; subject: string }) => [i.kind, i.subject]),
        [["connection_needs_reconnect", BOB]],
      );
    });

    await t.step(
      "a connection its user disconnected, keeping its rules, is no incident",
      async () => {
        const bob = h.client("192.0.2.2");
        await bob.signIn(BOB);
        await bob.connect(BOB_WORK);
        const work = (await bob.connections()).find((c) => c.email === BOB_WORK)!;
        const res = await bob.request(`/api/user/connections/${work.id}?keepRules=true`, {
          method: "DELETE",
        });
        assert.equal(res.status, 200, await res.text());
        const o = await overview();
        assert.ok(!o.needReconnect.some((c: { email: string }) => c.email === BOB_WORK));
        assert.ok(!o.incidents.some((i: { subject: string }) => i.subject === BOB_WORK));
        const row = (await (await owner.request("/admin")).text()).replace(/\s+/g, " ")
          .match(new RegExp(`<tr data-account="${work.id}">.*?</tr>`))?.[0] ?? "";
        assert.match(row, /Disconnected by its user, rules paused/);
      },
    );

    await t.step(
      "delete: unknown users 404, the owner's own account 409, no choice 400",
      async () => {
        const unknown = await owner.request("/api/admin/users/nobody?removeMirrors=true", {
          method: "DELETE",
        });
        assert.equal(unknown.status, 404);
        assert.equal((await unknown.json()).error.message, "No such user.");
        const own = await owner.request(`/api/admin/users/${ownerId}?removeMirrors=false`, {
          method: "DELETE",
        });
        assert.equal(own.status, 409);
        const undecided = await owner.request(`/api/admin/users/${annId}`, { method: "DELETE" });
        assert.equal(undecided.status, 400);
      },
    );

    await t.step(
      "delete with her busy blocks: they leave her calendars, she is signed out",
      async () => {
        const res = await owner.request(`/api/admin/users/${annId}?removeMirrors=true`, {
          method: "DELETE",
        });
        assert.equal(res.status, 204);
        assert.deepEqual(await eventsIn(h, ANN_WORK), []);
        assert.equal(await getUser(h.kv, annId), null);
        assert.equal((await ann.request("/api/me")).status, 401);
        const o = await overview();
        assert.deepEqual(o.users.map((u: { email: string }) => u.email).sort(), [BOB, OWNER]);
      },
    );
  } finally {
    await h.close();
  }
});

Deno.test("owner's page: the last backup busysync recorded is shown", async () => {
  const h = await startHarness({ BUSYSYNC_ADMIN_EMAILS: OWNER });
  try {
    await addOwnerAccounts(h);
    const owner = h.client();
    await owner.signIn(OWNER);
    await recordBackup(h.kv, { at: new Date("2026-11-30T03:00:00.000Z"), entries: 1234 });
    const o = await (await owner.request("/api/admin/overview")).json();
    assert.deepEqual(o.lastBackup, { at: "2026-11-30T03:00:00.000Z", entries: 1234 });
    assert.match(await (await owner.request("/admin")).text(), /1234 entries/);
  } finally {
    await h.close();
  }
});
