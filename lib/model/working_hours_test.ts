import assert from "node:assert/strict";
import type { WorkingHours } from "./rule.ts";
import type { EventSpan } from "./time_window.ts";
import { overlapsWorkingHours } from "./working_hours.ts";

const WEEKDAYS_ONLY = ["mon", "tue", "wed", "thu", "fri"] as const;
const EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

function hours(overrides: Partial<WorkingHours> = {}): WorkingHours {
  return {
    days: [...WEEKDAYS_ONLY],
    start: "09:00",
    end: "17:00",
    timeZone: "Europe/Berlin",
    ...overrides,
  };
}

/** A timed span between two RFC 3339 instants. */
function timed(start: string, end: string): EventSpan {
  return { allDay: false, start: Date.parse(start), end: Date.parse(end) };
}

function allDay(startDate: string, endDate: string): EventSpan {
  // The instants do not matter to working hours for all-day events: only the dates do.
  return { allDay: true, startDate, endDate, start: 0, end: 0 };
}

Deno.test("working hours: a weekday 09:00-17:00 window in Berlin", async (t) => {
  const cases: [string, EventSpan, boolean][] = [
    [
      "a Tuesday 10:00 meeting is inside",
      timed("2025-06-03T10:00:00+02:00", "2025-06-03T11:00:00+02:00"),
      true,
    ],
    [
      "one ending exactly at 09:00 is outside",
      timed("2025-06-03T08:00:00+02:00", "2025-06-03T09:00:00+02:00"),
      false,
    ],
    [
      "one running 08:30-09:30 overlaps, so passes",
      timed("2025-06-03T08:30:00+02:00", "2025-06-03T09:30:00+02:00"),
      true,
    ],
    [
      "one starting exactly at 17:00 is outside",
      timed("2025-06-03T17:00:00+02:00", "2025-06-03T18:00:00+02:00"),
      false,
    ],
    [
      "one ending at 17:01 overlaps",
      timed("2025-06-03T16:00:00+02:00", "2025-06-03T17:01:00+02:00"),
      true,
    ],
    [
      "a Saturday 10:00 meeting is outside",
      timed("2025-06-07T10:00:00+02:00", "2025-06-07T11:00:00+02:00"),
      false,
    ],
    [
      "a zero-length reminder at 10:00 is inside",
      timed("2025-06-03T10:00:00+02:00", "2025-06-03T10:00:00+02:00"),
      true,
    ],
    [
      "a zero-length reminder at 17:00 is outside",
      timed("2025-06-03T17:00:00+02:00", "2025-06-03T17:00:00+02:00"),
      false,
    ],
    [
      "a weekend trip Friday 18:00 to Monday 08:00 is outside",
      timed("2025-06-06T18:00:00+02:00", "2025-06-09T08:00:00+02:00"),
      false,
    ],
    [
      "a trip lasting ten days is inside",
      timed("2025-06-06T18:00:00+02:00", "2025-06-16T08:00:00+02:00"),
      true,
    ],
  ];
  for (const [name, span, inside] of cases) {
    await t.step(name, () => assert.equal(overlapsWorkingHours(span, hours()), inside));
  }
});

Deno.test("working hours: an event written in another zone is judged by its instant", () => {
  // 04:30 in New York is 10:30 in Berlin: inside Berlin working hours.
  const ny = timed("2025-06-03T04:30:00-04:00", "2025-06-03T05:00:00-04:00");
  assert.equal(overlapsWorkingHours(ny, hours()), true);
  assert.equal(overlapsWorkingHours(ny, hours({ timeZone: "America/New_York" })), false);
});

