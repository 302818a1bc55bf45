import assert from "node:assert/strict";
import { diffInstances } from "./ical_instances.ts";
import { readCalendarObject } from "./ical_events.ts";

const WINDOW = { start: new Date("2027-01-04T00:00:00Z"), end: new Date("2027-01-18T00:00:00Z") };

function series(...extra: string[]): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "BEGIN:VEVENT",
    "UID:s",
    "DTSTART:20270105T100000Z",
    "DTEND:20270105T110000Z",
    ...extra,
    "END:VEVENT",
    "END:VCALENDAR",
  ].join("\r\n");
}

const read = (text: string) =>
  readCalendarObject(text, { resourceKey: "r", window: WINDOW, calendarZone: "UTC" });

Deno.test("ical instances: the instances a changed series dropped are reported gone", async (t) => {
  const before = read(series("RRULE:FREQ=DAILY;COUNT=4"));
  const seen = before.events.map((e) => e.id);
  assert.equal(seen.length, 4);

  await t.step("a new EXDATE and a shorter COUNT", () => {
    const after = read(series("RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20270106T100000Z"));
    const diff = diffInstances("r", seen, after);
    assert.deepEqual(diff.gone, [
      { id: "r:20270106T100000Z", status: "cancelled", recurringEventId: "r" },
      { id: "r:20270108T100000Z", status: "cancelled", recurringEventId: "r" },
    ]);
    assert.deepEqual(diff.remember, ["r:20270105T100000Z", "r:20270107T100000Z"]);
  });

  await t.step("nothing changed: nothing gone", () => {
    const diff = diffInstances("r", seen, read(series("RRULE:FREQ=DAILY;COUNT=4")));
    assert.deepEqual(diff.gone, []);
    assert.deepEqual(diff.remember, seen);
  });

  await t.step("a series that became a single event: every instance gone, the event new", () => {
    const diff = diffInstances("r", seen, read(series()));
    assert.equal(diff.gone.length, 4);
    assert.deepEqual(diff.remember, ["r"]);
  });

  await t.step("a single event that was cancelled", () => {
    const diff = diffInstances("r", ["r"], read(series("STATUS:CANCELLED")));
    assert.deepEqual(diff, { gone: [{ id: "r", status: "cancelled" }], remember: [] });
  });

  await t.step("a deleted resource: all of it gone", () => {
    const diff = diffInstances("r", seen, undefined);
    assert.deepEqual(diff.gone.map((e) => e.id), seen);
    assert.deepEqual(diff.remember, []);
  });
});

Deno.test("ical instances: what cannot be read is never taken as gone", async (t) => {
  const seen = ["r:20270105T100000Z", "r:20270106T100000Z"];

  await t.step("an unreadable object keeps everything seen", () => {
    const diff = diffInstances("r", seen, read("garbage"));
    assert.deepEqual(diff, { gone: [], remember: seen });
  });

  await t.step("an unreadable override keeps its instance", () => {
    const after = read(
      series("RRULE:FREQ=DAILY;COUNT=2").replace(
        "END:VCALENDAR",
        [
          "BEGIN:VEVENT",
          "UID:s",
          "RECURRENCE-ID:20270106T100000Z",
          "DTSTART;TZID=Nowhere:20270106T120000",
          "END:VEVENT",
          "END:VCALENDAR",
        ].join("\r\n"),
      ),
    );
    assert.equal(after.problems.length, 1);
    const diff = diffInstances("r", seen, after);
    assert.deepEqual(diff, { gone: [], remember: seen });
  });
});
