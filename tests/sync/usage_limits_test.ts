/**
 * Google's Calendar usage limits (notes §10, support.google.com/a/answer/2905486): creating
 * about 10,000 events in a short time makes an account's calendars read-only for hours. The
 * engine spends a daily creation budget per Google account, soonest events first, and pauses
 * writes into an account Google answered 403 quotaExceeded for.
 */
import assert from "node:assert/strict";
import { listWritePauses, reserveCreates } from "../../lib/db/account_limits.ts";
import { deleteRule, getRule, listMirrorRemovals } from "../../lib/db/rules.ts";
import { openIncidents } from "../../lib/notify/incidents.ts";
import type { RunSummary } from "../../lib/sync/engine.ts";
import type { SyncConfig } from "../../lib/sync/run_context.ts";
import { type RawEvent, timed, withWorld, writesIn } from "./support.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function runOf(result: RunSummary) {
  assert.equal(result.status, "completed");
  return (result as Extract<RunSummary, { status: "completed" }>).run;
}

const configWith = (accountLimits: SyncConfig["accountLimits"]): SyncConfig => ({
  deleteGuard: { percent: 20, min: 10 },
  historyMaxRuns: 50,
  historyMaxDays: 7,
  accountLimits,
});

const startsOf = (events: RawEvent[]) => events.map((e) => e.start.dateTime).sort();

Deno.test("sync under Google's Calendar usage limits", async (t) => {
  await withWorld(async (world) => {
    await t.step(
      "creations beyond the account's daily budget wait for the next UTC day, the soonest made first; the rule stays ok",
      async () => {
        const hours = [7, 2, 5, 3, 6, 4];
        const p = await world.aPerson({ a: "UTC", b: "UTC" }, {
          a: hours.map((h) => timed(24 + h, { summary: `in ${h}h` })),
        });
        await world.connect(p);
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        const config = configWith({ createsPerDay: 4, pauseHours: 6 });
        // The budget is per UTC day: an hour later must be the same day whenever the suite runs
        // (at 23:30 UTC it would be the next one), so late in the day the run is set earlier.
        const now = Math.min(Date.now(), Math.floor(Date.now() / DAY) * DAY + 20 * HOUR);

        const first = runOf(await world.sync(p, { config, clock: () => new Date(now) }));
        const made = await world.mirrors(p.cal.b);
        const sources = await world.events(p.cal.a);
        const soonest = startsOf(sources).slice(0, 4);
        assert.deepEqual(startsOf(made), soonest, "the four soonest have their busy block");
        const spent = first.errors.find((e) => e.error === "CreationBudgetSpent");
        assert.match(spent?.message ?? "", /^2 busy blocks wait for tomorrow/);
        assert.equal((await getRule(world.kv, p.userId, rule.id))!.rule.status, "ok");

        await world.takeRequests();
        await world.sync(p, { config, clock: () => new Date(now + HOUR) });
        assert.equal((await world.takeRequests())["events.insert"] ?? 0, 0, "budget spent");
        assert.equal((await world.mirrors(p.cal.b)).length, 4);

        const tomorrow = new Date(now + 24 * HOUR);
        const next = runOf(await world.sync(p, { config, clock: () => tomorrow }));
        assert.equal(next.outcome, "ok");
        assert.deepEqual(startsOf(await world.mirrors(p.cal.b)), startsOf(sources));
      },
    );

    await t.step(
      "a 403 quotaExceeded pauses writes into that account for the configured hours, with a dashboard incident that ends by itself",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" }, {
          // More than the engine's 8 writes in flight, so some are never sent once it pauses.
          a: Array.from({ length: 12 }, (_, i) => timed(i + 1, { summary: `in ${i + 1}h` })),
        });
        const connection = await world.connect(p);
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        const config = configWith({ createsPerDay: 1000, pauseHours: 6 });
        const now = Date.now();
        await world.admin("POST", "usage-limits", { createsPerDay: 3, readOnlyHours: 1 });
        try {
          await world.takeRequests();
          const first = runOf(await world.sync(p, { config, clock: () => new Date(now) }));
          const inserts = (await world.takeRequests())["events.insert"];
          assert.equal((await world.mirrors(p.cal.b)).length, 3);
          const account = { issuer: connection.issuer, sub: connection.sub };
          const left = await reserveCreates(world.kv, account, {
            wanted: 1000,
            perDay: 1000,
            now: new Date(now),
          });
          assert.equal(1000 - left, inserts, "budget the pause left unsent was given back");
          const paused = first.errors.find((e) => e.error === "WritesPaused");
          assert.match(paused?.message ?? "", /read-only/);
          const stored = (await getRule(world.kv, p.userId, rule.id))!.rule;
          assert.equal(stored.status, "ok", "the rule itself is fine");
          const incidents = openIncidents(
            [connection],
            [stored],
            await listWritePauses(world.kv, [connection], new Date(now + HOUR)),
          );
          assert.deepEqual(incidents.map((i) => i.kind), ["account_write_paused"]);

          await world.takeRequests();
          const later = new Date(now + 2 * HOUR);
          const held = runOf(await world.sync(p, { config, clock: () => later }));
          const calls = await world.takeRequests();
          assert.equal(writesIn(calls), 0, "no write is tried while paused");
          assert.ok((calls["events.list"] ?? 0) > 0, "reads go on");
          assert.ok(held.errors.some((e) => e.error === "WritesPaused"));
        } finally {
          await world.admin("POST", "usage-limits", { createsPerDay: null, clear: true });
        }

        const after = new Date(now + 6 * HOUR + 1);
        const resumed = runOf(await world.sync(p, { config, clock: () => after }));
        assert.equal(resumed.outcome, "ok");
        assert.equal((await world.mirrors(p.cal.b)).length, 12);
        assert.deepEqual(await listWritePauses(world.kv, [connection], after), []);
      },
    );

    await t.step(
      "while paused, a rule deleted with its mirrors deletes nothing and keeps its request; afterwards they go",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" }, {
          a: [1, 2].map((h) => timed(h, { summary: `in ${h}h` })),
        });
        await world.connect(p);
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        const config = configWith({ createsPerDay: 1000, pauseHours: 6 });
        const now = Date.now();
        await world.sync(p, { config, clock: () => new Date(now) });
        assert.equal((await world.mirrors(p.cal.b)).length, 2);
        await world.admin("POST", "usage-limits", { createsPerDay: 0, readOnlyHours: 1 });
        try {
          await world.addEvent(p.cal.a, timed(3, { summary: "in 3h" }));
          await world.sync(p, { config, clock: () => new Date(now + HOUR) });
          await deleteRule(world.kv, p.userId, rule.id, { now: new Date(), removeMirrors: true });
          await world.takeRequests();
          await world.sync(p, { config, clock: () => new Date(now + 2 * HOUR) });
          assert.equal(writesIn(await world.takeRequests()), 0, "nothing is sent while paused");
          assert.equal((await world.mirrors(p.cal.b)).length, 2);
          assert.equal((await listMirrorRemovals(world.kv, p.userId)).length, 1);
        } finally {
          await world.admin("POST", "usage-limits", { createsPerDay: null, clear: true });
        }
        await world.sync(p, { config, clock: () => new Date(now + 7 * HOUR) });
        assert.deepEqual(await world.mirrors(p.cal.b), []);
        assert.deepEqual(await listMirrorRemovals(world.kv, p.userId), []);
      },
    );
  });
});
