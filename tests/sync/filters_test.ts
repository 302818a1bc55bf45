import assert from "node:assert/strict";
import { keys } from "../../lib/db/keys.ts";
import type { Rule, RuleInput } from "../../lib/model/rule.ts";
import { type RawEvent, summaries, timed, withWorld } from "./support.ts";

const DAY = 86_400_000;

/** Tomorrow (UTC) at `hour`:00Z, one hour long. */
function tomorrowAt(hour: number, extra: RawEvent = {}): RawEvent {
  const day = Math.floor(Date.now() / DAY) * DAY + DAY;
  return {
    start: { dateTime: new Date(day + hour * 3_600_000).toISOString() },
    end: { dateTime: new Date(day + (hour + 1) * 3_600_000).toISOString() },
    ...extra,
  };
}

function tomorrowAllDay(extra: RawEvent = {}): RawEvent {
  const day = new Date(Math.floor(Date.now() / DAY) * DAY + DAY).toISOString().slice(0, 10);
  const next = new Date(Date.parse(day) + DAY).toISOString().slice(0, 10);
  return { start: { date: day }, end: { date: next }, ...extra };
}

interface FilterCase {
  name: string;
  /** The event the filter keeps out (its summary is "filtered" unless it sets one). */
  event: (calendarId: string) => RawEvent;
  /** The rule's filters with this one turned off. */
  off: Partial<RuleInput["filters"]>;
  /** Filters to turn on, for filters that are off by default. */
  on?: Partial<RuleInput["filters"]>;
}

const CASES: FilterCase[] = [
  { name: "all-day", event: () => tomorrowAllDay(), off: { skipAllDay: false } },
  {
    name: "declined",
    event: (me) => tomorrowAt(10, { attendees: [{ email: me, responseStatus: "declined" }] }),
    off: { skipDeclined: false },
  },
  {
    name: "tentative answer",
    event: (me) => tomorrowAt(10, { attendees: [{ email: me, responseStatus: "tentative" }] }),
    off: { skipTentative: false },
  },
  {
    name: "unanswered invitation",
    event: (me) => tomorrowAt(10, { attendees: [{ email: me, responseStatus: "needsAction" }] }),
    off: { skipTentative: false },
  },
  {
    name: "free (transparent)",
    event: () => tomorrowAt(10, { transparency: "transparent" }),
    off: { skipFree: false },
  },
  {
    name: "focus time event type",
    event: () => tomorrowAt(10, { eventType: "focusTime" }),
    off: {},
    on: { skipEventTypes: ["focusTime"] },
  },
  {
    name: "outside working hours",
    event: () => tomorrowAt(20),
    off: {},
    on: {
      workingHours: {
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        start: "09:00",
        end: "17:00",
        timeZone: "UTC",
      },
    },
  },
  {
    name: "summary matching the exclude regex",
    event: () => tomorrowAt(10, { summary: "Lunch with Sam" }),
    off: {},
    on: { excludeSummaryRegex: "^lunch\\b" },
  },
];

