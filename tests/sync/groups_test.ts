import assert from "node:assert/strict";
import { getGroup } from "../../lib/db/groups.ts";
import { adoptRulesIntoGroup, deleteGroup, updateGroup } from "../../lib/db/group_changes.ts";
import { getRule, RuleDuplicateError, RuleRejectedError } from "../../lib/db/rules.ts";
import { GroupInputSchema } from "../../lib/model/group.ts";
import { removeRuleMirrors } from "../../lib/sync/engine.ts";
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";
import {
  type Person,
  type RawEvent,
  summaries,
  timed,
  withWorld,
  type World,
  writesIn,
} from "./support.ts";

/** The source calendar each mirror in `cal` was made from, by the seeded calendar's name. */
async function originsIn(world: World, p: Person, cal: CalendarRef): Promise<string[]> {
  const names = new Map(
    Object.entries(p.cal).map(([name, ref]) => [
      `${ref.connectionId}:${ref.calendarId}`,
      name,
    ]),
  );
  return (await world.mirrors(cal))
    .map((m: RawEvent) => names.get(m.extendedProperties.private.busysyncSource) ?? "?")
    .sort();
}

const completed = (r: Awaited<ReturnType<World["sync"]>>) => {
  assert.equal(r.status, "completed");
  return r.status === "completed" ? r.run : undefined!;
};

