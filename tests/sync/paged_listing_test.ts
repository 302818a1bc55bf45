/**
 * A full listing is planned and written a page at a time (the run never holds a whole
 * calendar): these steps page a small world (four events a page) and check what that changes
 * for a person: a listing that fails part-way keeps the busy blocks of the pages it read and
 * removes nothing, and the delete guard, which can only weigh removals once the listing is
 * complete, holds back the removals and not the new busy blocks.
 */
import assert from "node:assert/strict";
import { getRule, updateRule } from "../../lib/db/rules.ts";
import { summaries, timed, withWorld } from "./support.ts";

const DAY_HOURS = 24;
/** Past the first pass's 14 days, so that pass lists nothing and writes nothing. */
const LATER = 20 * DAY_HOURS;

Deno.test("a full listing in pages", async (t) => {
  await withWorld(async (world) => {
    await t.step(
      "a listing that fails part-way keeps the pages it wrote and removes nothing until one completes",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" }, {
          src: Array.from({ length: 10 }, (_, i) => timed(LATER + i, { summary: `e${i}` })),
        });
        const rule = await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        const first = await world.sync(p);
        assert.equal(first.status === "completed" && first.run.outcome, "ok");
        assert.equal((await world.mirrors(p.cal.dst)).length, 10, "three pages, all mirrored");

        const [gone] = await world.events(p.cal.src);
        await world.deleteEvent(p.cal.src, gone.id);
        // A new title rewrites every busy block, and the edited rule lists its source in full.
        await updateRule(world.kv, p.userId, rule.id, { title: "Held" }, { now: new Date() });
        // The first pass's listing and the first page go through; the second page fails.
        await world.admin("POST", "faults", {
          method: "events.list",
          fault: "backendError",
          after: 2,
          times: 20,
        });
        const failed = await world.sync(p);
        await world.admin("DELETE", "faults");
        assert.ok(failed.status === "completed");
        assert.equal(failed.run.outcome, "partial");
        const cause = failed.run.errors.find((e) => e.ruleId === rule.id);
        assert.ok(cause, "the failure is in the history, on the rule");
        const during = await world.mirrors(p.cal.dst);
        assert.equal(during.length, 10, "the deleted event's busy block waits for a whole listing");
        assert.equal(
          summaries(during).filter((s) => s === "Held").length,
          4,
          "the page read before the failure was written",
        );

        const next = await world.sync(p);
        assert.equal(next.status === "completed" && next.run.outcome, "ok");
        const after = await world.mirrors(p.cal.dst);
        assert.equal(after.length, 9);
        assert.ok(summaries(after).every((s) => s === "Held"));
      },
    );

    await t.step(
      "the delete guard holds back a full listing's removals, not its new busy blocks",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" }, {
          src: Array.from({ length: 14 }, (_, i) => timed(LATER + i)),
        });
        const rule = await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        await world.sync(p);
        for (const e of (await world.events(p.cal.src)).slice(0, 12)) {
          await world.deleteEvent(p.cal.src, e.id);
        }
        await world.addEvent(p.cal.src, timed(LATER + 30, { summary: "new" }));

        await world.sync(p, { full: true });
        const stored = await getRule(world.kv, p.userId, rule.id);
        assert.equal(stored?.rule.status, "needs_confirmation");
        assert.match(stored?.rule.statusReason ?? "", /would delete 11 of 14 mirrors/);
        assert.equal((await world.mirrors(p.cal.dst)).length, 15, "nothing removed, one added");

        await world.sync(p, { trigger: "confirm", confirmRuleIds: [rule.id] });
        assert.equal((await world.mirrors(p.cal.dst)).length, 3);
        assert.equal((await getRule(world.kv, p.userId, rule.id))?.rule.status, "ok");
      },
    );
  }, { pageSize: 4, maxAttempts: 2 });
});
