import assert from "node:assert/strict";
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";
import type { SourceEvent } from "../../lib/model/events.ts";
import { type RawEvent, withWorld, type World } from "./support.ts";

const DAY = 86_400_000;

/** The instants (ms) of the live events' starts, sorted. */
function starts(events: RawEvent[]): number[] {
  return events.map((e) => Date.parse(e.start.dateTime ?? e.start.date)).sort((a, b) => a - b);
}

/** The instances of a calendar as the real provider expands them (live ones only). */
async function instances(world: World, cal: CalendarRef, daysAhead = 60): Promise<SourceEvent[]> {
  const now = Date.now();
  const window = { start: new Date(now - DAY), end: new Date(now + daysAhead * DAY) };
  const listing = await world.provider.listChanges(cal, null, window);
  const out: SourceEvent[] = [];
  for await (const page of listing.pages) out.push(...page.events);
  return out.filter((e) => e.status !== "cancelled");
}

function startMs(e: SourceEvent): number {
  if (e.status === "cancelled") return NaN;
  return Date.parse("dateTime" in e.start ? e.start.dateTime : e.start.date);
}

/** `yyyy-mm-dd` of the day `days` from today (UTC). */
function dayFromNow(days: number): string {
  return new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY).toISOString().slice(0, 10);
}

Deno.test("sync of recurring events, all-day events and time zones", async (t) => {
  await withWorld(async (world) => {
    await t.step("recurring: moved and cancelled instances are mirrored exactly", async () => {
      const p = await world.aPerson({ src: "Europe/Berlin", dst: "UTC" });
      const series = await world.addEvent(p.cal.src, {
        summary: "Standup",
        start: { dateTime: `${dayFromNow(2)}T10:00:00`, timeZone: "Europe/Berlin" },
        end: { dateTime: `${dayFromNow(2)}T10:15:00`, timeZone: "Europe/Berlin" },
        recurrence: ["RRULE:FREQ=DAILY;COUNT=6"],
      });
      const [, second, third] = (await instances(world, p.cal.src)).sort((a, b) =>
        startMs(a) - startMs(b)
      );
      assert.equal(second.recurringEventId, series.id);
      const movedTo = startMs(second) + 3 * 3_600_000;
      await world.patchEvent(p.cal.src, second.id, {
        start: { dateTime: new Date(movedTo).toISOString() },
        end: { dateTime: new Date(movedTo + 15 * 60_000).toISOString() },
      });
      await world.deleteEvent(p.cal.src, third.id);
      await world.aRule(p, { source: p.cal.src, target: p.cal.dst, privacy: "title" });

      await world.sync(p);
      const expected = (await instances(world, p.cal.src)).map(startMs).sort((a, b) => a - b);
      assert.equal(expected.length, 5);
      assert.ok(expected.includes(movedTo));
      assert.deepEqual(starts(await world.mirrors(p.cal.dst)), expected);

      // Later changes to single instances, then to the whole series, follow incrementally.
      const current = (await instances(world, p.cal.src)).sort((a, b) => startMs(a) - startMs(b));
      await world.deleteEvent(p.cal.src, current[0].id);
      await world.sync(p);
      assert.equal((await world.mirrors(p.cal.dst)).length, 4);
      await world.deleteEvent(p.cal.src, series.id);
      await world.sync(p);
      assert.deepEqual(await world.mirrors(p.cal.dst), []);
    });

    await t.step(
      "all-day: stays all-day on the same dates in a target in another zone",
      async () => {
        const p = await world.aPerson({ src: "America/Los_Angeles", dst: "Asia/Tokyo" });
        await world.addEvent(p.cal.src, {
          summary: "Conference",
          start: { date: dayFromNow(3) },
          end: { date: dayFromNow(6) },
        });
        await world.aRule(p, {
          source: p.cal.src,
          target: p.cal.dst,
          filters: { skipAllDay: false },
        });
        await world.sync(p);
        const [mirror] = await world.mirrors(p.cal.dst);
        assert.deepEqual(mirror.start, { date: dayFromNow(3) });
        assert.deepEqual(mirror.end, { date: dayFromNow(6) });
      },
    );

    await t.step(
      "time zones: an event in a third zone keeps its instant in the target",
      async () => {
        const p = await world.aPerson({ src: "Europe/Berlin", dst: "America/New_York" });
        await world.addEvent(p.cal.src, {
          summary: "Tokyo call",
          start: { dateTime: `${dayFromNow(4)}T09:30:00+09:00`, timeZone: "Asia/Tokyo" },
          end: { dateTime: `${dayFromNow(4)}T10:30:00+09:00`, timeZone: "Asia/Tokyo" },
        });
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        await world.sync(p);
        const [mirror] = await world.mirrors(p.cal.dst);
        assert.equal(Date.parse(mirror.start.dateTime), Date.parse(`${dayFromNow(4)}T00:30:00Z`));
        assert.equal(Date.parse(mirror.end.dateTime), Date.parse(`${dayFromNow(4)}T01:30:00Z`));
      },
    );

    await t.step(
      "DST: a weekly series crossing a DST change keeps its wall time, instants follow",
      async () => {
        const p = await world.aPerson({ src: "America/New_York", dst: "Europe/Berlin" });
        await world.addEvent(p.cal.src, {
          summary: "Weekly",
          start: { dateTime: `${dayFromNow(1)}T09:00:00`, timeZone: "America/New_York" },
          end: { dateTime: `${dayFromNow(1)}T10:00:00`, timeZone: "America/New_York" },
          // About 7 months of weeks: at least one DST change in New York lies inside.
          recurrence: ["RRULE:FREQ=WEEKLY;COUNT=30"],
        });
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst, window: { daysAhead: 240 } });
        await world.sync(p);
        const source = (await instances(world, p.cal.src, 240)).map(startMs).sort((a, b) => a - b);
        const mirrored = starts(await world.mirrors(p.cal.dst));
        assert.deepEqual(mirrored, source);
        const utcHours = new Set(mirrored.map((ms) => new Date(ms).getUTCHours()));
        assert.deepEqual([...utcHours].sort(), [13, 14], "both sides of a DST change are mirrored");
      },
    );
  });
});
