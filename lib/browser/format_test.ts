import assert from "node:assert/strict";
import {
  describeProgress,
  formatDateTime,
  formatDuration,
  formatElapsed,
  formatEventTime,
  formatRelative,
  formatRemaining,
  formatTimeOfDay,
} from "./format.ts";

const NOW = new Date("2026-11-24T12:00:00Z");

Deno.test("format: times are shown in the given zone, the year only when it differs", () => {
  assert.equal(formatDateTime("2026-11-24T23:30:00Z", "Europe/Berlin", NOW), "Wed 25 Nov, 00:30");
  assert.equal(formatDateTime("2025-03-01T09:00:00Z", "UTC", NOW), "Sat 1 Mar 2025, 09:00");
});

Deno.test("format: a 12-hour clock and the zone's name, when the reader's clock asks", () => {
  const clock = { hour12: true, zoneName: "CET" };
  assert.equal(
    formatDateTime("2026-12-02T04:47:00Z", "Europe/Berlin", NOW, clock),
    "Wed 2 Dec, 5:47 AM CET",
  );
  assert.equal(formatTimeOfDay("2026-12-02T16:05:00Z", "UTC", { hour12: true }), "4:05 PM");
  assert.equal(formatTimeOfDay("2026-12-02T00:05:00Z", "UTC", { hour12: true }), "12:05 AM");
  assert.equal(formatTimeOfDay("2026-12-02T12:05:00Z", "UTC", { hour12: true }), "12:05 PM");
  assert.equal(formatTimeOfDay("2026-12-02T16:05:00Z", "UTC"), "16:05");
  assert.equal(
    formatEventTime(
      { dateTime: "2026-12-08T09:00:00Z" },
      { dateTime: "2026-12-08T10:30:00Z" },
      "Europe/Berlin",
      NOW,
      clock,
    ),
    "Tue 8 Dec, 10:00 AM–11:30 AM CET",
  );
});

Deno.test("format: a wait that ticks says nothing for its first second, then counts", () => {
  assert.equal(formatElapsed(40), "");
  assert.equal(formatElapsed(3_400), "3 s so far");
  assert.equal(formatElapsed(65_000), "1 min 5 s so far");
});

Deno.test("format: relative times and durations read as words", () => {
  const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
  assert.equal(formatRelative(at(-20_000), NOW), "just now");
  assert.equal(formatRelative(at(-5 * 60_000), NOW), "5 min ago");
  assert.equal(formatRelative(at(3 * 3_600_000), NOW), "in 3 h");
  assert.equal(formatRelative(at(-2 * 86_400_000), NOW), "2 days ago");
  assert.equal(formatDuration(30), "under 0.1 s");
  assert.equal(formatDuration(420), "0.4 s");
  assert.equal(formatDuration(12_400), "12 s");
  assert.equal(formatDuration(185_000), "3 min 5 s");
});

Deno.test("describeProgress: the stage, blocks written of those planned, and the time left", () => {
  const base = { startedAt: "2030-01-01T00:00:00Z", listed: 1000, planned: 1000 };
  assert.equal(
    describeProgress({ ...base, stage: "nearest", written: 120, remainingSeconds: 106 }),
    "Mirroring the next days first… 120 of 1,000 busy blocks written (1,000 events read), " +
      "about 2 min left.",
  );
  assert.equal(
    describeProgress({
      ...base,
      stage: "all",
      written: 400,
      nearestUntil: "2030-01-15T00:00:00Z",
      remainingSeconds: 30,
    }),
    "The next 14 days are in place; the rest follow… 400 of 1,000 busy blocks written " +
      "(1,000 events read), less than a minute left.",
  );
  assert.equal(formatRemaining(4_000), "about 1 h 7 min");
});
