/**
 * Leaving cleanly: disconnecting an account or deleting the busysync account removes the busy
 * blocks busysync wrote (by default), through the real engine, emulator and KV file.
 */
import assert from "node:assert/strict";
import { getConnectionEntry } from "../lib/db/connections.ts";
import { createRule, listRules } from "../lib/db/rules.ts";
import { createLogger } from "../lib/log.ts";
import { createServices } from "../lib/services.ts";
import { syncUser } from "../lib/sync/engine.ts";
import { RuleInputSchema } from "../lib/model/rule.ts";
import { ANN, ANN_WORK, type Harness, type TestClient, withHarness } from "./support/accounts.ts";

interface RawEvent {
  id: string;
  status: string;
  extendedProperties?: { private?: Record<string, string> };
}

async function liveMirrors(h: Harness, calendarId: string): Promise<string[]> {
  const res = await fetch(
    `${h.emulator.url}/__emulator/calendars/${encodeURIComponent(calendarId)}/events`,
  );
  const { items } = await res.json() as { items: RawEvent[] };
  return items
    .filter((e) => e.status !== "cancelled" && e.extendedProperties?.private?.busysync === "1")
    .map((e) => e.id);
}

function syncDepsOf(h: Harness, userId: string) {
  return createServices({
    config: h.config,
    kv: h.kv,
    log: createLogger("error", () => {}),
    secrets: h.secrets,
    now: h.clock.now,
  }).syncDeps(userId);
}

/** Ann signs in, connects both accounts, mirrors her personal calendar into work, syncs. */
async function annMirroring(
  h: Harness,
): Promise<{ ann: TestClient; userId: string; personal: string }> {
  const ann = h.client();
  await ann.signIn(ANN);
  await ann.connect(ANN);
  await ann.connect(ANN_WORK);
  const userId = (await (await ann.request("/api/me")).json()).id;
  const byEmail = new Map((await ann.connections()).map((c) => [c.email, c.id]));
  const personal = byEmail.get(ANN)!;
  const start = new Date(h.clock.now().getTime() + 24 * 3600_000);
  for (const hour of [9, 11]) {
    start.setUTCHours(hour, 0, 0, 0);
    await h.admin(`calendars/${encodeURIComponent(ANN)}/events`, {
      summary: `Dentist ${hour}`,
      start: { dateTime: start.toISOString() },
      end: { dateTime: new Date(start.getTime() + 3600_000).toISOString() },
    });
  }
  await createRule(
    h.kv,
    userId,
    RuleInputSchema.parse({
      name: "Personal into work",
      source: { connectionId: personal, calendarId: ANN },
      target: { connectionId: byEmail.get(ANN_WORK)!, calendarId: ANN_WORK },
    }),
    { now: h.clock.now() },
  );
  const run = await syncUser({ ...syncDepsOf(h, userId), trigger: "manual" });
  assert.equal(run.status, "completed");
  assert.equal((await liveMirrors(h, ANN_WORK)).length, 2);
  return { ann, userId, personal };
}

