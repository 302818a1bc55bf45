/**
 * Undo windows (`?undo=true`): turning a rule or group off, or deleting it, takes effect at
 * once, while the removal of its busy blocks waits 10 s and can be taken back meanwhile. Time
 * is the harness's injected clock: no test waits the 10 s.
 */
import assert from "node:assert/strict";
import { BOB } from "../support/accounts.ts";
import { addEvent, type ApiWorld, aRule, eventsIn, startApiWorld, syncNow } from "./support.ts";

const SYNC_RUN = "Busysync-Sync-Run";

/** The busy blocks in a calendar, by id: what a person would see (ids show they are the same). */
async function blockIds(w: ApiWorld, calendarId: string): Promise<string[]> {
  return (await eventsIn(w.h, calendarId)).filter((e) => e.summary === "Busy").map((e) => e.id)
    .sort();
}

/**
 * The removal's own job waits out the window (job times are real time in the harness, so the
 * steps let a manual run stand in for it once the injected clock has passed the window).
 */
async function assertDueInTen(w: ApiWorld, jobId: string) {
  const job = await w.h.scheduler.job(w.annId, jobId);
  assert.equal(job?.state, "waiting");
  assert.ok(Date.parse(job!.dueAt) - Date.now() > 8_000, "due when the window ends");
}

async function errorOf(res: Response, status: number) {
  assert.equal(res.status, status);
  return (await res.json()).error as { code: string; message: string };
}