Deno.test("sync filters and privacy", async (t) => {
  await withWorld(async (world) => {
    for (const c of CASES) {
      await t.step(`filter ${c.name}: kept out when on, mirrored when off`, async () => {
        const p = await world.aPerson({ src: "UTC", strict: "UTC", lax: "UTC" });
        await world.addEvent(p.cal.src, tomorrowAt(12, { summary: "normal" }));
        const filtered = { summary: "filtered", ...c.event(p.cal.src.calendarId) };
        await world.addEvent(p.cal.src, filtered);
        const common = { source: p.cal.src, privacy: "title" as const };
        await world.aRule(p, { ...common, target: p.cal.strict, filters: c.on ?? {} });
        await world.aRule(p, { ...common, target: p.cal.lax, filters: c.off });
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.strict)), ["normal"]);
        assert.deepEqual(
          summaries(await world.mirrors(p.cal.lax)).sort(),
          [filtered.summary, "normal"].sort(),
        );
      });
    }

    await t.step(
      "out of office and focus time become ordinary busy blocks under a new rule's defaults",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await world.addEvent(p.cal.src, {
          ...tomorrowAt(9, { summary: "Vacation" }),
          eventType: "outOfOffice",
          outOfOfficeProperties: { autoDeclineMode: "declineAllConflictingInvitations" },
        });
        await world.addEvent(p.cal.src, {
          ...tomorrowAt(14, { summary: "Deep work" }),
          eventType: "focusTime",
          focusTimeProperties: { autoDeclineMode: "declineOnlyNewConflictingInvitations" },
        });
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst, privacy: "title" });
        await world.sync(p);
        const mirrors = await world.mirrors(p.cal.dst);
        assert.deepEqual(summaries(mirrors), ["Vacation", "Deep work"]);
        for (const m of mirrors) {
          // An outOfOffice mirror would decline the target's meetings in the person's name.
          assert.equal(m.eventType, "default");
          assert.equal(m.transparency, undefined, "opaque: busy");
          assert.equal(m.outOfOfficeProperties, undefined);
          assert.equal(m.focusTimeProperties, undefined);
        }
      },
    );

    const secret = {
      summary: "Secret merger talks",
      location: "Room 42, HQ",
      description: "Agenda: the acquisition",
      attendees: [{ email: "cfo@example.com" }, { email: "lawyer@example.com" }],
      conferenceData: {
        entryPoints: [{ entryPointType: "video", uri: "https://meet.example/abc" }],
      },
    };

    await t.step(
      "privacy busy: only the rule's title reaches the target, nothing leaks",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await world.addEvent(p.cal.src, timed(3, secret));
        await world.aRule(p, {
          source: p.cal.src,
          target: p.cal.dst,
          privacy: "busy",
          title: "Blocked",
          titlePrefix: "[AUTO-SYNC] ",
        });
        await world.sync(p);
        const raw = await world.rawEvents(p.cal.dst);
        assert.deepEqual(summaries(raw), ["[AUTO-SYNC] Blocked"]);
        const text = JSON.stringify(raw);
        for (const leak of ["Secret", "Room 42", "Agenda", "cfo@", "lawyer@", "meet.example"]) {
          assert.ok(!text.includes(leak), `target leaks ${leak}: ${text}`);
        }
      },
    );

    await t.step(
      "privacy title: the title with its prefix, no location or description",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await world.addEvent(p.cal.src, timed(3, secret));
        await world.aRule(p, {
          source: p.cal.src,
          target: p.cal.dst,
          privacy: "title",
          titlePrefix: "[AUTO-SYNC] ",
        });
        await world.sync(p);
        const [mirror] = await world.rawEvents(p.cal.dst);
        assert.equal(mirror.summary, "[AUTO-SYNC] Secret merger talks");
        const text = JSON.stringify(mirror);
        for (const leak of ["Room 42", "Agenda", "cfo@", "lawyer@", "meet.example"]) {
          assert.ok(!text.includes(leak), `target leaks ${leak}: ${text}`);
        }
      },
    );

    await t.step(
      "privacy full: title, location and description; never attendees or links",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await world.addEvent(p.cal.src, timed(3, secret));
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst, privacy: "full" });
        await world.sync(p);
        const [mirror] = await world.rawEvents(p.cal.dst);
        assert.equal(mirror.summary, "Secret merger talks");
        assert.equal(mirror.location, "Room 42, HQ");
        assert.equal(mirror.description, "Agenda: the acquisition");
        const text = JSON.stringify(mirror);
        for (const leak of ["cfo@", "lawyer@", "meet.example"]) {
          assert.ok(!text.includes(leak), `target leaks ${leak}: ${text}`);
        }
      },
    );

    await t.step(
      "private and confidential events stay busy under title and full privacy unless the rule " +
        "opts in to their titles",
      async () => {
        const p = await world.aPerson({ src: "UTC", title: "UTC", full: "UTC", optIn: "UTC" });
        await world.addEvent(p.cal.src, timed(3, { ...secret, visibility: "private" }));
        await world.addEvent(
          p.cal.src,
          timed(5, { summary: "Therapy", visibility: "confidential" }),
        );
        await world.addEvent(p.cal.src, timed(7, { summary: "Standup", visibility: "public" }));
        const rule = { source: p.cal.src, title: "Blocked", titlePrefix: "[P] " };
        await world.aRule(p, { ...rule, target: p.cal.title, privacy: "title" });
        await world.aRule(p, { ...rule, target: p.cal.full, privacy: "full" });
        await world.aRule(p, {
          ...rule,
          target: p.cal.optIn,
          privacy: "full",
          copyPrivateTitles: true,
        });
        await world.sync(p);
        for (const target of [p.cal.title, p.cal.full]) {
          const mirrors = await world.mirrors(target);
          assert.deepEqual(summaries(mirrors), ["[P] Blocked", "[P] Blocked", "[P] Standup"]);
          const text = JSON.stringify(mirrors.slice(0, 2));
          for (const leak of ["Secret", "Therapy", "Room 42", "Agenda"]) {
            assert.ok(!text.includes(leak), `target leaks ${leak}: ${text}`);
          }
        }
        // The opt-in copies a private event's title, never its place or notes.
        const optIn = await world.mirrors(p.cal.optIn);
        assert.deepEqual(summaries(optIn), [
          "[P] Secret merger talks",
          "[P] Therapy",
          "[P] Standup",
        ]);
        assert.equal(optIn[0].location, undefined);
        assert.equal(optIn[0].description, undefined);
      },
    );

    await t.step(
      "a rule stored before the option existed hides private titles from the next run on",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        await world.addEvent(p.cal.src, timed(3, { summary: "Therapy", visibility: "private" }));
        const rule = await world.aRule(p, {
          source: p.cal.src,
          target: p.cal.dst,
          privacy: "title",
          copyPrivateTitles: true,
        });
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.dst)), ["Therapy"]);
        // The record as busysync stored it before: no copyPrivateTitles at all.
        const key = keys.rule(p.userId, rule.id);
        const { copyPrivateTitles: _, ...before } = (await world.kv.get<Rule>(key)).value!;
        await world.kv.set(key, before);
        await world.sync(p);
        assert.deepEqual(summaries(await world.mirrors(p.cal.dst)), ["Busy"]);
      },
    );

    await t.step("a title change under busy privacy costs no write", async () => {
      const p = await world.aPerson({ src: "UTC", dst: "UTC" });
      const event = await world.addEvent(p.cal.src, timed(3, { summary: "Before" }));
      await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
      await world.sync(p);
      await world.patchEvent(p.cal.src, event.id, { summary: "After" });
      await world.takeRequests();
      await world.sync(p);
      assert.deepEqual(await world.takeRequests(), { "events.list": 1 });
    });

    await t.step(
      "an event that starts passing a filter gets its mirror; stops: loses it",
      async () => {
        const p = await world.aPerson({ src: "UTC", dst: "UTC" });
        const event = await world.addEvent(p.cal.src, timed(3, { transparency: "transparent" }));
        await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
        await world.sync(p);
        assert.equal((await world.mirrors(p.cal.dst)).length, 0);
        await world.patchEvent(p.cal.src, event.id, { transparency: "opaque" });
        await world.sync(p);
        assert.equal((await world.mirrors(p.cal.dst)).length, 1);
        await world.patchEvent(p.cal.src, event.id, { transparency: "transparent" });
        await world.sync(p);
        assert.equal((await world.mirrors(p.cal.dst)).length, 0);
      },
    );
  });
});