Deno.test("disconnect: by default the account's rules go and so do the busy blocks they wrote", async () => {
  await withHarness(async (h) => {
    const { ann, userId, personal } = await annMirroring(h);
    const [rule] = await listRules(h.kv, userId);
    const res = await ann.request(`/api/user/connections/${personal}`, { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { removedRules: [rule.rule.id], revoked: true });
    assert.deepEqual(await liveMirrors(h, ANN_WORK), []);
    assert.deepEqual(await listRules(h.kv, userId), []);
  });
});

Deno.test("disconnect: with removeMirrors=false the rules go but the busy blocks stay", async () => {
  await withHarness(async (h) => {
    const { ann, userId, personal } = await annMirroring(h);
    const res = await ann.request(`/api/user/connections/${personal}?removeMirrors=false`, {
      method: "DELETE",
    });
    assert.equal(res.status, 200);
    assert.equal((await liveMirrors(h, ANN_WORK)).length, 2);
    assert.deepEqual(await listRules(h.kv, userId), []);
  });
});

Deno.test("delete account: every busysync event of the user is removed before the data goes", async () => {
  await withHarness(async (h) => {
    const { ann } = await annMirroring(h);
    const res = await ann.request("/api/me", { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.deepEqual(await liveMirrors(h, ANN_WORK), []);
    assert.equal((await ann.request("/api/me")).status, 401);
  });
});

Deno.test("disconnect: with keepRules=true the rules pause and keep their blocks, and connecting the same account again resumes them under the same id", async () => {
  await withHarness(async (h) => {
    const { ann, userId, personal } = await annMirroring(h);
    const [{ rule }] = await listRules(h.kv, userId);
    const mirrors = await liveMirrors(h, ANN_WORK);
    const res = await ann.request(`/api/user/connections/${personal}?keepRules=true`, {
      method: "DELETE",
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { removedRules: [], pausedRules: [rule.id], revoked: true });
    const kept = await getConnectionEntry(h.kv, userId, personal);
    assert.equal(kept?.connection.status, "disconnected");
    assert.equal(kept?.connection.tokens, undefined, "no token of the account is stored");
    const listed = (await ann.connections()).find((c) => c.id === personal);
    assert.equal(listed?.status, "disconnected");

    const sync = syncDepsOf(h, userId);
    assert.equal((await syncUser({ ...sync, trigger: "manual" })).status, "completed");
    const [paused] = await listRules(h.kv, userId);
    assert.equal(paused.rule.status, "paused");
    assert.match(paused.rule.statusReason ?? "", /You disconnected this account/);
    assert.deepEqual(await liveMirrors(h, ANN_WORK), mirrors, "the busy blocks stay");
    for (const path of ["/api/status", "/api/user/export", "/api/user/calendars"]) {
      const page = await ann.request(path);
      assert.equal(page.status, 200, `${path} works beside a disconnected connection`);
      await page.body?.cancel();
    }

    await ann.connect(ANN);
    const again = (await ann.connections()).find((c) => c.email === ANN);
    assert.equal(again?.id, personal, "the same Google account keeps its connection id");
    assert.equal(again?.status, "active");
    const start = new Date(h.clock.now().getTime() + 48 * 3600_000);
    await h.admin(`calendars/${encodeURIComponent(ANN)}/events`, {
      summary: "Gym",
      start: { dateTime: start.toISOString() },
      end: { dateTime: new Date(start.getTime() + 3600_000).toISOString() },
    });
    assert.equal((await syncUser({ ...sync, trigger: "manual" })).status, "completed");
    const [resumed] = await listRules(h.kv, userId);
    assert.equal(resumed.rule.id, rule.id);
    assert.equal(resumed.rule.status, "ok");
    const after = await liveMirrors(h, ANN_WORK);
    assert.equal(after.length, 3, "the old blocks stand and the new event got one");
    assert.ok(mirrors.every((id) => after.includes(id)));
  });
});

Deno.test("disconnect: forgetting an account already disconnected removes the blocks busysync can still reach, and says which stay", async () => {
  await withHarness(async (h) => {
    const { ann, userId, personal } = await annMirroring(h);
    const work = (await ann.connections()).find((c) => c.email === ANN_WORK)!.id;
    // Work into personal too: its blocks live in the account that is about to be disconnected.
    const start = new Date(h.clock.now().getTime() + 30 * 3600_000);
    await h.admin(`calendars/${encodeURIComponent(ANN_WORK)}/events`, {
      summary: "Standup",
      start: { dateTime: start.toISOString() },
      end: { dateTime: new Date(start.getTime() + 1800_000).toISOString() },
    });
    await createRule(
      h.kv,
      userId,
      RuleInputSchema.parse({
        name: "Work into personal",
        source: { connectionId: work, calendarId: ANN_WORK },
        target: { connectionId: personal, calendarId: ANN },
      }),
      { now: h.clock.now() },
    );
    const sync = syncDepsOf(h, userId);
    assert.equal((await syncUser({ ...sync, trigger: "manual" })).status, "completed");
    assert.equal((await liveMirrors(h, ANN)).length, 1);
    const paused = await ann.request(`/api/user/connections/${personal}?keepRules=true`, {
      method: "DELETE",
    });
    assert.equal(paused.status, 200);
    await paused.body?.cancel();

    const res = await ann.request(`/api/user/connections/${personal}?removeMirrors=true`, {
      method: "DELETE",
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(await liveMirrors(h, ANN_WORK), [], "the blocks in the reachable account go");
    assert.equal((await liveMirrors(h, ANN)).length, 1, "busysync cannot reach the other one");
    assert.deepEqual(await listRules(h.kv, userId), []);
    assert.equal(await getConnectionEntry(h.kv, userId, personal), null);
    assert.equal(body.blocksLeft, 1);
    assert.equal((await syncUser({ ...sync, trigger: "manual" })).status, "completed");
    assert.deepEqual(await ann.connections().then((cs) => cs.map((c) => c.email)), [ANN_WORK]);
  });
});
