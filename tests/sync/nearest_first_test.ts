import assert from "node:assert/strict";
import { updateRule } from "../../lib/db/rules.ts";
import { type RawEvent, timed, withWorld, type World, writesIn } from "./support.ts";
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";

const DAY_H = 24;

/** Events listed far ones first: the emulator lists in creation order, as Google may. */
async function seedFarFirst(world: World, cal: CalendarRef, days: readonly number[]) {
  for (const day of [...days].sort((a, b) => b - a)) {
    await world.addEvent(cal, timed(day * DAY_H + 2, { summary: `day ${day}` }));
  }
}

const NEAR = [0, 1, 3, 6, 9, 13];
const FAR = [15, 20, 25, 30, 40, 50];
const startsWithinDays = (m: RawEvent, days: number) =>
  Date.parse(m.start.dateTime) < Date.now() + days * DAY_H * 3_600_000;

Deno.test("sync: the nearest days first", async (t) => {
  await withWorld(async (world) => {
    await t.step(
      "a new rule's next 14 days are mirrored before the full listing is even read",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await seedFarFirst(world, p.cal.src, [...FAR, ...NEAR]);
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        // The first pass lists the source and the target over the next days (two calls); the
        // third listing, the whole window, fails (every retry of it): what exists then is the
        // first pass's work.
        await world.admin("POST", "faults", {
          method: "events.list",
          fault: "serviceUnavailable",
          after: 2,
        });
        await world.sync(p);
        await world.admin("DELETE", "faults");
        const mirrors = await world.mirrors(p.cal.dst);
        assert.equal(mirrors.length, NEAR.length, JSON.stringify(mirrors.map((m) => m.start)));
        assert.ok(mirrors.every((m) => startsWithinDays(m, 14)));
      },
    );

    await t.step(
      "the full pass finds the first pass's blocks as they are: one insert per event in all",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await seedFarFirst(world, p.cal.src, [...FAR, ...NEAR]);
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        await world.takeRequests();
        const result = await world.sync(p);
        const counts = await world.takeRequests();
        assert.equal(counts["events.insert"], NEAR.length + FAR.length, JSON.stringify(counts));
        assert.equal(writesIn(counts), NEAR.length + FAR.length, JSON.stringify(counts));
        assert.equal((await world.mirrors(p.cal.dst)).length, NEAR.length + FAR.length);
        const run = result.status === "completed" ? result.run : undefined;
        assert.equal(run?.outcome, "ok");
        assert.equal(run?.rules[0].created, NEAR.length + FAR.length);
        assert.equal(run?.rules[0].restored ?? 0, 0);

        // Caught up now: the next run is a plain incremental one, with no first pass.
        await world.sync(p);
        const after = await world.takeRequests();
        assert.deepEqual(after, { "events.list": 1 });
      },
    );

    await t.step(
      "an edited rule patches the next days first, then the rest, each block once",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await seedFarFirst(world, p.cal.src, [...FAR, ...NEAR]);
        const rule = await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        await world.sync(p);
        await updateRule(world.kv, p.userId, rule.id, { title: "Away" }, { now: new Date() });
        await world.admin("POST", "faults", {
          method: "events.list",
          fault: "serviceUnavailable",
          after: 1,
        });
        await world.takeRequests();
        await world.sync(p);
        await world.admin("DELETE", "faults");
        const titles = (await world.mirrors(p.cal.dst)).map((
          m,
        ) => [startsWithinDays(m, 14), m.summary]);
        assert.deepEqual(
          titles,
          [...NEAR.map(() => [true, "Away"]), ...FAR.map(() => [false, "Busy"])],
        );
        await world.sync(p);
        const counts = await world.takeRequests();
        assert.equal(counts["events.patch"], NEAR.length + FAR.length, JSON.stringify(counts));
        assert.equal(writesIn(counts), NEAR.length + FAR.length, JSON.stringify(counts));
        assert.ok((await world.mirrors(p.cal.dst)).every((m) => m.summary === "Away"));
      },
    );

    await t.step(
      "a rule whose window ends within the next days has only its own window mirrored",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await seedFarFirst(world, p.cal.src, [...FAR, ...NEAR]);
        await world.aRule(p, {
          source: p.cal.src,
          target: p.cal.dst,
          window: { daysBack: 0, daysAhead: 5 },
        });
        await world.takeRequests();
        await world.sync(p);
        const counts = await world.takeRequests();
        assert.equal(writesIn(counts), 3, JSON.stringify(counts));
        assert.equal((await world.mirrors(p.cal.dst)).length, 3);
      },
    );
  });
});
