import assert from "node:assert/strict";
import { type Rule, RuleSchema } from "../../lib/sync/rule.ts";
import type { RawEvent } from "../sync/support.ts";
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
        private: { busysync: "1", busysyncRule: "rule1", busysyncEvent: sourceEvent },
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
