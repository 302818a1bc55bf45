import assert from "node:assert/strict";
import { GoogleApiError } from "./google_errors.ts";
import {
  expandStarts,
  hasInstanceAt,
  instanceId,
  parseInstanceId,
  parseSeries,
  type Series,
  splitRecurrence,
} from "./recurrence.ts";
import { floatingToInstant, formatDateTime, parseDateTime } from "./time_zones.ts";

const floating = (text: string) => parseDateTime(text)!.ms;
const BERLIN = "Europe/Berlin";
const all = (series: Series) => expandStarts(series, undefined, floating("2100-01-01T00:00:00"));

function weekly(lines: string[], start = "2030-03-18T09:00:00", timeZone = BERLIN) {
  return parseSeries(lines, { allDay: false, timeZone, firstStart: floating(start) });
}

Deno.test("recurrence: a weekly series keeps 09:00 local time across the DST change", () => {
  const series = weekly(["RRULE:FREQ=WEEKLY;COUNT=3"]);
  const starts = all(series).map((f) => formatDateTime(floatingToInstant(f, BERLIN), BERLIN));
  assert.deepEqual(starts, [
    "2030-03-18T09:00:00+01:00",
    "2030-03-25T09:00:00+01:00",
    "2030-04-01T09:00:00+02:00",
  ]);
  const ids = all(series).map((f) => instanceId(series, "abcde", f));
  assert.deepEqual(ids, [
    "abcde_20300318T080000Z",
    "abcde_20300325T080000Z",
    "abcde_20300401T070000Z",
  ]);
});

Deno.test("recurrence: a UTC UNTIL is compared in the series' zone", () => {
  // 2030-04-01T07:00Z is 09:00 Berlin, the third instance: UNTIL is inclusive.
  const series = weekly(["RRULE:FREQ=WEEKLY;UNTIL=20300401T070000Z"]);
  assert.equal(all(series).length, 3);
});

Deno.test("recurrence: EXDATE removes instances whether given in UTC, with TZID or as a date", () => {
  const series = weekly([
    "RRULE:FREQ=WEEKLY;COUNT=5",
    "EXDATE:20300325T080000Z",
    "EXDATE;TZID=America/New_York:20300401T030000",
  ]);
  assert.equal(all(series).length, 3);
  assert.ok(!hasInstanceAt(series, floating("2030-03-25T09:00:00")));
  assert.ok(hasInstanceAt(series, floating("2030-04-08T09:00:00")));
  const allDay = parseSeries(["RRULE:FREQ=DAILY;COUNT=3", "EXDATE;VALUE=DATE:20300102"], {
    allDay: true,
    timeZone: BERLIN,
    firstStart: floating("2030-01-01T00:00:00"),
  });
  assert.deepEqual(all(allDay).map((f) => instanceId(allDay, "abcde", f)), [
    "abcde_20300101",
    "abcde_20300103",
  ]);
});

Deno.test("recurrence: RDATE adds an instance and the event start is always the first one", () => {
  // The start is a Sunday, which BYDAY=MO does not produce; it still is the first instance.
  const series = weekly(
    ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2", "RDATE;TZID=Europe/Berlin:20300330T120000"],
    "2030-03-17T09:00:00",
  );
  assert.equal(all(series).length, 4);
});

Deno.test("recurrence: a window bounds the expansion, which never exceeds 5000 instances", () => {
  const daily = weekly(["RRULE:FREQ=DAILY"]);
  const window = expandStarts(
    daily,
    floating("2031-01-01T00:00:00"),
    floating("2031-01-08T00:00:00"),
  );
  assert.equal(window.length, 7);
  assert.equal(all(weekly(["RRULE:FREQ=MINUTELY"])).length, 5000);
});

Deno.test("recurrence: lines Google rejects are a 400", () => {
  for (
    const line of ["DTSTART:20300101T000000Z", "RRULE:FREQ=SOMETIMES", "RRULE:BOGUS=1", "nonsense"]
  ) {
    assert.throws(
      () => weekly([line]),
      (e) => e instanceof GoogleApiError && e.status === 400,
      line,
    );
  }
  assert.throws(() => weekly(["EXDATE:20300325T080000Z"]), GoogleApiError, "a series needs a rule");
});

Deno.test("recurrence: instance ids parse back to the series and original start", () => {
  const zoneOf = (id: string) => id === "abcde" ? BERLIN : undefined;
  assert.deepEqual(parseInstanceId("abcde_20300401T070000Z", zoneOf), {
    seriesId: "abcde",
    floatingStart: floating("2030-04-01T09:00:00"),
    allDay: false,
  });
  assert.deepEqual(parseInstanceId("abcde_20300101", zoneOf), {
    seriesId: "abcde",
    floatingStart: floating("2030-01-01T00:00:00"),
    allDay: true,
  });
  assert.equal(parseInstanceId("abcde", zoneOf), null);
  assert.equal(parseInstanceId("zzzzz_20300401T070000Z", zoneOf), null);
});

Deno.test("recurrence: instance ids of a split-off _R series name that series", () => {
  const zoneOf = (id: string) => id === "abc_R20261203T100000" ? BERLIN : undefined;
  assert.deepEqual(parseInstanceId("abc_R20261203T100000_20261210T100000Z", zoneOf), {
    seriesId: "abc_R20261203T100000",
    floatingStart: floating("2026-12-10T11:00:00"),
    allDay: false,
  });
  assert.equal(parseInstanceId("abc_R20261203T100000", zoneOf), null, "a series id itself");
});

Deno.test("recurrence: a split ends the rule before the instance and carries the rest of a COUNT", () => {
  const lines = [
    "RRULE:FREQ=WEEKLY;COUNT=5",
    "EXDATE;TZID=Europe/Berlin:20300325T090000",
    "RDATE;TZID=Europe/Berlin:20300319T090000,20300402T120000",
  ];
  const series = weekly(lines);
  assert.deepEqual(splitRecurrence(series, lines, floating("2030-04-01T09:00:00")), {
    ending: [
      "RRULE:FREQ=WEEKLY;UNTIL=20300401T065959Z",
      "EXDATE;TZID=Europe/Berlin:20300325T090000",
      "RDATE;TZID=Europe/Berlin:20300319T090000",
    ],
    following: [
      "RRULE:FREQ=WEEKLY;COUNT=3",
      "EXDATE;TZID=Europe/Berlin:20300325T090000",
      "RDATE;TZID=Europe/Berlin:20300402T120000",
    ],
  });
});