Deno.test("undo: turning off or deleting with ?undo=true waits 10 s and can be taken back", async (t) => {
  const w = await startApiWorld();
  const { ann, cal, h } = w;
  const work = cal.work.calendarId;
  try {
    await addEvent(h, cal.main.calendarId, "Dentist", 26);
    await addEvent(h, cal.main.calendarId, "Gym", 30);
    const rule = await (await ann.request("/api/rules", {
      method: "POST",
      json: aRule(cal, { name: "Personal into work" }),
    })).json();
    await syncNow(w);
    const blocks = await blockIds(w, work);
    assert.equal(blocks.length, 2);

    await t.step(
      "turned off: off at once, blocks kept through the window, Undo keeps them",
      async () => {
        const res = await ann.request(`/api/rules/${rule.id}?undo=true`, {
          method: "PATCH",
          json: { enabled: false },
        });
        assert.equal(res.status, 200);
        const jobId = res.headers.get(SYNC_RUN)!;
        const body = await res.json();
        assert.equal(body.enabled, false);
        assert.equal(body.undo.blocks, 2);
        assert.equal(body.undo.url, `/api/rules/${rule.id}/undo`);
        assert.ok(Date.parse(body.undo.expiresAt) - h.clock.now().getTime() > 9_000);
        // Another run inside the window (a push, a click) leaves them too.
        await syncNow(w);
        assert.deepEqual(await blockIds(w, work), blocks);

        const undo = await ann.request(`/api/rules/${rule.id}/undo`, { method: "POST" });
        assert.equal(undo.status, 200);
        assert.ok(undo.headers.get("etag"));
        const back = await undo.json();
        assert.equal(back.id, rule.id);
        assert.equal(back.enabled, true);
        assert.equal(back.name, "Personal into work");

        // The window passes and a run comes: nothing is removed.
        await assertDueInTen(w, jobId);
        h.clock.advance(11_000);
        await syncNow(w);
        assert.deepEqual(await blockIds(w, work), blocks);
        // The ledger is the same: a run finds every block in place and writes nothing.
        const run = await syncNow(w) as { outcome: string; rules?: { created: number }[] };
        assert.equal(run.outcome, "ok");
        assert.deepEqual(await blockIds(w, work), blocks);
        const again = await ann.request(`/api/rules/${rule.id}/undo`, { method: "POST" });
        assert.equal((await errorOf(again, 404)).code, "not_found");
      },
    );

    await t.step(
      "not undone: the blocks go once the clock passes 10 s; a late undo is 410",
      async () => {
        const res = await ann.request(`/api/rules/${rule.id}?undo=true`, {
          method: "PATCH",
          json: { enabled: false },
        });
        const jobId = res.headers.get(SYNC_RUN)!;
        await res.body?.cancel();
        await assertDueInTen(w, jobId);
        // Inside the window a run (any trigger) leaves them; once it has passed, one removes them.
        await syncNow(w);
        assert.equal((await blockIds(w, work)).length, 2);
        h.clock.advance(11_000);
        await syncNow(w);
        assert.deepEqual(await blockIds(w, work), []);
        const late = await ann.request(`/api/rules/${rule.id}/undo`, { method: "POST" });
        const error = await errorOf(late, 410);
        assert.equal(error.code, "undo_expired");
        assert.match(error.message, /Too late to undo: the rule's busy blocks were removed/);
        const on = await ann.request(`/api/rules/${rule.id}`, {
          method: "PATCH",
          json: { enabled: true },
        });
        await on.body?.cancel();
        await h.scheduler.wait(w.annId, on.headers.get(SYNC_RUN)!, 20_000);
        assert.equal((await blockIds(w, work)).length, 2);
      },
    );

    await t.step("without ?undo=true it stays immediate and offers nothing to undo", async () => {
      const before = await blockIds(w, work);
      const res = await ann.request(`/api/rules/${rule.id}`, {
        method: "PATCH",
        json: { enabled: false },
      });
      const body = await res.json();
      assert.equal(body.undo, undefined);
      await h.scheduler.wait(w.annId, res.headers.get(SYNC_RUN)!, 20_000);
      assert.deepEqual(await blockIds(w, work), []);
      const undo = await ann.request(`/api/rules/${rule.id}/undo`, { method: "POST" });
      assert.equal((await errorOf(undo, 404)).code, "not_found");
      const on = await ann.request(`/api/rules/${rule.id}`, {
        method: "PATCH",
        json: { enabled: true },
      });
      await on.body?.cancel();
      await h.scheduler.wait(w.annId, on.headers.get(SYNC_RUN)!, 20_000);
      assert.equal(before.length, 2);
      assert.equal((await blockIds(w, work)).length, 2);
    });

    await t.step("deleted: Undo brings back the same rule id with its blocks", async () => {
      const kept = await blockIds(w, work);
      const stored = await (await ann.request(`/api/rules/${rule.id}`)).json();
      const res = await ann.request(`/api/rules/${rule.id}?undo=true`, { method: "DELETE" });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.mirrors, "removing");
      assert.equal(body.undo.blocks, 2);
      assert.equal((await ann.request(`/api/rules/${rule.id}`)).status, 404);
      const listed = await (await ann.request("/api/rules")).json();
      assert.equal(listed.items.length, 0);

      // Another user cannot undo it: 404, as for any id not theirs.
      const bob = h.client("192.0.2.2");
      await bob.signIn(BOB);
      const theirs = await bob.request(`/api/rules/${rule.id}/undo`, { method: "POST" });
      assert.equal((await errorOf(theirs, 404)).code, "not_found");

      const undo = await ann.request(`/api/rules/${rule.id}/undo`, { method: "POST" });
      assert.equal(undo.status, 200);
      const back = await undo.json();
      assert.deepEqual(back, stored);
      h.clock.advance(11_000);
      await syncNow(w);
      assert.deepEqual(await blockIds(w, work), kept);
      const read = await ann.request(`/api/rules/${rule.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.headers.get("etag"), undo.headers.get("etag"));
      await read.body?.cancel();
      // Deleted for good, a late undo says the blocks were removed.
      const gone = await ann.request(`/api/rules/${rule.id}?undo=true`, { method: "DELETE" });
      await gone.body?.cancel();
      h.clock.advance(11_000);
      await syncNow(w);
      assert.deepEqual(await blockIds(w, work), []);
      const late = await ann.request(`/api/rules/${rule.id}/undo`, { method: "POST" });
      assert.equal((await errorOf(late, 410)).code, "undo_expired");
    });

    await t.step("groups: turned off and deleted, each undone with their blocks kept", async () => {
      const created = await ann.request("/api/groups", {
        method: "POST",
        json: { name: "Main and work", members: [{ calendar: cal.main }, { calendar: cal.work }] },
      });
      const group = await created.json();
      await h.scheduler.wait(w.annId, created.headers.get(SYNC_RUN)!, 20_000);
      await syncNow(w);
      const kept = await blockIds(w, work);
      assert.equal(kept.length, 2);

      const off = await ann.request(`/api/groups/${group.id}?undo=true`, {
        method: "PATCH",
        json: { enabled: false },
      });
      const offBody = await off.json();
      assert.equal(offBody.enabled, false);
      assert.equal(offBody.undo.blocks, 2);
      assert.equal(offBody.undo.url, `/api/groups/${group.id}/undo`);
      const wrongKind = await ann.request(`/api/rules/${group.id}/undo`, { method: "POST" });
      assert.equal(wrongKind.status, 404);
      await wrongKind.body?.cancel();
      const on = await ann.request(`/api/groups/${group.id}/undo`, { method: "POST" });
      assert.equal(on.status, 200);
      assert.equal((await on.json()).enabled, true);

      const del = await ann.request(`/api/groups/${group.id}?undo=true`, { method: "DELETE" });
      assert.equal((await del.json()).undo.blocks, 2);
      assert.equal((await ann.request(`/api/groups/${group.id}`)).status, 404);
      const back = await ann.request(`/api/groups/${group.id}/undo`, { method: "POST" });
      assert.equal(back.status, 200);
      assert.equal((await back.json()).id, group.id);
      h.clock.advance(11_000);
      await syncNow(w);
      assert.deepEqual(await blockIds(w, work), kept);
    });
  } finally {
    await h.close();
  }
});
