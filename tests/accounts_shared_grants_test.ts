/**
 * One Google account connected by two busysync users: both connections live on one grant of
 * that account to busysync's OAuth client, and revoking any token ends it (the emulator does as
 * Google does). So busysync revokes only when no other connection on the instance holds the
 * account. And a connection whose calls keep answering 401 shows "needs reconnect" at once.
 */
import assert from "node:assert/strict";
import { getConnectionEntry } from "../lib/db/connections.ts";
import { MIGRATIONS, readSchemaVersion, runMigrations } from "../lib/db/migrations.ts";
import {
  ANN,
  ANN_WORK,
  BOB,
  type Harness,
  refreshWorks,
  storedTokens,
  type TestClient,
  withHarness,
} from "./support/accounts.ts";

interface Holder {
  client: TestClient;
  userId: string;
  connectionId: string;
  refresh: string;
}

/** Signs `email` in from its own address and connects ANN_WORK. */
async function connectAnnWork(h: Harness, email: string, address: string): Promise<Holder> {
  const client = h.client(address);
  assert.equal((await client.signIn(email)).status, 303);
  assert.equal((await client.connect(ANN_WORK)).status, 303);
  const userId = (await (await client.request("/api/me")).json()).id;
  const [connection] = await client.connections();
  const { refresh } = await storedTokens(h, userId, connection.id);
  return { client, userId, connectionId: connection.id, refresh };
}

/**
 * Whether the holder's connection still gets calendars from Google with a fresh token. The
 * clock moves on first: a token issued within the last minute is not refreshed again.
 */
async function stillWorks(h: Harness, holder: Holder): Promise<boolean> {
  h.clock.advance(2 * 60_000);
  await h.admin("tokens/expire");
  const res = await holder.client.request("/api/user/calendars?refresh=true");
  const body = await res.json();
  const [connection] = await holder.client.connections();
  return !body.failures?.length && connection.status === "active";
}

Deno.test("shared grant: one user disconnecting a Google account another user also connected leaves the other working; the last one out revokes", async () => {
  await withHarness(async (h) => {
    const ann = await connectAnnWork(h, ANN, "192.0.2.1");
    const bob = await connectAnnWork(h, BOB, "192.0.2.2");

    const first = await ann.client.request(`/api/user/connections/${ann.connectionId}`, {
      method: "DELETE",
    });
    assert.equal(first.status, 200);
    const body = await first.json();
    assert.equal(body.revoked, false);
    assert.equal(body.reason, "shared");
    assert.match(body.message, /still connected/);
    assert.deepEqual(await ann.client.connections(), []);
    assert.equal(await refreshWorks(h, bob.refresh), true, "the grant lives on");
    assert.equal(await stillWorks(h, bob), true, "Bob's connection is not pushed to reconnect");

    const last = await bob.client.request(`/api/user/connections/${bob.connectionId}`, {
      method: "DELETE",
    });
    assert.deepEqual(await last.json(), { removedRules: [], revoked: true });
    assert.equal(await refreshWorks(h, bob.refresh), false, "the last one out revoked it");
  });
});

Deno.test("shared grant: deleting one busysync account leaves another user's connection to the same Google account working", async () => {
  await withHarness(async (h) => {
    const ann = await connectAnnWork(h, ANN, "192.0.2.1");
    const bob = await connectAnnWork(h, BOB, "192.0.2.2");
    assert.equal((await ann.client.request("/api/me", { method: "DELETE" })).status, 204);
    assert.equal(await stillWorks(h, bob), true);
    const index = [];
    for await (const e of h.kv.list({ prefix: ["connections_by_account"] })) index.push(e.key);
    assert.equal(index.length, 1, "only Bob's connection is left in the account index");
    assert.ok(!JSON.stringify(index).includes(ann.userId));
  });
});

Deno.test("shared grant: migration 0003 indexes the connections of an older store by Google account", async () => {
  await withHarness(async (h) => {
    const ann = await connectAnnWork(h, ANN, "192.0.2.1");
    const bob = await connectAnnWork(h, BOB, "192.0.2.2");
    // What a store of schema 2 looks like: migrations up to 0002 applied, no account index.
    const migration = MIGRATIONS.find((m) => m.id.startsWith("0003-"));
    assert.ok(migration, "a migration 0003 exists");
    await runMigrations(h.kv, MIGRATIONS.slice(0, MIGRATIONS.indexOf(migration)));
    assert.equal(await readSchemaVersion(h.kv), 2);
    for await (const e of h.kv.list({ prefix: ["connections_by_account"] })) {
      await h.kv.delete(e.key);
    }

    assert.deepEqual(await runMigrations(h.kv, MIGRATIONS), [migration.id]);
    assert.deepEqual(await runMigrations(h.kv, MIGRATIONS), [], "applied once");
    const res = await ann.client.request(`/api/user/connections/${ann.connectionId}`, {
      method: "DELETE",
    });
    assert.equal((await res.json()).reason, "shared");
    assert.equal(await stillWorks(h, bob), true);
  });
});

Deno.test("401: a connection whose calls keep answering 401 after a refresh shows 'needs reconnect' at once", async () => {
  await withHarness(async (h) => {
    const ann = await connectAnnWork(h, ANN, "192.0.2.1");
    const issuedAt = async () =>
      (await getConnectionEntry(h.kv, ann.userId, ann.connectionId))?.connection.tokens
        ?.accessIssuedAt;
    const before = await issuedAt();
    h.clock.advance(2 * 60_000);
    await h.admin("faults", { method: "calendarList.list", fault: "authError" });
    const body = await (await ann.client.request("/api/user/calendars?refresh=true")).json();
    assert.deepEqual(body.failures.map((f: { code: string }) => f.code), ["needs_reconnect"]);
    const [connection] = await ann.client.connections() as {
      status: string;
      statusReason?: string;
    }[];
    assert.equal(connection.status, "needs_reconnect");
    assert.match(connection.statusReason ?? "", /Connect the account again/);
    assert.notEqual(await issuedAt(), before, "a refresh was tried in between");
  });
});
