import assert from "node:assert/strict";
import { listRuns } from "../../lib/db/history.ts";
import { summaries, timed, withWorld, writesIn } from "./support.ts";

Deno.test("sync basics", async (t) => {
  await withWorld(async (world) => {
    await t.step("one-way: busy events of the source appear as private 'Busy' blocks", async () => {
      const p = await world.aPerson({ work: "UTC", home: "UTC" });
      await world.addEvent(p.cal.work, timed(2, { summary: "Board meeting" }));
      await world.addEvent(p.cal.work, timed(5, { summary: "1:1" }));
      const rule = await world.aRule(p, { source: p.cal.work, target: p.cal.home });

      const result = await world.sync(p);
      assert.equal(result.status, "completed");
      const mirrors = await world.mirrors(p.cal.home);
      assert.deepEqual(summaries(mirrors), ["Busy", "Busy"]);
      assert.ok(mirrors.every((m) => m.visibility === "private" && !m.location));
      assert.deepEqual(summaries(await world.events(p.cal.work)), ["Board meeting", "1:1"]);
      const run = result.status === "completed" ? result.run : undefined;
      assert.equal(run?.outcome, "ok");
      assert.deepEqual(
        run?.rules.map((r) => [r.ruleId, r.created, r.deleted]),
        [[rule.id, 2, 0]],
      );
    });

    await t.step(
      "both ways: each side gets the other's busy time and nothing ping-pongs",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        await world.addEvent(p.cal.a, timed(3, { summary: "A only" }));
        await world.addEvent(p.cal.b, timed(4, { summary: "B only" }));
        await world.aRule(p, { source: p.cal.a, target: p.cal.b, bidirectional: true });

        await world.sync(p);
        assert.deepEqual(summaries(await world.events(p.cal.a)), ["A only", "Busy"]);
        assert.deepEqual(summaries(await world.events(p.cal.b)), ["Busy", "B only"]);

        await world.takeRequests();
        await world.sync(p);
        const counts = await world.takeRequests();
        assert.equal(writesIn(counts), 0, JSON.stringify(counts));
        assert.equal((await world.events(p.cal.a)).length, 2);
        assert.equal((await world.events(p.cal.b)).length, 2);
      },
    );

    await t.step(
      "three sources into one target: every source's busy time lands there",
      async () => {
        const p = await world.aPerson({ main: "UTC", s1: "UTC", s2: "UTC", s3: "UTC" });
        for (const [i, name] of ["s1", "s2", "s3"].entries()) {
          await world.addEvent(p.cal[name], timed(2 + i, { summary: name }));
          await world.aRule(p, { source: p.cal[name], target: p.cal.main, privacy: "title" });
        }
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.main)), ["s1", "s2", "s3"]);
      },
    );

    await t.step("a no-change sync lists each source once and writes nothing", async () => {
      const p = await world.aPerson({ s1: "UTC", s2: "UTC", t1: "UTC", t2: "UTC" });
      await world.addEvent(p.cal.s1, timed(2));
      await world.addEvent(p.cal.s2, timed(3));
      // s1 feeds two rules: still one listing of it per run.
      await world.aRule(p, { source: p.cal.s1, target: p.cal.t1 });
      await world.aRule(p, { source: p.cal.s1, target: p.cal.t2 });
      await world.aRule(p, { source: p.cal.s2, target: p.cal.t1 });
      await world.sync(p);

      await world.takeRequests();
      await world.sync(p);
      const counts = await world.takeRequests();
      assert.deepEqual(counts, { "events.list": 2 });
    });

    await t.step(
      "update, move and delete in the source reach the mirror, one write each",
      async () => {
        const p = await world.aPerson({ work: "UTC", home: "UTC" });
        const keep = await world.addEvent(p.cal.work, timed(2, { summary: "Stays" }));
        const move = await world.addEvent(p.cal.work, timed(4, { summary: "Moves" }));
        const gone = await world.addEvent(p.cal.work, timed(6, { summary: "Goes" }));
        await world.aRule(p, { source: p.cal.work, target: p.cal.home, privacy: "title" });
        await world.sync(p);

        await world.patchEvent(p.cal.work, keep.id, { summary: "Renamed" });
        const later = timed(30);
        await world.patchEvent(p.cal.work, move.id, { start: later.start, end: later.end });
        await world.deleteEvent(p.cal.work, gone.id);
        await world.takeRequests();
        await world.sync(p);
        const counts = await world.takeRequests();

        const mirrors = await world.mirrors(p.cal.home);
        assert.deepEqual(summaries(mirrors), ["Renamed", "Moves"]);
        assert.equal(Date.parse(mirrors[1].start.dateTime), Date.parse(later.start.dateTime));
        // Every request the emulator saw: one listing, then one write per change. The mirrors
        // are the ledger's, so the rename and the move are one patch each, without the
        // insert (409) → get an unknown id costs first.
        assert.deepEqual(counts, { "events.list": 1, "events.patch": 2, "events.delete": 1 });
      },
    );

    await t.step("history: each run is recorded, newest first, with API calls used", async () => {
      const p = await world.aPerson({ work: "UTC", home: "UTC" });
      await world.addEvent(p.cal.work, timed(2));
      await world.aRule(p, { source: p.cal.work, target: p.cal.home });
      await world.sync(p, { trigger: "schedule" });
      await world.sync(p, { trigger: "manual" });
      const { items } = await listRuns(world.kv, p.userId);
      assert.deepEqual(items.map((r) => r.trigger), ["manual", "schedule"]);
      assert.equal(items[1].apiCalls.putMirror, 1);
      assert.ok((items[1].apiCalls.requests ?? 0) >= 2);
      assert.equal(items[0].apiCalls.putMirror, 0);
    });
  });
});
