import assert from "node:assert/strict";
import { formatMinutes, layoutWeek, mondayOf, weekLabel } from "./week.ts";

const ZONE = "Europe/Berlin";
const timed = (start: string, end: string, data = "x") => ({
  start: { dateTime: start },
  end: { dateTime: end },
  data,
});

Deno.test("week: the Monday of a week is found in the calendar's zone, not UTC's", () => {
  // Sunday 23:30 UTC is already Monday in Berlin.
  assert.equal(mondayOf(new Date("2026-11-29T23:30:00Z"), ZONE), "2026-11-30");
  assert.equal(mondayOf(new Date("2026-11-29T23:30:00Z"), "UTC"), "2026-11-23");
  assert.equal(mondayOf(new Date("2026-11-25T12:00:00Z"), ZONE, -1), "2026-11-16");
});

Deno.test("week: a timed event is placed at its local wall-clock time", () => {
  const week = layoutWeek(
    [timed("2026-11-25T07:00:00Z", "2026-11-25T07:45:00Z")],
    ZONE,
    "2026-11-23",
  );
  assert.deepEqual(week.placed, [
    { allDay: false, day: 2, from: 8 * 60, to: 8 * 60 + 45, lane: 0, lanes: 1, data: "x" },
  ]);
  assert.equal(week.days[2], "Wed 25");
});

Deno.test("week: an event past midnight becomes one piece per day", () => {
  const week = layoutWeek(
    [timed("2026-11-27T21:00:00+01:00", "2026-11-28T01:30:00+01:00")],
    ZONE,
    "2026-11-23",
  );
  assert.deepEqual(week.placed.map((p) => !p.allDay && [p.day, p.from, p.to]), [
    [4, 21 * 60, 24 * 60],
    [5, 0, 90],
  ]);
  // The shown hours grow to hold the early-morning piece.
  assert.equal(week.firstHour, 0);
  assert.equal(week.lastHour, 24);
});

Deno.test("week: all-day events are clipped to the week; events outside it are left out", () => {
  const week = layoutWeek(
    [
      { start: { date: "2026-11-28" }, end: { date: "2026-12-02" }, data: "trip" },
      { start: { date: "2026-11-20" }, end: { date: "2026-11-21" }, data: "before" },
      timed("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", "after"),
    ],
    ZONE,
    "2026-11-23",
  );
  assert.deepEqual(week.placed, [{ allDay: true, day: 5, days: 2, data: "trip" }]);
  assert.equal(week.firstHour, 7);
  assert.equal(week.lastHour, 21);
});

Deno.test("week: overlapping events share the day's width in lanes", () => {
  const week = layoutWeek(
    [
      timed("2026-11-24T09:00:00+01:00", "2026-11-24T11:00:00+01:00", "a"),
      timed("2026-11-24T10:00:00+01:00", "2026-11-24T10:30:00+01:00", "b"),
      timed("2026-11-24T10:45:00+01:00", "2026-11-24T12:00:00+01:00", "c"),
      timed("2026-11-24T13:00:00+01:00", "2026-11-24T14:00:00+01:00", "d"),
    ],
    ZONE,
    "2026-11-23",
  );
  const lanes = Object.fromEntries(
    week.placed.map((p) => [p.data, !p.allDay && `${p.lane}/${p.lanes}`]),
  );
  assert.deepEqual(lanes, { a: "0/2", b: "1/2", c: "1/2", d: "0/1" });
});

Deno.test("week: labels", () => {
  assert.equal(weekLabel("2026-11-23"), "23 – 29 Nov 2026");
  assert.equal(weekLabel("2026-11-30"), "30 Nov – 6 Dec 2026");
  assert.equal(formatMinutes(545), "09:05");
  assert.equal(formatMinutes(1440), "24:00");
});
