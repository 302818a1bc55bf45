import assert from "node:assert/strict";
import { getRule } from "../../lib/db/rules.ts";
import { markNeedsReconnect, saveConnectionGrant } from "../../lib/db/connections.ts";
import { listRuns } from "../../lib/db/history.ts";
import { listLedger } from "../../lib/db/ledger.ts";
import { acquireLease, LeaseLostError } from "../../lib/db/leases.ts";
import { buildEdges } from "../../lib/model/rule_graph.ts";
import { mirrorIdFor } from "../../lib/sync/marker.ts";
import { desiredMirror } from "../../lib/sync/mirror.ts";
import type { CalendarProvider } from "../../lib/sync/provider.ts";
import type { Rule } from "../../lib/model/rule.ts";
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";
import { type Person, summaries, timed, withWorld, type World, writesIn } from "./support.ts";

async function ledgerSize(world: World, p: Person): Promise<number> {
  let n = 0;
  for await (const _ of listLedger(world.kv, p.userId)) n++;
  return n;
}

/** Writes the mirror the engine would write for `eventId`, as a crashed run would have. */
async function writeMirrorWithoutLedger(world: World, rule: Rule, eventId: string) {
  const edge = buildEdges([rule])[0];
  const decision = desiredMirror(await world.sourceEvent(rule.source, eventId), edge, {
    now: new Date(),
  });
  assert.equal(decision.kind, "mirror");
  if (decision.kind !== "mirror") return;
  await world.provider.putMirror(rule.target, mirrorIdFor(edge, eventId), decision.mirror);
}

/**
 * The world's provider, running `after` once each putMirror is done. The engine's options go
 * through, so what runs is production's path (one patch for a mirror the ledger knows).
 */
function afterPutMirror(world: World, after: () => Promise<void>): CalendarProvider {
  return {
    ...world.provider,
    async putMirror(cal, id, mirror, options) {
      const written = await world.provider.putMirror(cal, id, mirror, options);
      await after();
      return written;
    },
  };
}

/** The start instants and titles of the live mirrors in `cal`: what a user sees. */
async function picture(world: World, cal: CalendarRef): Promise<string[]> {
  return (await world.mirrors(cal)).map((m) => `${Date.parse(m.start.dateTime)} ${m.summary}`);
}

