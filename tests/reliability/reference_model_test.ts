import assert from "node:assert/strict";
import { type Group, GroupSchema } from "../../lib/model/group.ts";
import { type Rule, RuleSchema } from "../../lib/model/rule.ts";
import { type RawEvent, World } from "../sync/support.ts";
import { compareMirrors, expectedMirrors, liveOccurrences } from "./reference_model.ts";

const NOW = new Date("2026-03-20T12:00:00Z");
const SRC = "src@example.com";
const DST = "dst@example.com";

function aRule(extra: Partial<Rule> = {}): Rule {
  return RuleSchema.parse({
    id: "rule1",
    name: "r",
    source: { connectionId: "c", calendarId: SRC },
    target: { connectionId: "c", calendarId: DST },
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    ...extra,
  });
}

const at = (iso: string) => ({ dateTime: iso });
const event = (id: string, start: string, end: string, extra: RawEvent = {}): RawEvent => ({
  id,
  status: "confirmed",
  summary: id,
  start: at(start),
  end: at(end),
  ...extra,
});

/** A weekly 09:00 Berlin series across the 29 March DST change, one instance moved, one gone. */
const series: RawEvent = {
  id: "ser",
  status: "confirmed",
  summary: "Standup",
  start: { dateTime: "2026-03-23T09:00:00+01:00", timeZone: "Europe/Berlin" },
  end: { dateTime: "2026-03-23T09:15:00+01:00", timeZone: "Europe/Berlin" },
  recurrence: ["RRULE:FREQ=WEEKLY;COUNT=3"],
};
const source: RawEvent[] = [
  series,
  // The second instance (30 March, now CEST: 07:00Z) moved an hour later.
  event("ser_20260330T070000Z", "2026-03-30T08:00:00Z", "2026-03-30T08:15:00Z", {
    recurringEventId: "ser",
    summary: "Standup (moved)",
  }),
  // The third instance cancelled.
  { id: "ser_20260406T070000Z", status: "cancelled", recurringEventId: "ser" },
  event("plain", "2026-03-21T10:00:00Z", "2026-03-21T11:00:00Z", { summary: "  padded  " }),
  event("free", "2026-03-21T10:00:00Z", "2026-03-21T11:00:00Z", { transparency: "transparent" }),
  event("declined", "2026-03-21T10:00:00Z", "2026-03-21T11:00:00Z", {
    attendees: [{ email: SRC.toUpperCase(), responseStatus: "declined" }],
  }),
  { id: "allday", status: "confirmed", start: { date: "2026-03-22" }, end: { date: "2026-03-23" } },
  event("gone", "2026-03-21T10:00:00Z", "2026-03-21T11:00:00Z", { status: "cancelled" }),
  event("past", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"),
  event("mirror", "2026-03-21T10:00:00Z", "2026-03-21T11:00:00Z", {
    extendedProperties: { private: { busysync: "1" } },
  }),
];
const calendars = new Map([
  [SRC, { id: SRC, timeZone: "Europe/Berlin", events: source }],
  [DST, { id: DST, timeZone: "UTC", events: [] }],
]);

Deno.test("reference model: what a calendar holds and which mirrors a rule wants", async (t) => {
  await t.step("a weekly series keeps its wall time across DST; exceptions replace", () => {
    const live = liveOccurrences(source).filter((e) => e.recurringEventId);
    assert.deepEqual(live.map((e) => [e.id, Date.parse(e.start.dateTime)]), [
      ["ser_20260323T080000Z", Date.parse("2026-03-23T08:00:00Z")],
      ["ser_20260330T070000Z", Date.parse("2026-03-30T08:00:00Z")],
    ]);
  });

  await t.step("filters, window, mirrors of mirrors, privacy", () => {
    const busy = expectedMirrors([aRule()], calendars, NOW);
    assert.deepEqual(busy.map((m) => [m.sourceEvent, m.summary]), [
      ["ser_20260323T080000Z", "Busy"],
      ["ser_20260330T070000Z", "Busy"],
      ["plain", "Busy"],
    ]);
    const title = expectedMirrors(
      [aRule({
        privacy: "title",
        titlePrefix: "T: ",
        filters: { ...aRule().filters, skipAllDay: false },
      })],
      calendars,
      NOW,
    );
    assert.deepEqual(title.map((m) => [m.sourceEvent, m.summary, m.start]), [
      ["ser_20260323T080000Z", "T: Standup", `instant:${Date.parse("2026-03-23T08:00:00Z")}`],
      [
        "ser_20260330T070000Z",
        "T: Standup (moved)",
        `instant:${Date.parse("2026-03-30T08:00:00Z")}`,
      ],
      ["plain", "T: padded", `instant:${Date.parse("2026-03-21T10:00:00Z")}`],
      ["allday", "T: Busy", "date:2026-03-22"],
    ]);
    const secret = new Map([[SRC, {
      ...calendars.get(SRC)!,
      events: source.map((e) => e.id === "plain" ? { ...e, visibility: "private" } : e),
    }], [DST, calendars.get(DST)!]]);
    const summaryOfPlain = (copyPrivateTitles: boolean) =>
      expectedMirrors([aRule({ privacy: "title", copyPrivateTitles })], secret, NOW)
        .find((m) => m.sourceEvent === "plain")?.summary;
    assert.equal(summaryOfPlain(false), "Busy", "a private event keeps its title to itself");
    assert.equal(summaryOfPlain(true), "padded");
  });

  await t.step("the comparison counts duplicates, missing and stale mirrors", () => {
    const expected = expectedMirrors([aRule()], calendars, NOW);
    const mirror = (id: string, sourceEvent: string, start: string, summary = "Busy") => ({
      id,
      status: "confirmed",
      summary,
      start: at(start),
      end: at(new Date(Date.parse(start) + 3_600_000).toISOString()),
      extendedProperties: {
        private: {
          busysync: "1",
          busysyncRule: "rule1",
          busysyncSource: `c:${SRC}`,
          busysyncEvent: sourceEvent,
        },
      },
    });
    const good = mirror("m1", "plain", "2026-03-21T10:00:00Z");
    const exact = compareMirrors(expected, new Map([[DST, [good]]]));
    assert.deepEqual([exact.duplicates, exact.missing, exact.stale], [0, 2, 0]);

    const targets = new Map([[DST, [
      good,
      mirror("m2", "plain", "2026-03-21T10:00:00Z"),
      mirror("m3", "ser_20260330T070000Z", "2026-03-30T07:00:00Z"),
      mirror("m4", "free", "2026-03-21T10:00:00Z"),
      { ...mirror("m5", "ser_20260323T080000Z", "2026-03-23T08:00:00Z"), status: "cancelled" },
    ]]]);
    const verdict = compareMirrors(expected, targets);
    // m2 duplicates m1; m3 is at the instance's old time, m4 mirrors a free event; the first
    // instance's only mirror is cancelled.
    assert.deepEqual([verdict.duplicates, verdict.missing, verdict.stale], [1, 1, 2]);
  });
});

Deno.test("reference model: daily and weekly series, COUNT or UNTIL, as splits leave them", () => {
  const zone = "America/New_York";
  // Every other day at 09:00 New York until 8 March 2026 09:00 (inclusive), across the DST
  // change of 8 March (EST → EDT).
  const daily: RawEvent = {
    id: "day",
    status: "confirmed",
    start: { dateTime: "2026-03-02T09:00:00-05:00", timeZone: zone },
    end: { dateTime: "2026-03-02T09:30:00-05:00", timeZone: zone },
    recurrence: ["RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20260308T130000Z"],
  };
  assert.deepEqual(liveOccurrences([daily]).map((e) => e.id), [
    "day_20260302T140000Z",
    "day_20260304T140000Z",
    "day_20260306T140000Z",
    "day_20260308T130000Z",
  ]);
  // A split of a weekly COUNT=4 series at its third instance: the old one ends with an UNTIL,
  // the `_R` one (an hour later) carries the two that remain.
  const old: RawEvent = {
    id: "wk",
    status: "confirmed",
    start: { dateTime: "2026-03-02T09:00:00-05:00", timeZone: zone },
    end: { dateTime: "2026-03-02T10:00:00-05:00", timeZone: zone },
    recurrence: ["RRULE:FREQ=WEEKLY;UNTIL=20260316T125959Z"],
  };
  const following: RawEvent = {
    ...old,
    id: "wk_R20260316T140000",
    start: { dateTime: "2026-03-16T10:00:00-04:00", timeZone: zone },
    end: { dateTime: "2026-03-16T11:00:00-04:00", timeZone: zone },
    recurrence: ["RRULE:FREQ=WEEKLY;COUNT=2"],
  };
  const live = liveOccurrences([old, following]);
  assert.deepEqual(live.map((e) => [e.id, e.start.dateTime, e.originalStartTime.dateTime]), [
    ["wk_20260302T140000Z", "2026-03-02T14:00:00.000Z", "2026-03-02T14:00:00.000Z"],
    ["wk_20260309T130000Z", "2026-03-09T13:00:00.000Z", "2026-03-09T13:00:00.000Z"],
    [
      "wk_R20260316T140000_20260316T140000Z",
      "2026-03-16T14:00:00.000Z",
      "2026-03-16T14:00:00.000Z",
    ],
    [
      "wk_R20260316T140000_20260323T140000Z",
      "2026-03-23T14:00:00.000Z",
      "2026-03-23T14:00:00.000Z",
    ],
  ]);
  assert.throws(
    () => liveOccurrences([{ ...old, recurrence: ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU"] }]),
    /unsupported recurrence/,
  );
});

Deno.test({
  name: "reference model: its series agree with the emulator's listing after edits and splits",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const world = await World.start();
    try {
      const zone = "Europe/Berlin";
      const p = await world.aPerson({ cal: zone });
      const cal = p.cal.cal;
      const path = (id: string) => `calendars/${encodeURIComponent(cal.calendarId)}/events/${id}`;
      const series = (start: string, end: string, rule: string) =>
        world.addEvent(cal, {
          summary: rule,
          start: { dateTime: start, timeZone: zone },
          end: { dateTime: end, timeZone: zone },
          recurrence: [`RRULE:${rule}`],
        });
      // Across the DST change of 28 March 2027.
      const weekly = await series(
        "2027-03-15T09:00:00",
        "2027-03-15T10:00:00",
        "FREQ=WEEKLY;COUNT=6",
      );
      const daily = await series(
        "2027-03-25T18:30:00",
        "2027-03-25T19:00:00",
        "FREQ=DAILY;INTERVAL=2;UNTIL=20270408T170000Z",
      );
      const moved = await series(
        "2027-03-20T12:00:00",
        "2027-03-20T13:00:00",
        "FREQ=DAILY;COUNT=5",
      );
      // Exceptions, then a split with changes, a split of the `_R` series, a whole-series move.
      const model = async () => liveOccurrences(await world.rawEvents(cal));
      const byId = async (id: string) => (await model()).filter((e) => e.recurringEventId === id);
      const [w1, w2] = (await byId(weekly.id)).slice(1);
      const hourLater = new Date(Date.parse(w1.end.dateTime) + 3_600_000).toISOString();
      await world.patchEvent(cal, w1.id, {
        summary: "moved",
        start: at(w1.end.dateTime),
        end: at(hourLater),
      });
      await world.deleteEvent(cal, w2.id);
      const at4 = (await byId(weekly.id))[3].originalStartTime.dateTime;
      const r = await world.admin<RawEvent>("POST", `${path(weekly.id)}/split`, {
        at: at4,
        changes: {
          summary: "later",
          start: { dateTime: "2027-04-05T11:00:00", timeZone: zone },
          end: { dateTime: "2027-04-05T11:45:00", timeZone: zone },
        },
      });
      const rAt = (await byId(r.id))[1].originalStartTime.dateTime;
      await world.admin("POST", `${path(r.id)}/split`, { at: rAt });
      const d1 = (await byId(daily.id))[1];
      await world.deleteEvent(cal, d1.id);
      await world.admin("POST", `${path(daily.id)}/split`, {
        at: (await byId(daily.id))[2].originalStartTime.dateTime,
      });
      const m1 = (await byId(moved.id))[2];
      await world.patchEvent(cal, m1.id, { summary: "exception" });
      await world.patchEvent(cal, moved.id, {
        start: { dateTime: "2027-03-20T15:00:00", timeZone: zone },
        end: { dateTime: "2027-03-20T16:30:00", timeZone: zone },
      });

      const token = world.clients.get(p.connectionId)!.credentials.access_token;
      const query = new URLSearchParams({
        singleEvents: "true",
        timeMin: "2027-03-01T00:00:00Z",
        timeMax: "2027-06-01T00:00:00Z",
        maxResults: "2500",
      });
      const res = await fetch(
        `${world.emulator.url}/calendar/v3/calendars/${
          encodeURIComponent(cal.calendarId)
        }/events?${query}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      const listed: RawEvent[] = (await res.json()).items;
      const shape = (e: RawEvent) =>
        [e.id, Date.parse(e.start.dateTime), Date.parse(e.end.dateTime), e.summary].join(" ");
      const sorted = (events: RawEvent[]) => events.map(shape).sort();
      // The splits happened (one of a split series), the move dropped the exception.
      assert.ok(listed.some((e) => /_R\d{8}T\d{6}_R\d{8}T\d{6}_/.test(e.id)));
      assert.ok(listed.some((e) => e.id.startsWith(`${daily.id}_R`)));
      assert.ok(listed.some((e) => e.summary === "later"));
      assert.ok(!listed.some((e) => e.summary === "exception"));
      assert.ok(listed.some((e) => e.summary === "moved"));
      assert.deepEqual(sorted(await model()), sorted(listed));
    } finally {
      await world.close();
    }
  },
});

Deno.test("reference model: a meeting the target is invited to as well is not mirrored there", () => {
  const meeting = (id: string, extra: RawEvent) =>
    event(id, "2026-03-21T10:00:00Z", "2026-03-21T11:00:00Z", { iCalUID: `${id}@x`, ...extra });
  const src = [
    meeting("guest", { attendees: [{ email: DST, responseStatus: "needsAction" }] }),
    meeting("declinedThere", { attendees: [{ email: DST, responseStatus: "declined" }] }),
    meeting("organised", { organizer: { email: DST } }),
    meeting("copied", {}),
    meeting("freeCopy", {}),
  ];
  const dst = [
    { ...meeting("c1", { iCalUID: "copied@x" }) },
    { ...meeting("c2", { iCalUID: "freeCopy@x", transparency: "transparent" }) },
  ];
  const world = new Map([
    [SRC, { id: SRC, timeZone: "UTC", events: src }],
    [DST, { id: DST, timeZone: "UTC", events: dst }],
  ]);
  const wantedIds = (rule: Rule) => expectedMirrors([rule], world, NOW).map((m) => m.sourceEvent);
  assert.deepEqual(wantedIds(aRule()), ["declinedThere", "freeCopy"]);
  assert.deepEqual(
    wantedIds(aRule({ filters: { ...aRule().filters, skipInvitedInTarget: false } })),
    ["guest", "declinedThere", "organised", "copied", "freeCopy"],
  );
});

Deno.test("reference model: a group's members block each other, and a block goes no further", async (t) => {
  const [A, B, C, D, X] = ["a", "b", "c", "d", "x"].map((n) => `${n}@example.com`);
  const ref = (calendarId: string) => ({ connectionId: "c", calendarId });
  const aGroup = (extra: Partial<Group> = {}): Group =>
    GroupSchema.parse({
      id: "group1",
      name: "g",
      members: [A, B, C].map((id) => ({ calendar: ref(id) })),
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      ...extra,
    });
  const one = (id: string) => event(id, "2026-03-21T10:00:00Z", "2026-03-21T11:00:00Z");
  // B holds a block the group made from A's event: a real source must never see it as an event.
  const blockInB = {
    ...one("blockOfA1"),
    extendedProperties: {
      private: { busysync: "1", busysyncRule: "group1", busysyncSource: `c:${A}` },
    },
  };
  const calendars = new Map([
    [A, { id: A, timeZone: "UTC", events: [one("a1")] }],
    [B, { id: B, timeZone: "UTC", events: [one("b1"), blockInB] }],
    [C, { id: C, timeZone: "UTC", events: [one("c1"), { ...one("c2"), status: "cancelled" }] }],
    [D, { id: D, timeZone: "UTC", events: [one("d1")] }],
    [X, { id: X, timeZone: "UTC", events: [] }],
  ]);
  const shape = (mirrors: ReturnType<typeof expectedMirrors>) =>
    mirrors.map((m) => `${m.sourceEvent} → ${m.target[0]} ${m.summary}`).sort();

  await t.step("every member's real events, once into every other member", () => {
    assert.deepEqual(shape(expectedMirrors([], calendars, NOW, { groups: [aGroup()] })), [
      "a1 → b Busy",
      "a1 → c Busy",
      "b1 → a Busy",
      "b1 → c Busy",
      "c1 → a Busy",
      "c1 → b Busy",
    ]);
    const off = aGroup({ enabled: false });
    assert.deepEqual(expectedMirrors([], calendars, NOW, { groups: [off] }), []);
  });

  await t.step("a member's own privacy for the blocks made from its events", () => {
    const group = aGroup({
      title: "Taken",
      members: [{ calendar: ref(A), privacy: "title" }, { calendar: ref(B) }],
    });
    assert.deepEqual(shape(expectedMirrors([], calendars, NOW, { groups: [group] })), [
      "a1 → b a1",
      "b1 → a Taken",
    ]);
  });

  await t.step("a member the calendar list shows as read-only is a source only", () => {
    const group = aGroup({ members: [A, D].map((id) => ({ calendar: ref(id) })) });
    const mirrors = expectedMirrors([], calendars, NOW, {
      groups: [group],
      readOnly: new Set([D]),
    });
    assert.deepEqual(shape(mirrors), ["d1 → a Busy"]);
  });

  await t.step("a rule reading a member copies its real events, never the group's blocks", () => {
    const rule = aRule({ source: ref(B), target: ref(X) });
    const mirrors = expectedMirrors([rule], calendars, NOW, { groups: [aGroup()] });
    assert.deepEqual(mirrors.filter((m) => m.target === X).map((m) => m.sourceEvent), ["b1"]);
    assert.equal(mirrors.length, 7);
  });

  await t.step("blocks of one event id from two members are told apart by their source", () => {
    const twins = new Map([
      [A, { id: A, timeZone: "UTC", events: [one("same")] }],
      [B, { id: B, timeZone: "UTC", events: [one("same")] }],
      [C, { id: C, timeZone: "UTC", events: [] }],
    ]);
    const expected = expectedMirrors([], twins, NOW, { groups: [aGroup()] });
    const block = (source: string) => ({
      ...one(`from-${source}`),
      summary: "Busy",
      extendedProperties: {
        private: {
          busysync: "1",
          busysyncRule: "group1",
          busysyncSource: `c:${source}`,
          busysyncEvent: "same",
          busysyncTarget: `c:${C}`,
        },
      },
    });
    const exact = compareMirrors(expected, new Map([[C, [block(A), block(B)]]]));
    assert.deepEqual([exact.duplicates, exact.missing, exact.stale], [0, 2, 0]);
    const twice = compareMirrors(expected, new Map([[C, [block(A), block(A)]]]));
    assert.deepEqual([twice.duplicates, twice.missing, twice.stale], [1, 3, 0]);
  });
});