Deno.test("sync groups", async (t) => {
  await withWorld(async (world) => {
    await t.step(
      "three calendars block each other after one run, nothing carried further, nothing twice",
      async () => {
        const p = await world.aPerson({ personal: "UTC", work: "UTC", family: "UTC" });
        await world.addEvent(p.cal.personal, timed(2, { summary: "Dentist" }));
        await world.addEvent(p.cal.work, timed(4, { summary: "Standup" }));
        await world.addEvent(p.cal.family, timed(6, { summary: "School play" }));
        const group = await world.aGroup(p, {
          members: [p.cal.personal, p.cal.work, p.cal.family],
        });

        const run = completed(await world.sync(p));
        assert.equal(run.outcome, "ok");
        assert.deepEqual(await originsIn(world, p, p.cal.personal), ["family", "work"]);
        assert.deepEqual(await originsIn(world, p, p.cal.work), ["family", "personal"]);
        assert.deepEqual(await originsIn(world, p, p.cal.family), ["personal", "work"]);
        assert.deepEqual(summaries(await world.mirrors(p.cal.work)), ["Busy", "Busy"]);
        assert.deepEqual(
          run.rules.map((r) => [r.ruleId, r.kind, r.created, r.status]),
          [[group.id, "group", 6, "ok"]],
        );

        // The same event mirrored into two members has two ids: edges never share a mirror id.
        const ids = [
          ...(await world.mirrors(p.cal.work)),
          ...(await world.mirrors(p.cal.family)),
        ].map((m) => m.id);
        assert.equal(new Set(ids).size, ids.length);

        await world.takeRequests();
        const again = completed(await world.sync(p));
        const counts = await world.takeRequests();
        assert.equal(writesIn(counts), 0, JSON.stringify(counts));
        // Each member listed once however many edges read it.
        assert.equal(again.apiCalls.listPages, 3);
      },
    );

    await t.step(
      "a member joins and leaves: it is filled in and fills the others; leaving removes its blocks both ways",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC", c: "UTC", d: "UTC" });
        for (const [i, name] of ["a", "b", "c", "d"].entries()) {
          await world.addEvent(p.cal[name], timed(2 + i, { summary: name }));
        }
        const group = await world.aGroup(p, { members: [p.cal.a, p.cal.b] });
        await world.sync(p);
        const before = (await world.mirrors(p.cal.b)).map((m) => m.id);

        const stored = (await getGroup(world.kv, p.userId, group.id))!;
        await updateGroup(world.kv, p.userId, group.id, {
          members: [...stored.group.members, { calendar: p.cal.c }, { calendar: p.cal.d }],
        }, { now: new Date() });
        completed(await world.sync(p));
        assert.deepEqual(await originsIn(world, p, p.cal.a), ["b", "c", "d"]);
        assert.deepEqual(await originsIn(world, p, p.cal.d), ["a", "b", "c"]);
        // The edges that were there keep their mirrors under the same ids.
        const kept = (await world.mirrors(p.cal.b)).map((m) => m.id);
        assert.ok(before.every((id) => kept.includes(id)));

        // "b" leaves (the member in second place: later members' edges keep their ids).
        const cBlocks = (await world.mirrors(p.cal.c)).map((m) => m.id).sort();
        await updateGroup(world.kv, p.userId, group.id, {
          members: [{ calendar: p.cal.a }, { calendar: p.cal.c }, { calendar: p.cal.d }],
        }, { now: new Date() });
        const run = completed(await world.sync(p));
        assert.equal(run.outcome, "ok");
        assert.deepEqual(await originsIn(world, p, p.cal.a), ["c", "d"]);
        assert.deepEqual(await originsIn(world, p, p.cal.c), ["a", "d"]);
        assert.deepEqual(await originsIn(world, p, p.cal.b), []);
        assert.deepEqual(summaries(await world.events(p.cal.b)), ["b"]);
        const cAfter = (await world.mirrors(p.cal.c)).map((m) => m.id);
        assert.ok(cAfter.every((id) => cBlocks.includes(id)), "no block re-created");
      },
    );

    await t.step(
      "one privacy for the group, a member's own for the blocks made from its events",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC", c: "UTC" });
        await world.addEvent(p.cal.a, timed(2, { summary: "Open house" }));
        await world.addEvent(p.cal.b, timed(3, { summary: "Therapy" }));
        const group = await world.aGroup(p, {
          members: [{ calendar: p.cal.a, privacy: "title" }, p.cal.b, p.cal.c],
        });
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.c)), ["Open house", "Busy"]);
        assert.deepEqual(summaries(await world.mirrors(p.cal.a)), ["Busy"]);

        await updateGroup(world.kv, p.userId, group.id, {
          members: [{ calendar: p.cal.a }, { calendar: p.cal.b }, { calendar: p.cal.c }],
        }, { now: new Date() });
        const run = completed(await world.sync(p));
        assert.deepEqual(summaries(await world.mirrors(p.cal.c)), ["Busy", "Busy"]);
        assert.equal(run.rules[0].updated, 2, "patched in place, not re-created");
        assert.equal(run.rules[0].created, 0);
      },
    );

    await t.step("a calendar the user may only read takes part as a source only", async () => {
      const p = await world.aPerson({ mine: "UTC", shared: "UTC" });
      await world.addEvent(p.cal.shared, timed(2, { summary: "Team offsite" }));
      await world.addEvent(p.cal.mine, timed(3, { summary: "Mine" }));
      await world.cacheCalendars(p, { shared: "reader" });
      await world.aGroup(p, { members: [p.cal.mine, p.cal.shared] });
      const run = completed(await world.sync(p));
      assert.equal(run.outcome, "ok");
      assert.deepEqual(await originsIn(world, p, p.cal.mine), ["shared"]);
      assert.deepEqual(summaries(await world.events(p.cal.shared)), ["Team offsite"]);
    });

    await t.step(
      "off, on and deleted: blocks go, come back, and go with nothing left",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC", c: "UTC" });
        for (const [i, name] of ["a", "b", "c"].entries()) {
          await world.addEvent(p.cal[name], timed(2 + i, { summary: name }));
        }
        const group = await world.aGroup(p, { members: [p.cal.a, p.cal.b, p.cal.c] });
        await world.sync(p);
        await updateGroup(world.kv, p.userId, group.id, { enabled: false }, {
          now: new Date(),
          removeMirrors: true,
        });
        await removeRuleMirrors(world.syncDeps(p));
        for (const name of ["a", "b", "c"]) assert.deepEqual(await world.mirrors(p.cal[name]), []);

        await updateGroup(world.kv, p.userId, group.id, { enabled: true }, { now: new Date() });
        await world.sync(p);
        assert.deepEqual(await originsIn(world, p, p.cal.b), ["a", "c"]);

        await deleteGroup(world.kv, p.userId, group.id, { now: new Date(), removeMirrors: true });
        await world.sync(p);
        for (const name of ["a", "b", "c"]) {
          assert.deepEqual(summaries(await world.events(p.cal[name])), [name]);
        }
      },
    );

    await t.step(
      "rules become a group that adopts their blocks: nothing deleted or made again, the guard quiet",
      async () => {
        const p = await world.aPerson({ personal: "UTC", work: "UTC", family: "UTC" });
        for (let i = 0; i < 12; i++) {
          await world.addEvent(p.cal.personal, timed(2 + i, { summary: `p${i}` }));
        }
        await world.addEvent(p.cal.family, timed(30, { summary: "f" }));
        await world.addEvent(p.cal.work, timed(40, { summary: "w" }));
        const toWork = await world.aRule(p, { source: p.cal.personal, target: p.cal.work });
        const withFamily = await world.aRule(p, {
          source: p.cal.personal,
          target: p.cal.family,
          bidirectional: true,
        });
        await assert.rejects(
          world.aRule(p, { source: p.cal.work, target: p.cal.family }),
          (err: Error) => err instanceof RuleRejectedError && /make them a group/.test(err.message),
        );
        await world.sync(p);
        const idsBefore = new Map<string, string[]>();
        for (const name of ["personal", "work", "family"]) {
          idsBefore.set(name, (await world.mirrors(p.cal[name])).map((m) => m.id).sort());
        }
        const entries = [
          (await getRule(world.kv, p.userId, toWork.id))!,
          (await getRule(world.kv, p.userId, withFamily.id))!,
        ];
        const input = GroupInputSchema.parse({
          name: "Everything",
          members: [{ calendar: p.cal.personal }, { calendar: p.cal.work }, {
            calendar: p.cal.family,
          }],
        });
        const { group } = await adoptRulesIntoGroup(world.kv, p.userId, input, entries, {
          now: new Date(),
        });
        assert.equal(await getRule(world.kv, p.userId, toWork.id), null);

        const run = completed(await world.sync(p, { full: true }));
        assert.equal(run.outcome, "ok", JSON.stringify(run.errors));
        const counts = run.rules.find((r) => r.ruleId === group.id)!;
        assert.equal(counts.status, "ok");
        assert.equal(counts.deleted, 0);
        // Only what the rules did not do: work → personal, work → family, family → work.
        assert.equal(counts.created, 3);
        for (const name of ["personal", "work", "family"]) {
          const now = (await world.mirrors(p.cal[name])).map((m) => m.id);
          assert.ok(idsBefore.get(name)!.every((id) => now.includes(id)), name);
        }
        assert.deepEqual(await originsIn(world, p, p.cal.work), [
          "family",
          ...Array(12).fill("personal"),
        ]);
        assert.deepEqual(await originsIn(world, p, p.cal.personal), ["family", "work"]);

        await world.takeRequests();
        await world.sync(p, { full: true });
        assert.equal(writesIn(await world.takeRequests()), 0);
      },
    );

    await t.step("a plain rule beside a group may not close a cycle with it", async () => {
      const p = await world.aPerson({ a: "UTC", b: "UTC", c: "UTC" });
      await world.aGroup(p, { members: [p.cal.a, p.cal.b] });
      await world.aRule(p, { source: p.cal.b, target: p.cal.c });
      await assert.rejects(
        world.aRule(p, { source: p.cal.c, target: p.cal.a }),
        RuleRejectedError,
      );
    });

    await t.step(
      "a rule or group mirroring a pair a group or rule already covers is refused",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC", c: "UTC" });
        await world.aGroup(p, { members: [p.cal.a, p.cal.b], name: "A and B" });
        await assert.rejects(
          world.aRule(p, { source: p.cal.b, target: p.cal.a }),
          (err: Error) => err instanceof RuleDuplicateError && /"A and B"/.test(err.message),
        );
        await world.aRule(p, { source: p.cal.c, target: p.cal.a, name: "C to A" });
        await assert.rejects(
          world.aGroup(p, { members: [p.cal.a, p.cal.c] }),
          (err: Error) => err instanceof RuleDuplicateError && /"C to A"/.test(err.message),
        );
      },
    );
  });
});