Deno.test("working hours: Berlin's spring-forward keeps the window at 09:00 local", async (t) => {
  // Last Sunday of March 2025 (30th): 02:00 CET becomes 03:00 CEST; 09:00 local moves from
  // 08:00Z to 07:00Z. The same UTC clock time is outside before and inside after.
  const h = hours({ days: [...EVERY_DAY] });
  await t.step("Friday 07:30Z is 08:30 CET: outside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-03-28T07:30:00Z", "2025-03-28T08:00:00Z"), h),
      false,
    );
  });
  await t.step("Monday 07:30Z is 09:30 CEST: inside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-03-31T07:30:00Z", "2025-03-31T08:00:00Z"), h),
      true,
    );
  });
  await t.step("on the day itself 06:30-07:00Z (08:30-09:00 CEST) is outside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-03-30T06:30:00Z", "2025-03-30T07:00:00Z"), h),
      false,
    );
  });
  await t.step("on the day itself 07:00-07:30Z (09:00-09:30 CEST) is inside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-03-30T07:00:00Z", "2025-03-30T07:30:00Z"), h),
      true,
    );
  });
  await t.step("a window starting at 02:30, a time that day skips, opens at 03:30 CEST", () => {
    const night = hours({ days: ["sun"], start: "02:30", end: "05:00" });
    assert.equal(
      overlapsWorkingHours(timed("2025-03-30T01:00:00Z", "2025-03-30T01:30:00Z"), night),
      false,
    );
    assert.equal(
      overlapsWorkingHours(timed("2025-03-30T01:30:00Z", "2025-03-30T02:00:00Z"), night),
      true,
    );
  });
});

Deno.test("working hours: Berlin's fall-back keeps the window at 09:00 local", async (t) => {
  // Last Sunday of October 2025 (26th): 03:00 CEST becomes 02:00 CET; 09:00 local moves from
  // 07:00Z to 08:00Z.
  await t.step("Friday 07:30Z is 09:30 CEST: inside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-10-24T07:30:00Z", "2025-10-24T08:00:00Z"), hours()),
      true,
    );
  });
  await t.step("Monday 07:30Z is 08:30 CET: outside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-10-27T07:30:00Z", "2025-10-27T08:00:00Z"), hours()),
      false,
    );
  });
  await t.step(
    "a window starting at 02:30, a time that day repeats, opens at its first occurrence",
    () => {
      const night = hours({ days: ["sun"], start: "02:30", end: "05:00" });
      // 00:30Z is 02:30 CEST (the first 02:30); 01:30Z is 02:30 CET (the second).
      assert.equal(
        overlapsWorkingHours(timed("2025-10-26T00:00:00Z", "2025-10-26T00:30:00Z"), night),
        false,
      );
      assert.equal(
        overlapsWorkingHours(timed("2025-10-26T00:30:00Z", "2025-10-26T01:00:00Z"), night),
        true,
      );
    },
  );
});

Deno.test("working hours: New York's DST changes keep the window at 09:00 local", async (t) => {
  const ny = hours({ timeZone: "America/New_York" });
  // DST starts Sunday 9 March 2025: 09:00 moves from 14:00Z to 13:00Z.
  await t.step("Friday 7 March 13:30Z is 08:30 EST: outside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-03-07T13:30:00Z", "2025-03-07T14:00:00Z"), ny),
      false,
    );
  });
  await t.step("Monday 10 March 13:30Z is 09:30 EDT: inside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-03-10T13:30:00Z", "2025-03-10T14:00:00Z"), ny),
      true,
    );
  });
  // DST ends Sunday 2 November 2025: 17:00 moves from 21:00Z to 22:00Z.
  await t.step("Friday 31 October 21:30Z is 17:30 EDT: outside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-10-31T21:30:00Z", "2025-10-31T22:00:00Z"), ny),
      false,
    );
  });
  await t.step("Monday 3 November 21:30Z is 16:30 EST: inside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-11-03T21:30:00Z", "2025-11-03T22:00:00Z"), ny),
      true,
    );
  });
});

Deno.test("working hours: an end before the start runs overnight and belongs to the start day", async (t) => {
  const nights = hours({ days: ["mon"], start: "22:00", end: "06:00", timeZone: "UTC" });
  await t.step("Tuesday 03:00 is inside Monday's night", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-06-03T03:00:00Z", "2025-06-03T04:00:00Z"), nights),
      true,
    );
  });
  await t.step("Monday 03:00 belongs to Sunday's night, which is not listed", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-06-02T03:00:00Z", "2025-06-02T04:00:00Z"), nights),
      false,
    );
  });
  await t.step("Tuesday 06:00 is outside", () => {
    assert.equal(
      overlapsWorkingHours(timed("2025-06-03T06:00:00Z", "2025-06-03T07:00:00Z"), nights),
      false,
    );
  });
});