Deno.test("sync resilience", async (t) => {
  await withWorld(async (world) => {
    await t.step(
      "410 between runs: a full resync with no duplicate and no lost delete",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        const a = await world.addEvent(p.cal.src, timed(2, { summary: "a" }));
        await world.addEvent(p.cal.src, timed(3, { summary: "b" }));
        const c = await world.addEvent(p.cal.src, timed(4, { summary: "c" }));
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst, privacy: "title" });
        await world.sync(p);

        await world.deleteEvent(p.cal.src, a.id);
        await world.patchEvent(p.cal.src, c.id, { summary: "c2" });
        await world.addEvent(p.cal.src, timed(5, { summary: "d" }));
        await world.admin("POST", "sync-tokens/invalidate", { calendarId: p.cal.src.calendarId });
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.dst)), ["b", "c2", "d"]);
        assert.equal(await ledgerSize(world, p), 3);
      },
    );

    await t.step(
      "410 in the middle of a run: the next source relists in full, nothing lost",
      async () => {
        const p = await world.aPerson({ s1: "UTC", s2: "UTC", dst: "UTC" });
        const one = await world.addEvent(p.cal.s1, timed(2, { summary: "one" }));
        const two = await world.addEvent(p.cal.s2, timed(3, { summary: "two" }));
        await world.aRule(p, { source: p.cal.s1, target: p.cal.dst, privacy: "title" });
        await world.aRule(p, { source: p.cal.s2, target: p.cal.dst, privacy: "title" });
        await world.sync(p);

        await world.patchEvent(p.cal.s1, one.id, { summary: "one2" });
        await world.deleteEvent(p.cal.s2, two.id);
        await world.addEvent(p.cal.s2, timed(4, { summary: "three" }));
        let invalidated = false;
        // Every token dies while the run is between its first and second source.
        const invalidating = afterPutMirror(world, async () => {
          if (!invalidated) {
            invalidated = true;
            await world.admin("POST", "sync-tokens/invalidate", {});
          }
        });
        await world.sync(p, { providerFor: () => invalidating });
        assert.ok(invalidated);
        assert.deepEqual(summaries(await world.mirrors(p.cal.dst)), ["one2", "three"]);
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.dst)), ["one2", "three"]);
        assert.equal(await ledgerSize(world, p), 2);
      },
    );

    await t.step(
      "crash after an insert, before its ledger write: the rerun adds no duplicate",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        const first = await world.addEvent(p.cal.src, timed(2, { summary: "first" }));
        const rule = await world.aRule(p, {
          source: p.cal.src,
          target: p.cal.dst,
          privacy: "title",
        });
        // Crashed during the very first run: the rerun finds the mirror and adopts it, no write.
        await writeMirrorWithoutLedger(world, rule, first.id);
        await world.takeRequests();
        await world.sync(p);
        assert.equal(writesIn(await world.takeRequests()), 0);

        // Crashed during a later, incremental run: the insert answers 409 and the mirror is adopted.
        const second = await world.addEvent(p.cal.src, timed(3, { summary: "second" }));
        await writeMirrorWithoutLedger(world, rule, second.id);
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.dst)), ["first", "second"]);
        assert.equal((await world.rawEvents(p.cal.dst)).length, 2);
        assert.equal(await ledgerSize(world, p), 2);
      },
    );

    await t.step("a mirror deleted and needed again is restored under its id (409)", async () => {
      const p = await world.aPerson({ src: "UTC", dst: "UTC" });
      const event = await world.addEvent(p.cal.src, timed(2));
      await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
      await world.sync(p);
      const [mirror] = await world.mirrors(p.cal.dst);
      await world.patchEvent(p.cal.src, event.id, { transparency: "transparent" });
      await world.sync(p);
      assert.deepEqual(await world.mirrors(p.cal.dst), []);
      await world.patchEvent(p.cal.src, event.id, { transparency: "opaque" });
      await world.sync(p);
      const raw = await world.rawEvents(p.cal.dst);
      assert.equal(raw.length, 1);
      assert.equal(raw[0].id, mirror.id);
      assert.equal(raw[0].status, "confirmed");
    });

    await t.step(
      "a copy of a mirror (same marker, new id) is a real event and is synced",
      async () => {
        const p = await world.aPerson({ a: "UTC", b: "UTC" });
        await world.addEvent(p.cal.a, timed(2, { summary: "original" }));
        await world.aRule(p, {
          source: p.cal.a,
          target: p.cal.b,
          bidirectional: true,
          privacy: "title",
        });
        await world.sync(p);
        const [mirror] = await world.mirrors(p.cal.b);
        // What Google does when a user duplicates the mirror: properties copied, new id.
        await world.addEvent(p.cal.b, {
          ...timed(6, { summary: "copied" }),
          extendedProperties: mirror.extendedProperties,
        });
        await world.sync(p);
        assert.deepEqual(summaries(await world.events(p.cal.a)), ["original", "copied"]);
        assert.deepEqual(summaries(await world.events(p.cal.b)), ["original", "copied"]);
        await world.sync(p, { full: true });
        assert.equal((await world.events(p.cal.b)).length, 2, "a full reconcile keeps the copy");
      },
    );

    await t.step(
      "lease lost mid-run: the run stops with LeaseLostError, no ledger write after",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        for (let i = 0; i < 40; i++) await world.addEvent(p.cal.src, timed(2 + i));
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        let puts = 0;
        let ledgerAtTheft = -1;
        const stealing = afterPutMirror(world, async () => {
          if (++puts === 3) {
            // Another process whose clock says the lease expired takes it over.
            const thief = await acquireLease(world.kv, p.userId, {
              owner: "thief",
              now: new Date(Date.now() + 3_600_000),
              ttlMs: 60_000,
            });
            assert.ok(thief);
            ledgerAtTheft = await ledgerSize(world, p);
          }
        });
        await assert.rejects(
          world.sync(p, { providerFor: () => stealing, concurrency: 2 }),
          LeaseLostError,
        );
        assert.equal(await ledgerSize(world, p), ledgerAtTheft);
        // The holder checks its lease every 16 writes (Lease.hold); the calls in flight finish.
        assert.ok(puts <= 16 + 2 + 1, `the run went on writing: ${puts} puts`);
        const [run] = (await listRuns(world.kv, p.userId)).items;
        assert.equal(run.outcome, "failed");
        assert.ok(run.errors.some((e) => e.error === "LeaseLostError"));
      },
    );

    await t.step(
      "a trigger while a run holds the lease is coalesced into one follow-up run",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await world.addEvent(p.cal.src, timed(2, { summary: "before" }));
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst, privacy: "title" });
        let triggered = false;
        let second: Awaited<ReturnType<World["sync"]>> | undefined;
        const triggering = afterPutMirror(world, async () => {
          if (!triggered) {
            triggered = true;
            await world.addEvent(p.cal.src, timed(3, { summary: "during" }));
            second = await world.sync(p);
            await world.sync(p);
          }
        });
        const first = await world.sync(p, { providerFor: () => triggering });
        assert.deepEqual(second, { status: "coalesced" });
        assert.equal(first.status === "completed" && first.followUps.length, 1);
        assert.deepEqual(summaries(await world.mirrors(p.cal.dst)), ["before", "during"]);
      },
    );

    await t.step(
      "rate-limit storm (30% of calls fail): same end state as without faults",
      async () => {
        const calm = await world.aPerson({ src: "UTC", dst: "UTC" });
        const stormy = await world.aPerson({ src: "UTC", dst: "UTC" });
        const people = [calm, stormy];
        const ids = new Map<Person, string[]>();
        for (const p of people) {
          const made = [];
          for (let i = 0; i < 15; i++) {
            made.push((await world.addEvent(p.cal.src, timed(2 + i, { summary: `e${i}` }))).id);
          }
          ids.set(p, made);
          await world.aRule(p, { source: p.cal.src, target: p.cal.dst, privacy: "title" });
        }
        const round = async (p: Person, faults: boolean) => {
          if (faults) {
            await world.admin("POST", "faults", [
              // Together 30% of calls: 1 - 0.8 × 0.875.
              { method: "*", fault: "rateLimitExceeded", percent: 20, seed: 7 },
              {
                method: "*",
                fault: "tooManyRequests",
                percent: 12.5,
                seed: 8,
                retryAfterSeconds: 0,
              },
            ]);
          }
          try {
            await world.sync(p);
          } finally {
            await world.admin("DELETE", "faults");
          }
        };
        const change = async (p: Person) => {
          const [a, b, c] = ids.get(p)!;
          await world.patchEvent(p.cal.src, a, { summary: "renamed" });
          await world.deleteEvent(p.cal.src, b);
          const later = timed(40);
          await world.patchEvent(p.cal.src, c, { start: later.start, end: later.end });
        };
        let before = world.attempts;
        await round(calm, false);
        const calmAttempts = world.attempts - before;
        before = world.attempts;
        await round(stormy, true);
        assert.ok(world.attempts - before > calmAttempts, "the storm made the provider retry");
        await change(calm);
        await change(stormy);
        await round(calm, false);
        await round(stormy, true);
        const attemptsBefore = world.attempts;
        await round(stormy, false);
        assert.ok(world.attempts - attemptsBefore <= 1, "the stormy runs had nothing left to do");
        assert.deepEqual(
          (await picture(world, stormy.cal.dst)).map((s) => s.split(" ")[1]),
          (await picture(world, calm.cal.dst)).map((s) => s.split(" ")[1]),
        );
        assert.equal((await world.mirrors(stormy.cal.dst)).length, 14);
      },
    );

    await t.step("authorization revoked: the connection's rules pause, mirrors stay", async () => {
      const p = await world.aPerson({ src: "UTC", dst: "UTC" });
      await world.addEvent(p.cal.src, timed(2));
      const rule = await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
      await world.sync(p);
      await world.admin("POST", "tokens/revoke", { email: p.email });
      await world.sync(p);
      const stored = await getRule(world.kv, p.userId, rule.id);
      assert.equal(stored?.rule.status, "paused");
      assert.match(stored?.rule.statusReason ?? "", /connected again/);
      assert.equal((await world.mirrors(p.cal.dst)).length, 1);
    });

    await t.step(
      "a connection marked 'needs reconnect' sits out: paused, no call made",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        const rule = await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        await saveConnectionGrant(world.kv, {
          userId: p.userId,
          connectionId: p.connectionId,
          issuer: "https://accounts.example",
          sub: p.email,
          email: p.email,
          scopes: [],
          tokens: { refresh: "sealed" },
          now: new Date(),
        });
        await markNeedsReconnect(world.kv, p.userId, p.connectionId, "Connect again.", new Date());
        await world.takeRequests();
        await world.sync(p);
        assert.deepEqual(await world.takeRequests(), {});
        const stored = await getRule(world.kv, p.userId, rule.id);
        assert.deepEqual([stored?.rule.status, stored?.rule.statusReason], [
          "paused",
          "Connect again.",
        ]);
      },
    );

    await t.step(
      "a target that is gone breaks its rule; the user's other rules carry on",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await world.addEvent(p.cal.src, timed(2));
        const gone = { connectionId: p.connectionId, calendarId: "gone@group.calendar.google.com" };
        const broken = await world.aRule(p, { source: p.cal.src, target: gone });
        const fine = await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        const result = await world.sync(p);
        assert.equal((await getRule(world.kv, p.userId, broken.id))?.rule.status, "broken");
        assert.equal((await getRule(world.kv, p.userId, fine.id))?.rule.status, "ok");
        assert.equal((await world.mirrors(p.cal.dst)).length, 1);
        const run = result.status === "completed" ? result.run : undefined;
        assert.equal(run?.outcome, "partial");
        assert.equal(run?.errors[0].error, "CalendarNotFoundError");
        assert.equal(run?.errors[0].ruleId, broken.id);
      },
    );

    await t.step(
      "a rule reading a calendar shared as free/busy only breaks, saying so in words",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        const boss = `boss${crypto.randomUUID().slice(0, 8)}@example.com`;
        await world.admin("POST", "seed", {
          users: [
            {
              email: boss,
              name: "Boss",
              calendars: [{ id: boss, summary: "Boss", timeZone: "UTC", primary: true }],
            },
            {
              email: p.email,
              name: p.email,
              calendars: [{
                id: boss,
                summary: "Boss",
                timeZone: "UTC",
                accessRole: "freeBusyReader",
              }],
            },
          ],
        });
        await world.addEvent({ connectionId: "", calendarId: boss }, timed(2));
        // Saved before the editor and the API refused such sources (lib/rules/check.ts).
        const rule = await world.aRule(p, {
          source: { connectionId: p.connectionId, calendarId: boss },
          target: p.cal.dst,
        });
        await world.sync(p);
        const stored = (await getRule(world.kv, p.userId, rule.id))?.rule;
        assert.equal(stored?.status, "broken");
        assert.match(stored?.statusReason ?? "", /free\/busy only/);
        assert.match(stored?.statusReason ?? "", /“Boss”/);
        assert.equal((await world.mirrors(p.cal.dst)).length, 0);
      },
    );
  });
});
