/**
 * Writes that hold on real Google (notes §10): reserved ids, writes that check themselves,
 * series edits without tombstones, and a history that says what each write did. Each step
 * teaches the emulator's behaviour to a fresh person and runs the real engine against it.
 */
import assert from "node:assert/strict";
import { forgetLedger } from "../../lib/db/ledger.ts";
import { acquireLease } from "../../lib/db/leases.ts";
import { listIntents, recordIntents } from "../../lib/db/write_intents.ts";
import { buildEdges } from "../../lib/model/rule_graph.ts";
import { atGeneration, desiredMirror } from "../../lib/sync/mirror.ts";
import { ledgerEntryFor } from "../../lib/sync/plan.ts";
import { getRule } from "../../lib/db/rules.ts";
import { openIncidents } from "../../lib/notify/incidents.ts";
import type { RunSummary } from "../../lib/sync/engine.ts";
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";
import { type Person, type RawEvent, timed, withWorld, type World } from "./support.ts";

const HOUR = 3_600_000;

function runOf(result: RunSummary) {
  assert.equal(result.status, "completed");
  return (result as Extract<RunSummary, { status: "completed" }>).run;
}

const path = (cal: CalendarRef, ...rest: string[]) =>
  ["calendars", encodeURIComponent(cal.calendarId), ...rest].join("/");

async function statusOf(world: World, p: Person, ruleId: string) {
  const rule = (await getRule(world.kv, p.userId, ruleId))!.rule;
  return { status: rule.status, reason: rule.statusReason ?? "" };
}

/** A daily series of `count` one-hour instances starting `hours` from now. */
function daily(hours: number, count: number, extra: RawEvent = {}): RawEvent {
  const e = timed(hours, { summary: "Standup", recurrence: [`RRULE:FREQ=DAILY;COUNT=${count}`] });
  return {
    ...e,
    start: { ...e.start, timeZone: "UTC" },
    end: { ...e.end, timeZone: "UTC" },
    ...extra,
  };
}

