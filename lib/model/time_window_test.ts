import assert from "node:assert/strict";
import { anAllDayEvent, anEvent } from "./test_builders.ts";
import { computeWindow, overlapsWindow, readEventSpan, spanWindows } from "./time_window.ts";

const at = (iso: string) => new Date(iso).getTime();

Deno.test("window: runs from daysBack whole days before now to daysAhead after", () => {
  const now = new Date("2025-03-30T12:00:00Z");
  assert.deepEqual(computeWindow(now, { daysBack: 7, daysAhead: 60 }), {
    start: new Date("2025-03-23T12:00:00Z"),
    end: new Date("2025-05-29T12:00:00Z"),
  });
});

Deno.test("window: several rules' windows are covered by one listing", () => {
  const now = new Date("2025-06-01T00:00:00Z");
  const span = spanWindows([
    computeWindow(now, { daysBack: 7, daysAhead: 10 }),
    computeWindow(now, { daysBack: 1, daysAhead: 60 }),
  ]);
  assert.deepEqual(span, {
    start: new Date("2025-05-25T00:00:00Z"),
    end: new Date("2025-07-31T00:00:00Z"),
  });
  assert.throws(() => spanWindows([]), RangeError);
});

Deno.test("window: overlap follows Google's exclusive bounds", async (t) => {
  const window = { start: new Date("2025-06-01T00:00:00Z"), end: new Date("2025-06-02T00:00:00Z") };
  const span = (start: string, end: string) => ({ start: at(start), end: at(end) });
  await t.step("an event ending exactly at the window's start is out", () => {
    assert.equal(
      overlapsWindow(span("2025-05-31T23:00:00Z", "2025-06-01T00:00:00Z"), window),
      false,
    );
  });
  await t.step("an event ending a millisecond later is in", () => {
    assert.equal(
      overlapsWindow(span("2025-05-31T23:00:00Z", "2025-06-01T00:00:00.001Z"), window),
      true,
    );
  });
  await t.step("an event starting exactly at the window's end is out", () => {
    assert.equal(
      overlapsWindow(span("2025-06-02T00:00:00Z", "2025-06-02T01:00:00Z"), window),
      false,
    );
  });
  await t.step("an event spanning the whole window is in", () => {
    assert.equal(
      overlapsWindow(span("2025-05-01T00:00:00Z", "2025-07-01T00:00:00Z"), window),
      true,
    );
  });
});

Deno.test("span: a timed event is its instants, whatever zone it was written in", () => {
  const berlin = readEventSpan(anEvent(), "UTC");
  const tokyo = readEventSpan(
    anEvent({
      start: { dateTime: "2025-06-03T17:00:00+09:00", timeZone: "Asia/Tokyo" },
      end: { dateTime: "2025-06-03T18:00:00+09:00", timeZone: "Asia/Tokyo" },
    }),
    "UTC",
  );
  assert.deepEqual(berlin, {
    allDay: false,
    start: at("2025-06-03T08:00:00Z"),
    end: at("2025-06-03T09:00:00Z"),
  });
  assert.deepEqual(tokyo, berlin);
});

Deno.test("span: a local time without offset is read in its own zone", () => {
  const span = readEventSpan(
    anEvent({
      start: { dateTime: "2025-01-15T09:00:00", timeZone: "America/New_York" },
      end: { dateTime: "2025-01-15T10:00:00Z" },
    }),
    "UTC",
  );
  assert.deepEqual(span, {
    allDay: false,
    start: at("2025-01-15T14:00:00Z"),
    end: at("2025-01-15T10:00:00Z"),
  });
});

Deno.test("span: an all-day event keeps its dates and sits at midnight in the calendar's zone", () => {
  const event = anAllDayEvent("2025-06-10", "2025-06-11");
  assert.deepEqual(readEventSpan(event, "UTC"), {
    allDay: true,
    startDate: "2025-06-10",
    endDate: "2025-06-11",
    start: at("2025-06-10T00:00:00Z"),
    end: at("2025-06-11T00:00:00Z"),
  });
  assert.equal(readEventSpan(event, "America/New_York")?.start, at("2025-06-10T04:00:00Z"));
});

Deno.test("span: unreadable times give no span instead of throwing", async (t) => {
  await t.step("a malformed instant", () => {
    assert.equal(readEventSpan(anEvent({ start: { dateTime: "tomorrow" } }), "UTC"), undefined);
  });
  await t.step("a local time with no zone to read it in", () => {
    assert.equal(
      readEventSpan(anEvent({ start: { dateTime: "2025-06-03T10:00:00" } }), "UTC"),
      undefined,
    );
  });
  await t.step("an all-day start with a timed end", () => {
    assert.equal(readEventSpan(anEvent({ start: { date: "2025-06-03" } }), "UTC"), undefined);
  });
  await t.step("an invalid date", () => {
    assert.equal(readEventSpan(anAllDayEvent("2025-02-30", "2025-03-01"), "UTC"), undefined);
  });
  await t.step("a timed start on a day the month does not have, or at 24:00", () => {
    for (
      const dateTime of [
        "2025-02-29T10:00:00Z",
        "2024-04-31T10:00:00+02:00",
        "2025-06-03T24:00:00Z",
      ]
    ) {
      assert.equal(readEventSpan(anEvent({ start: { dateTime } }), "UTC"), undefined, dateTime);
    }
  });
});

Deno.test("span: instants with milliseconds, offsets and leap days read as Temporal reads them", () => {
  for (
    const dateTime of [
      "2024-02-29T23:30:00-05:00",
      "2025-03-30T01:59:59.999+01:00",
      "2025-12-31T23:00:00.000Z",
      "2025-06-30T23:59:60Z",
      "2025-06-03T10:00:00+0530",
    ]
  ) {
    const span = readEventSpan(
      anEvent({ start: { dateTime }, end: { dateTime: "2030-01-01T00:00:00Z" } }),
      "UTC",
    );
    assert.equal(span?.start, Temporal.Instant.from(dateTime).epochMilliseconds, dateTime);
  }
});