Deno.test("working hours: an end of 24:00 runs to midnight", () => {
  const evenings = hours({ days: ["fri"], start: "18:00", end: "24:00", timeZone: "UTC" });
  assert.equal(
    overlapsWorkingHours(timed("2025-06-06T23:30:00Z", "2025-06-06T23:59:00Z"), evenings),
    true,
  );
  assert.equal(
    overlapsWorkingHours(timed("2025-06-07T00:00:00Z", "2025-06-07T00:30:00Z"), evenings),
    false,
  );
});

Deno.test("working hours: an all-day event passes when one of its dates is a working day", async (t) => {
  await t.step("a weekend (Saturday and Sunday) is outside", () => {
    assert.equal(overlapsWorkingHours(allDay("2025-06-07", "2025-06-09"), hours()), false);
  });
  await t.step("Friday to Saturday is inside", () => {
    assert.equal(overlapsWorkingHours(allDay("2025-06-06", "2025-06-08"), hours()), true);
  });
  await t.step("a week-long holiday always touches a working day", () => {
    assert.equal(
      overlapsWorkingHours(allDay("2025-06-07", "2025-06-14"), hours({ days: ["fri"] })),
      true,
    );
  });
});

/** A small seeded PRNG (mulberry32), so a failing case can be replayed. */
function randomSource(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An independent oracle: walks the event in 15-minute steps and asks Intl for each step's local
 * weekday and time. Exact when every bound is on a quarter hour and outside the DST-shifted
 * hours, which the generated cases respect.
 */
function bruteForce(start: number, end: number, h: WorkingHours): boolean {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: h.timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const [from, to] = [minutes(h.start), minutes(h.end)];
  for (let t = start; t < end; t += 15 * 60_000) {
    const parts = Object.fromEntries(format.formatToParts(t).map((p) => [p.type, p.value]));
    const day = names.indexOf(parts.weekday.toLowerCase());
    const now = Number(parts.hour) * 60 + Number(parts.minute);
    const listed = (d: number) =>
      h.days.includes(names[(d + 7) % 7] as WorkingHours["days"][number]);
    const inside = from < to
      ? listed(day) && now >= from && now < to
      : (listed(day) && now >= from) || (listed(day - 1) && now < to);
    if (inside) return true;
  }
  return false;
}

Deno.test("working hours: agree with a minute-by-minute Intl oracle across DST weeks", () => {
  const random = randomSource(20250330);
  const weeks = [
    ["Europe/Berlin", "2025-03-27T00:00:00Z"],
    ["Europe/Berlin", "2025-10-23T00:00:00Z"],
    ["America/New_York", "2025-03-06T00:00:00Z"],
    ["America/New_York", "2025-10-30T00:00:00Z"],
  ] as const;
  const quarter = 15 * 60_000;
  // Bounds avoid 01:00-04:00, the hours DST moves, where the oracle's model is not exact.
  const bounds = ["00:00", "05:00", "08:45", "09:00", "12:15", "17:00", "22:30", "23:45"];
  const allDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
  for (let i = 0; i < 400; i++) {
    const [timeZone, weekStart] = weeks[i % weeks.length];
    const start = Date.parse(weekStart) + Math.floor(random() * 7 * 96) * quarter;
    const end = start + Math.floor(random() * 48) * quarter + quarter;
    const days = allDays.filter(() => random() < 0.5);
    const [a, b] = [bounds[Math.floor(random() * 8)], bounds[Math.floor(random() * 8)]];
    if (days.length === 0 || a === b) continue;
    const h: WorkingHours = { days, start: a, end: b, timeZone };
    const span: EventSpan = { allDay: false, start, end };
    assert.equal(
      overlapsWorkingHours(span, h),
      bruteForce(start, end, h),
      `case ${i}: ${new Date(start).toISOString()}..${new Date(end).toISOString()} ${
        JSON.stringify(h)
      }`,
    );
  }
});