Deno.test("sync against Google's write behaviours", async (t) => {
  await withWorld(async (world) => {
    const noQuirks = () =>
      world.admin("POST", "quirks", {
        assignOwnIds: false,
        dropExtendedProperties: false,
        undetectedCollisions: false,
      });

    await t.step(
      "a mirror whose id Google retired (deleted in the web UI, purged) comes back once under the next generation; the rule stays ok",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        const ev = await world.addEvent(p.cal.a, timed(2, { summary: "Dentist" }));
        const rule = await world.aRule(p, {
          source: p.cal.a,
          target: p.cal.b,
          bidirectional: true,
          privacy: "title",
        });
        await world.sync(p);
        const [first] = await world.mirrors(p.cal.b);
        // Deleted by the calendar's owner in the web UI: API writes to it answer 403 forbidden.
        await world.deleteEvent(p.cal.b, first.id);
        await world.admin("POST", "purge", { calendarId: p.cal.b.calendarId });
        await world.patchEvent(p.cal.a, ev.id, { summary: "Dentist (moved)" });
        await world.takeRequests();
        const run = runOf(await world.sync(p));
        assert.equal(run.outcome, "ok", JSON.stringify(run.errors));
        const mirrors = await world.mirrors(p.cal.b);
        assert.equal(mirrors.length, 1);
        assert.notEqual(mirrors[0].id, first.id);
        assert.equal(mirrors[0].extendedProperties.private.busysyncGen, "1");
        assert.deepEqual(await statusOf(world, p, rule.id), { status: "ok", reason: "" });
        // Both ways: the new mirror is still recognised as one and not mirrored back into a.
        const full = runOf(await world.sync(p, { full: true }));
        assert.equal(full.outcome, "ok");
        assert.deepEqual((await world.mirrors(p.cal.a)).length, 0);
        assert.deepEqual((await world.mirrors(p.cal.b)).map((m) => m.id), [mirrors[0].id]);
        const edits = full.rules.find((r) => r.ruleId === rule.id)!;
        assert.equal(edits.created + edits.updated + edits.deleted + edits.restored, 0);
      },
    );

    await t.step(
      "a server that assigns its own ids: the rule breaks with a cause in words, the stray event goes, no loop",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        await world.addEvent(p.cal.a, timed(2));
        await world.addEvent(p.cal.a, timed(4));
        const rule = await world.aRule(p, {
          source: p.cal.a,
          target: p.cal.b,
          bidirectional: true,
        });
        await world.admin("POST", "quirks", { assignOwnIds: true });
        try {
          const run = runOf(await world.sync(p));
          assert.equal(run.outcome, "partial");
          const { status, reason } = await statusOf(world, p, rule.id);
          assert.equal(status, "broken");
          assert.match(reason, /stored the busy block under an id of its own/);
          assert.deepEqual(await world.events(p.cal.b), [], "the stray was removed");
          await world.takeRequests();
          await world.sync(p);
          assert.equal((await world.takeRequests())["events.insert"] ?? 0, 0, "no more writes");
          assert.equal(
            openIncidents([], [(await getRule(world.kv, p.userId, rule.id))!.rule], [])[0].kind,
            "rule_broken",
          );
        } finally {
          await noQuirks();
        }
      },
    );

    await t.step(
      "a server that drops extendedProperties: broken, nothing unrecognisable left, no ping-pong",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        await world.addEvent(p.cal.a, timed(2));
        const rule = await world.aRule(p, {
          source: p.cal.a,
          target: p.cal.b,
          bidirectional: true,
        });
        await world.admin("POST", "quirks", { dropExtendedProperties: true });
        try {
          await world.sync(p);
          await world.sync(p);
          const { status, reason } = await statusOf(world, p, rule.id);
          assert.equal(status, "broken");
          assert.match(reason, /dropped the private marker/);
          assert.deepEqual(await world.events(p.cal.b), []);
          assert.equal((await world.events(p.cal.a)).length, 1, "nothing came back into a");
        } finally {
          await noQuirks();
        }
      },
    );

    await t.step(
      "an insert carried out whose answer was lost, and whose lookup failed, is found by the next run: no duplicate even where collisions go undetected",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        await world.addEvent(p.cal.a, timed(2));
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        await world.admin("POST", "quirks", { undetectedCollisions: true });
        await world.admin("POST", "faults", [
          { method: "events.insert", fault: "lostResponse", times: 1 },
          { method: "events.get", fault: "serviceUnavailable", times: 50 },
        ]);
        try {
          const first = runOf(await world.sync(p));
          assert.equal(first.outcome, "partial");
          await world.admin("DELETE", "faults");
          const second = runOf(await world.sync(p));
          assert.equal(second.outcome, "ok", JSON.stringify(second.errors));
          const mirrors = await world.mirrors(p.cal.b);
          assert.equal(mirrors.length, 1, "one mirror, not two");
          assert.equal((await world.events(p.cal.b)).length, 1);
          assert.equal((await statusOf(world, p, rule.id)).status, "ok");
        } finally {
          await world.admin("DELETE", "faults");
          await noQuirks();
        }
      },
    );

    await t.step(
      "a move to the next id generation whose answer was lost is taken up where it stopped, not undone",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        const ev = await world.addEvent(p.cal.a, timed(2, { summary: "Review" }));
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b, privacy: "title" });
        await world.sync(p);
        const [gen0] = await world.mirrors(p.cal.b);
        // What a crash mid-move leaves: gen 0 deleted in the web UI, the gen 1 insert carried
        // out and its intent recorded, the ledger still at gen 0.
        await world.deleteEvent(p.cal.b, gen0.id);
        const edge = buildEdges([rule])[0];
        const source = await world.sourceEvent(p.cal.a, ev.id);
        const decision = desiredMirror(source, edge, { now: new Date() });
        assert.ok(decision.kind === "mirror");
        const mirror = atGeneration(decision.mirror, edge, ev.id, 1);
        const entry = ledgerEntryFor(edge, source, mirror, 1);
        await world.provider.putMirror(p.cal.b, entry.mirrorId, mirror);
        const lease = (await acquireLease(world.kv, p.userId, {
          owner: "crashed-run",
          now: new Date(),
          ttlMs: 60_000,
        }))!;
        await recordIntents(lease, p.userId, edge, [entry]);
        await lease.abandon();

        await world.patchEvent(p.cal.a, ev.id, { summary: "Review (moved)" });
        await world.takeRequests();
        const run = runOf(await world.sync(p));
        assert.equal(run.outcome, "ok", JSON.stringify(run.errors));
        const requests = await world.takeRequests();
        assert.equal(requests["events.delete"] ?? 0, 0, JSON.stringify(requests));
        assert.equal(requests["events.insert"] ?? 0, 0, JSON.stringify(requests));
        const mirrors = await world.mirrors(p.cal.b);
        assert.deepEqual(mirrors.map((m) => [m.id, m.summary]), [[
          entry.mirrorId,
          "Review (moved)",
        ]]);
        assert.equal((await listIntents(world.kv, p.userId, edge)).size, 0, "intent settled");
      },
    );

    await t.step(
      "a series this calendar only holds some instances of (events.instances answers 404) removes nothing",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        const series = await world.addEvent(p.cal.a, daily(2, 3));
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b, privacy: "title" });
        await world.sync(p);
        assert.equal((await world.mirrors(p.cal.b)).length, 3);
        const second = `${series.id}_${
          new Date(Date.parse(series.start.dateTime) + 24 * HOUR).toISOString()
            .replace(/[-:]/g, "").replace(/\.\d{3}/, "")
        }`;
        await world.patchEvent(p.cal.a, second, { summary: "Standup (moved room)" });
        // How Google answers events.instances for a series the calendar does not hold.
        await world.admin("POST", "faults", { method: "events.instances", fault: "notFound" });
        try {
          const run = runOf(await world.sync(p));
          assert.notEqual(run.outcome, "failed");
          assert.equal((await world.mirrors(p.cal.b)).length, 3, "nothing removed on a guess");
          assert.equal((await statusOf(world, p, rule.id)).status, "ok");
        } finally {
          await world.admin("DELETE", "faults");
        }
      },
    );

    await t.step(
      "history says what each write did: restored, patched, already gone, and the requests per method",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        const kept = await world.addEvent(p.cal.a, timed(2));
        const gone = await world.addEvent(p.cal.a, timed(3));
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b, privacy: "title" });
        await world.sync(p);
        const mirrors = await world.mirrors(p.cal.b);
        const mirrorOf = (id: string) =>
          mirrors.find((m) => m.extendedProperties.private.busysyncEvent === id)!;
        // The mirror of `gone` is deleted through the API (restorable), then its event goes.
        await world.provider.deleteMirror(p.cal.b, mirrorOf(gone.id).id);
        await world.deleteEvent(p.cal.a, gone.id);
        await world.patchEvent(p.cal.a, kept.id, { summary: "Renamed" });
        await world.takeRequests();
        const run = runOf(await world.sync(p));
        const counts = run.rules.find((r) => r.ruleId === rule.id)!;
        assert.deepEqual(
          [counts.created, counts.updated, counts.deleted, counts.alreadyGone],
          [0, 1, 0, 1],
        );
        assert.deepEqual(run.apiCalls.methods, await world.takeRequests());
        assert.equal(
          run.apiCalls.requests,
          Object.values(run.apiCalls.methods).reduce((a, b) => a + b, 0),
        );

        // A mirror deleted by the API that the ledger still knows: the full reconcile's patch
        // brings it back, which is a restore, not an update.
        const [known] = await world.mirrors(p.cal.b);
        await world.provider.deleteMirror(p.cal.b, known.id);
        const restoredRun = runOf(await world.sync(p, { full: true }));
        const back = restoredRun.rules.find((r) => r.ruleId === rule.id)!;
        assert.deepEqual([back.restored, back.updated], [1, 0], JSON.stringify(back));
        assert.ok((await world.mirrors(p.cal.b)).some((m) => m.id === known.id));

        // A mirror deleted by the API and not yet purged, which a lost ledger no longer knows,
        // is inserted again: 409, and the cancelled event is restored, and said so.
        const [mirror] = await world.mirrors(p.cal.b);
        await world.provider.deleteMirror(p.cal.b, mirror.id);
        await forgetLedger(world.kv, p.userId);
        await world.takeRequests();
        const full = runOf(await world.sync(p, { full: true }));
        const repaired = full.rules.find((r) => r.ruleId === rule.id)!;
        assert.equal(repaired.restored, 1, JSON.stringify(repaired));
        assert.deepEqual(full.apiCalls.methods, await world.takeRequests());
      },
    );

    await t.step(
      "a rule whose writes fail run after run becomes failing, with the cause in words and an incident; a clean run clears it",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        await world.addEvent(p.cal.a, timed(2));
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        await world.admin("POST", "faults", { method: "events.insert", fault: "quotaExceeded" });
        try {
          for (let i = 0; i < 2; i++) await world.sync(p);
          assert.equal((await statusOf(world, p, rule.id)).status, "ok", "two runs are weather");
          await world.sync(p);
          const { status, reason } = await statusOf(world, p, rule.id);
          assert.equal(status, "failing");
          assert.match(reason, /The last 3 syncs .* could not apply this rule/);
          const stored = (await getRule(world.kv, p.userId, rule.id))!.rule;
          assert.equal(openIncidents([], [stored], [])[0].kind, "rule_failing");
        } finally {
          await world.admin("DELETE", "faults");
        }
        await world.sync(p);
        assert.equal((await statusOf(world, p, rule.id)).status, "ok");
        assert.equal((await world.mirrors(p.cal.b)).length, 1);
      },
    );

    await t.step(
      "a whole-series time change: the old instances' mirrors go in the same incremental run",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        // 30 instances: enough that deleting the old ones alone would trip the delete guard.
        const series = await world.addEvent(p.cal.a, daily(2, 30));
        const rule = await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        await world.sync(p);
        assert.equal((await world.mirrors(p.cal.b)).length, 30);
        const start = Date.parse(series.start.dateTime) + 2 * HOUR;
        await world.patchEvent(p.cal.a, series.id, {
          start: { dateTime: new Date(start).toISOString(), timeZone: "UTC" },
          end: { dateTime: new Date(start + HOUR).toISOString(), timeZone: "UTC" },
        });
        const run = runOf(await world.sync(p));
        assert.equal(run.full, false);
        assert.equal((await statusOf(world, p, rule.id)).status, "ok", "blocks replaced, not lost");
        const starts = (await world.mirrors(p.cal.b)).map((m) => Date.parse(m.start.dateTime));
        assert.equal(starts.length, 30, JSON.stringify(starts));
        assert.ok(starts.every((s) => (s - start) % (24 * HOUR) === 0), "all at the new time");
      },
    );

    await t.step(
      "a whole-series time change whose events.instances call failed: the old instances' mirrors go in the next incremental run",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        const series = await world.addEvent(p.cal.a, daily(2, 3));
        await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        await world.sync(p);
        const start = Date.parse(series.start.dateTime) + 2 * HOUR;
        await world.patchEvent(p.cal.a, series.id, {
          start: { dateTime: new Date(start).toISOString(), timeZone: "UTC" },
          end: { dateTime: new Date(start + HOUR).toISOString(), timeZone: "UTC" },
        });
        await world.admin("POST", "faults", {
          method: "events.instances",
          fault: "serviceUnavailable",
        });
        try {
          assert.equal(runOf(await world.sync(p)).outcome, "partial");
        } finally {
          await world.admin("DELETE", "faults");
        }
        const run = runOf(await world.sync(p));
        assert.equal(run.full, false);
        const starts = (await world.mirrors(p.cal.b)).map((m) => Date.parse(m.start.dateTime));
        assert.equal(starts.length, 3, JSON.stringify(starts));
        assert.ok(starts.every((s) => (s - start) % (24 * HOUR) === 0), "all at the new time");
      },
    );

    await t.step(
      "a whole-series time change, then the series deleted, before the next run: every mirror goes in that incremental run",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        const series = await world.addEvent(p.cal.a, daily(2, 3));
        await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        await world.sync(p);
        assert.equal((await world.mirrors(p.cal.b)).length, 3);
        const start = Date.parse(series.start.dateTime) + 2 * HOUR;
        await world.patchEvent(p.cal.a, series.id, {
          start: { dateTime: new Date(start).toISOString(), timeZone: "UTC" },
          end: { dateTime: new Date(start + HOUR).toISOString(), timeZone: "UTC" },
        });
        // The listing then names only the new instances, cancelled; the mirrored ones vanished.
        await world.deleteEvent(p.cal.a, series.id);
        const run = runOf(await world.sync(p));
        assert.equal(run.full, false);
        assert.deepEqual(await world.mirrors(p.cal.b), []);
      },
    );

    await t.step(
      "this and following: the old series' later mirrors go, the new _R series is mirrored",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        const series = await world.addEvent(p.cal.a, daily(2, 5));
        await world.aRule(p, { source: p.cal.a, target: p.cal.b });
        await world.sync(p);
        const third = Date.parse(series.start.dateTime) + 2 * 24 * HOUR;
        await world.admin("POST", path(p.cal.a, "events", series.id, "split"), {
          at: new Date(third).toISOString(),
          changes: { summary: "Standup (new time)" },
        });
        const run = runOf(await world.sync(p));
        assert.equal(run.full, false);
        const mirrors = await world.mirrors(p.cal.b);
        assert.equal(mirrors.length, 5, JSON.stringify(mirrors.map((m) => m.start)));
        const sources = mirrors.map((m) => m.extendedProperties.private.busysyncEvent as string);
        assert.equal(sources.filter((s) => s.includes("_R")).length, 3);
        assert.equal(new Set(mirrors.map((m) => m.start.dateTime)).size, 5, "no duplicate");
      },
    );
  });
});
