import assert from "node:assert/strict";
import { type CalendarObject, readCalendarObject, type ReadObjectOptions } from "./ical_events.ts";
import type { LiveSourceEvent } from "../model/events.ts";

const FIXTURES = new URL("../../tests/fixtures/ics/", import.meta.url);
const fixture = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));

/** Builds an object from its lines, CRLF-joined as servers send it. */
function ics(...lines: string[]): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", ...lines, "END:VCALENDAR", ""]
    .join("\r\n");
}

function vevent(...lines: string[]): string[] {
  return ["BEGIN:VEVENT", ...lines, "END:VEVENT"];
}

const JANUARY = { start: new Date("2027-01-04T00:00:00Z"), end: new Date("2027-01-18T00:00:00Z") };

function read(text: string, opts: Partial<ReadObjectOptions> = {}): CalendarObject {
  return readCalendarObject(text, {
    resourceKey: "res1",
    window: JANUARY,
    calendarZone: "Europe/Berlin",
    ...opts,
  });
}

/** Each event as "id start–end", the shape most tests compare. */
function slots(events: readonly LiveSourceEvent[]): string[] {
  return events.map((e) => {
    const time = (t: LiveSourceEvent["start"]) => "date" in t ? t.date : t.dateTime;
    return `${e.id} ${time(e.start)}–${time(e.end)}`;
  });
}

/** The series without its server-added VTIMEZONE: stored as sent, as Xandikos and Cyrus do. */
function withoutVtimezone(text: string): string {
  return text.replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE\r?\n/, "");
}

const WEEKLY_SLOTS = [
  "res1:20270104T080000Z 2027-01-04T08:00:00Z–2027-01-04T09:00:00Z",
  "res1:20270106T080000Z 2027-01-06T08:00:00Z–2027-01-06T09:00:00Z",
  "res1:20270108T080000Z 2027-01-08T13:00:00Z–2027-01-08T14:00:00Z",
  "res1:20270115T080000Z 2027-01-15T08:00:00Z–2027-01-15T09:00:00Z",
  "res1:20270116T090000Z 2027-01-16T09:00:00Z–2027-01-16T10:00:00Z",
];

Deno.test("ical events: a weekly series with a moved, a cancelled, an EXDATE'd and an RDATE instance", async (t) => {
  const object = read(fixture("radicale_weekly_series.ics"), {
    selfAddresses: ["alice@example.com"],
  });

  await t.step("gives exactly the live instances of the window, soonest first", () => {
    assert.equal(object.readable, true);
    assert.deepEqual(object.problems, []);
    assert.equal(object.uid, "weekly-7f3a@example.com");
    // The 11th is a CANCELLED override and the 13th an EXDATE; the 16th is the RDATE.
    assert.deepEqual(slots(object.events), WEEKLY_SLOTS);
  });

  await t.step("an instance carries the series and its original start", () => {
    const first = object.events[0];
    assert.equal(first.recurringEventId, "res1");
    assert.deepEqual(first.originalStartTime, {
      dateTime: "2027-01-04T08:00:00Z",
      timeZone: "Europe/Berlin",
    });
    assert.deepEqual(first.start, { dateTime: "2027-01-04T08:00:00Z", timeZone: "Europe/Berlin" });
  });

  await t.step("the master's fields, unescaped and unfolded", () => {
    const first = object.events[0];
    assert.equal(first.status, "confirmed");
    assert.equal(first.summary, "Team sync");
    assert.equal(
      first.description,
      "Agenda: one, two; three. A long description that a server refolds at seventy-five " +
        "octets, as Radicale does.",
    );
    assert.equal(first.location, "Room 4");
    assert.equal(first.iCalUID, "weekly-7f3a@example.com");
    assert.equal(first.organizerEmail, "bo@example.com");
    assert.equal(first.updated, "2026-12-02T11:00:00Z");
    // The address is compared without case: the ATTENDEE says Alice@Example.com.
    assert.equal(first.selfResponseStatus, "tentative");
    assert.deepEqual(first.attendees, [
      { email: "bo@example.com", responseStatus: "accepted" },
      { email: "Alice@Example.com", responseStatus: "tentative" },
    ]);
  });

  await t.step("a moved instance has the override's own fields", () => {
    const moved = object.events[2];
    assert.equal(moved.summary, "Team sync (moved)");
    assert.equal(moved.selfResponseStatus, "accepted");
    assert.equal(moved.description, undefined);
    assert.deepEqual(moved.originalStartTime, {
      dateTime: "2027-01-08T08:00:00Z",
      timeZone: "Europe/Berlin",
    });
  });

  await t.step("without the VTIMEZONE (TZID only) the instants are the same", () => {
    const bare = read(withoutVtimezone(fixture("radicale_weekly_series.ics")));
    assert.deepEqual(bare.problems, []);
    assert.deepEqual(slots(bare.events), WEEKLY_SLOTS);
  });

  await t.step("with LF line ends instead of CRLF, the same", () => {
    const lf = read(fixture("radicale_weekly_series.ics").replaceAll("\r\n", "\n"));
    assert.deepEqual(slots(lf.events), WEEKLY_SLOTS);
  });
});

Deno.test("ical events: a daily series across the spring DST change keeps its local time", async (t) => {
  const window = { start: new Date("2027-03-20T00:00:00Z"), end: new Date("2027-04-10T00:00:00Z") };
  const expected = [
    "2027-03-25T08:00:00Z",
    "2027-03-26T08:00:00Z",
    "2027-03-27T08:00:00Z",
    "2027-03-28T07:00:00Z",
    "2027-03-29T07:00:00Z",
    "2027-03-30T07:00:00Z",
    // UNTIL=20270331T070000Z is exactly this instance (09:00 CEST): it is kept.
    "2027-03-31T07:00:00Z",
  ];
  const starts = (o: CalendarObject) =>
    o.events.map((e) => "dateTime" in e.start && e.start.dateTime);

  await t.step("with the object's VTIMEZONE", () => {
    const object = read(fixture("berlin_dst_week.ics"), { window });
    assert.deepEqual(object.problems, []);
    assert.deepEqual(starts(object), expected);
  });
  await t.step("with a TZID the object does not define", () => {
    const object = read(withoutVtimezone(fixture("berlin_dst_week.ics")), { window });
    assert.deepEqual(object.problems, []);
    assert.deepEqual(starts(object), expected);
  });
  await t.step("a time in the spring gap moves forward, with or without the VTIMEZONE", () => {
    // 02:30 does not exist on 28 March in Berlin: RFC 5545 §3.3.5 reads it as 03:30 CEST.
    const atNight = fixture("berlin_dst_week.ics")
      .replace(
        "DTSTART;TZID=Europe/Berlin:20270325T090000",
        "DTSTART;TZID=Europe/Berlin:20270327T023000",
      )
      .replace(
        "DTEND;TZID=Europe/Berlin:20270325T093000",
        "DTEND;TZID=Europe/Berlin:20270327T030000",
      );
    const nightly = [
      "2027-03-27T01:30:00Z",
      "2027-03-28T01:30:00Z",
      "2027-03-29T00:30:00Z",
      "2027-03-30T00:30:00Z",
      "2027-03-31T00:30:00Z",
    ];
    assert.deepEqual(starts(read(atNight, { window })), nightly);
    assert.deepEqual(starts(read(withoutVtimezone(atNight), { window })), nightly);
  });

  await t.step("a DURATION of a day ends at the same local time the next day", () => {
    const object = read(
      ics(...vevent(
        "UID:d",
        "DTSTART;TZID=Europe/Berlin:20270327T120000",
        "DURATION:P1D",
      )),
      { window },
    );
    assert.deepEqual(slots(object.events), ["res1 2027-03-27T11:00:00Z–2027-03-28T10:00:00Z"]);
  });
});

Deno.test("ical events: single events", async (t) => {
  await t.step("a single event's id is the resource key, with no series", () => {
    const object = read(ics(...vevent(
      "UID:one",
      "DTSTART:20270105T100000Z",
      "DTEND:20270105T110000Z",
      "STATUS:TENTATIVE",
      "TRANSP:TRANSPARENT",
      "CLASS:PRIVATE",
    )));
    assert.equal(object.events.length, 1);
    const [e] = object.events;
    assert.equal(e.id, "res1");
    assert.equal(e.recurringEventId, undefined);
    assert.equal(e.originalStartTime, undefined);
    assert.equal(e.status, "tentative");
    assert.equal(e.transparency, "transparent");
    assert.equal(e.visibility, "private");
    assert.deepEqual(e.start, { dateTime: "2027-01-05T10:00:00Z" });
  });

  await t.step("an all-day event spanning days keeps its dates, the end exclusive", () => {
    const object = read(ics(...vevent(
      "UID:trip",
      "DTSTART;VALUE=DATE:20270105",
      "DTEND;VALUE=DATE:20270108",
    )));
    assert.deepEqual(slots(object.events), ["res1 2027-01-05–2027-01-08"]);
  });

  await t.step("an all-day event without DTEND lasts its day; a timed one no time", () => {
    const allDay = read(ics(...vevent("UID:a", "DTSTART;VALUE=DATE:20270105")));
    assert.deepEqual(slots(allDay.events), ["res1 2027-01-05–2027-01-06"]);
    const timed = read(ics(...vevent("UID:b", "DTSTART:20270105T100000Z")));
    assert.deepEqual(slots(timed.events), ["res1 2027-01-05T10:00:00Z–2027-01-05T10:00:00Z"]);
  });

  await t.step("a floating time is read in the calendar's zone", () => {
    const object = read(
      ics(...vevent("UID:f", "DTSTART:20270105T090000", "DTEND:20270105T100000")),
      { calendarZone: "America/New_York" },
    );
    assert.deepEqual(slots(object.events), ["res1 2027-01-05T14:00:00Z–2027-01-05T15:00:00Z"]);
    assert.deepEqual(object.events[0].start, {
      dateTime: "2027-01-05T14:00:00Z",
      timeZone: "America/New_York",
    });
  });

  await t.step("a Windows zone name without VTIMEZONE is its IANA zone", () => {
    const object = read(ics(...vevent(
      "UID:w",
      "DTSTART;TZID=W. Europe Standard Time:20270105T090000",
      "DTEND;TZID=W. Europe Standard Time:20270105T093000",
    )));
    assert.deepEqual(object.events[0].start, {
      dateTime: "2027-01-05T08:00:00Z",
      timeZone: "Europe/Berlin",
    });
  });

  await t.step(
    "Outlook's own VTIMEZONE under a Windows name is used, named by its IANA zone",
    () => {
      const object = read(ics(
        "BEGIN:VTIMEZONE",
        "TZID:W. Europe Standard Time",
        "BEGIN:STANDARD",
        "DTSTART:16010101T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:16010101T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        ...vevent(
          "UID:040000008200E00074C5B7101A82E008",
          "DTSTART;TZID=W. Europe Standard Time:20270105T090000",
          "DTEND;TZID=W. Europe Standard Time:20270105T093000",
          "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
        ),
      ));
      assert.deepEqual(object.events[0].start, {
        dateTime: "2027-01-05T08:00:00Z",
        timeZone: "Europe/Berlin",
      });
      assert.equal(object.events[0].transparency, "opaque");
    },
  );

  await t.step("an attendee named by a urn:uuid is known by its EMAIL parameter", () => {
    const object = read(
      ics(...vevent(
        "UID:i",
        "DTSTART:20270105T100000Z",
        "ORGANIZER;EMAIL=bo@example.com:urn:uuid:0b8e-organizer",
        "ATTENDEE;PARTSTAT=DECLINED;EMAIL=me@example.com:urn:uuid:5c1a-me",
      )),
      { selfAddresses: ["ME@example.com"] },
    );
    assert.equal(object.events[0].organizerEmail, "bo@example.com");
    assert.equal(object.events[0].selfResponseStatus, "declined");
  });

  await t.step("Outlook's FREE busy status makes an event free", () => {
    const object = read(ics(...vevent(
      "UID:o",
      "DTSTART:20270105T100000Z",
      "DTEND:20270105T110000Z",
      "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
    )));
    assert.equal(object.events[0].transparency, "transparent");
  });

  await t.step(
    "Outlook's busy status wins over TRANSP: working elsewhere is free, tentative and out of office busy",
    () => {
      const withStatus = (status: string, transp: string) =>
        read(ics(...vevent(
          "UID:o",
          "DTSTART:20270105T100000Z",
          "DTEND:20270105T110000Z",
          `TRANSP:${transp}`,
          `X-MICROSOFT-CDO-BUSYSTATUS:${status}`,
        ))).events[0];
      assert.equal(withStatus("WORKINGELSEWHERE", "OPAQUE").transparency, "transparent");
      assert.equal(withStatus("OOF", "TRANSPARENT").transparency, "opaque");
      const tentative = withStatus("TENTATIVE", "OPAQUE");
      assert.equal(tentative.transparency, "opaque");
      assert.equal(tentative.status, "tentative");
      assert.equal(withStatus("BUSY", "OPAQUE").status, "confirmed");
      assert.equal(withStatus("SOMETHING", "TRANSPARENT").transparency, "transparent");
    },
  );

  await t.step("an event outside the window is not listed; a CANCELLED one never", () => {
    const outside = read(ics(...vevent("UID:o", "DTSTART:20270301T100000Z")));
    assert.deepEqual(outside, { readable: true, uid: "o", events: [], problems: [] });
    const cancelled = read(ics(...vevent(
      "UID:c",
      "DTSTART:20270105T100000Z",
      "STATUS:CANCELLED",
    )));
    assert.deepEqual(cancelled.events, []);
    assert.equal(cancelled.readable, true);
  });

  await t.step("the busysync marker comes back as private properties", () => {
    const object = read(ics(...vevent(
      "UID:bsm1",
      "DTSTART:20270105T100000Z",
      "X-BUSYSYNC:1",
      "X-BUSYSYNC-RULE:rule1",
      // As Xandikos returns a written value: TEXT-escaped.
      "X-BUSYSYNC-SOURCE:conn\\:a@b",
    )));
    assert.deepEqual(object.events[0].privateProps, {
      busysync: "1",
      busysyncRule: "rule1",
      busysyncSource: "conn:a@b",
    });
  });
});

Deno.test("ical events: series bounds", async (t) => {
  await t.step("an unbounded series that began years before the window", () => {
    const object = read(ics(...vevent(
      "UID:u",
      "DTSTART;TZID=Europe/Berlin:20200106T070000",
      "DTEND;TZID=Europe/Berlin:20200106T073000",
      "RRULE:FREQ=WEEKLY",
    )));
    assert.deepEqual(object.events.map((e) => e.id), [
      "res1:20270104T060000Z",
      "res1:20270111T060000Z",
    ]);
  });

  await t.step("COUNT stops the series", () => {
    const object = read(ics(...vevent(
      "UID:c",
      "DTSTART:20270104T100000Z",
      "RRULE:FREQ=DAILY;COUNT=3",
    )));
    assert.equal(object.events.length, 3);
  });

  await t.step("an all-day weekly series with UNTIL as a date", () => {
    const object = read(ics(...vevent(
      "UID:ad",
      "DTSTART;VALUE=DATE:20270101",
      "RRULE:FREQ=WEEKLY;UNTIL=20270115",
    )));
    assert.deepEqual(slots(object.events), [
      "res1:20270108 2027-01-08–2027-01-09",
      "res1:20270115 2027-01-15–2027-01-16",
    ]);
    assert.deepEqual(object.events[0].originalStartTime, { date: "2027-01-08" });
  });

  await t.step("DTSTART counts as an occurrence even when the rule would not give it", () => {
    // 4 January 2027 is a Monday; the rule gives Tuesdays.
    const object = read(ics(...vevent(
      "UID:m",
      "DTSTART:20270104T100000Z",
      "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3",
    )));
    // DTSTART is the first of the three (RFC 5545 §3.3.10).
    assert.deepEqual(object.events.map((e) => e.id), [
      "res1:20270104T100000Z",
      "res1:20270105T100000Z",
      "res1:20270112T100000Z",
    ]);
  });

  await t.step("an override and an EXDATE written in UTC match a series with a TZID", () => {
    // Cyrus and some clients write RECURRENCE-ID and EXDATE in UTC whatever the series' zone.
    const object = read(ics(
      ...vevent(
        "UID:z",
        "DTSTART;TZID=Europe/Berlin:20270105T090000",
        "RRULE:FREQ=DAILY;COUNT=3",
        "EXDATE:20270107T080000Z",
      ),
      ...vevent(
        "UID:z",
        "RECURRENCE-ID:20270106T080000Z",
        "DTSTART:20270106T150000Z",
        "SUMMARY:later",
      ),
    ));
    assert.deepEqual(object.problems, []);
    assert.deepEqual(slots(object.events), [
      "res1:20270105T080000Z 2027-01-05T08:00:00Z–2027-01-05T08:00:00Z",
      "res1:20270106T080000Z 2027-01-06T15:00:00Z–2027-01-06T15:00:00Z",
    ]);
    assert.equal(object.events[1].summary, "later");
  });

  await t.step(
    "two VEVENTs without RECURRENCE-ID: the first is the event, the other a problem",
    () => {
      const object = read(ics(
        ...vevent("UID:two", "DTSTART:20270105T100000Z"),
        ...vevent("UID:two", "DTSTART:20270106T100000Z"),
      ));
      assert.deepEqual(slots(object.events), ["res1 2027-01-05T10:00:00Z–2027-01-05T10:00:00Z"]);
      assert.deepEqual(object.problems, [{
        id: "res1",
        problem: "more than one VEVENT without RECURRENCE-ID",
      }]);
    },
  );

  await t.step("an invitation to one instance only: overrides without a master", () => {
    const object = read(ics(...vevent(
      "UID:orphan",
      "RECURRENCE-ID;TZID=Europe/Berlin:20270107T100000",
      "DTSTART;TZID=Europe/Berlin:20270107T110000",
      "DTEND;TZID=Europe/Berlin:20270107T120000",
    )));
    assert.deepEqual(slots(object.events), [
      "res1:20270107T090000Z 2027-01-07T10:00:00Z–2027-01-07T11:00:00Z",
    ]);
    assert.equal(object.events[0].recurringEventId, "res1");
  });

  await t.step("a CANCELLED master removes the whole series, overrides too", () => {
    const object = read(ics(
      ...vevent("UID:x", "DTSTART:20270105T100000Z", "RRULE:FREQ=DAILY", "STATUS:CANCELLED"),
      ...vevent("UID:x", "RECURRENCE-ID:20270106T100000Z", "DTSTART:20270106T120000Z"),
    ));
    assert.deepEqual(object.events, []);
    assert.equal(object.readable, true);
  });
});

Deno.test("ical events: daily rules limited to days of the month, which ical.js can step forever", async (t) => {
  const year = { start: new Date("2027-01-01T00:00:00Z"), end: new Date("2029-01-01T00:00:00Z") };
  const starts = (rule: string, dtstart = "DTSTART:20270105T100000Z") => {
    const object = read(ics(...vevent("UID:d", dtstart, `RRULE:${rule}`)), { window: year });
    assert.deepEqual(object.problems, [], rule);
    return object.events.map((e) => "dateTime" in e.start ? e.start.dateTime : e.start.date);
  };

  await t.step("the last day of June, every year", () => {
    assert.deepEqual(starts("FREQ=DAILY;BYMONTH=6;BYMONTHDAY=-1"), [
      "2027-01-05T10:00:00Z",
      "2027-06-30T10:00:00Z",
      "2028-06-30T10:00:00Z",
    ]);
  });

  await t.step("the last day of every month, counted: COUNT includes DTSTART", () => {
    assert.deepEqual(starts("FREQ=DAILY;BYMONTHDAY=-1;COUNT=4"), [
      "2027-01-05T10:00:00Z",
      "2027-01-31T10:00:00Z",
      "2027-02-28T10:00:00Z",
      "2027-03-31T10:00:00Z",
    ]);
  });

  await t.step("an hourly rule on the 1st, begun years ago, still reads", () => {
    const hours = starts("FREQ=HOURLY;BYMONTHDAY=1", "DTSTART:20150101T000000Z");
    // Every hour of every 1st in 2027 and 2028 but the window's first instant: without DTEND
    // an instance lasts no time, and one ending where the window begins is outside it.
    assert.equal(hours.length, 2 * 12 * 24 - 1);
    assert.equal(hours[0], "2027-01-01T01:00:00Z");
  });

  await t.step("29 February, only in leap years", () => {
    assert.deepEqual(starts("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", "DTSTART:20270301T100000Z"), [
      "2027-03-01T10:00:00Z",
      "2028-02-29T10:00:00Z",
    ]);
  });

  await t.step("with BYSETPOS the set is a day's: refused rather than risked", () => {
    const object = read(ics(...vevent(
      "UID:p",
      "DTSTART:20270105T100000Z",
      "RRULE:FREQ=DAILY;BYMONTHDAY=-1;BYSETPOS=1",
    )));
    assert.equal(object.readable, false);
    assert.match(object.problems[0].problem, /BYSETPOS/);
  });
});

Deno.test("ical events: what cannot be read is a problem in words, never a throw", async (t) => {
  await t.step("garbage", () => {
    const object = read("this is not a calendar");
    assert.equal(object.readable, false);
    assert.deepEqual(object.events, []);
    assert.equal(object.problems.length, 1);
    assert.equal(object.problems[0].id, "res1");
    assert.match(object.problems[0].problem, /cannot be read/);
  });

  await t.step("a malformed date", () => {
    const object = read(ics(...vevent("UID:m", "DTSTART:2027-01-05 10:00")));
    assert.equal(object.readable, false);
    assert.equal(object.problems[0].id, "res1");
  });

  await t.step("an unknown zone without VTIMEZONE", () => {
    const object = read(ics(...vevent(
      "UID:u",
      "DTSTART;TZID=Mars Standard Time:20270105T100000",
    )));
    assert.equal(object.readable, false);
    assert.deepEqual(object.problems, [{
      id: "res1",
      problem: 'the time zone "Mars Standard Time" is neither defined in the event nor a known ' +
        "zone name",
    }]);
  });

  await t.step("a rule that never occurs, which ical.js would step forever", () => {
    const object = read(ics(...vevent(
      "UID:n",
      "DTSTART:20270105T100000Z",
      "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    )));
    assert.equal(object.readable, false);
    assert.match(object.problems[0].problem, /never occurs/);
  });

  await t.step("rules RFC 5545 does not allow, some of which ical.js steps forever", () => {
    for (
      const rule of [
        "FREQ=DAILY;BYDAY=5SU",
        "FREQ=WEEKLY;BYDAY=-1FR",
        "FREQ=DAILY;BYMONTH=4;BYWEEKNO=-53",
        "FREQ=MONTHLY;BYWEEKNO=2",
        "FREQ=WEEKLY;BYMONTHDAY=3",
        "FREQ=DAILY;BYYEARDAY=100",
        "FREQ=YEARLY;BYWEEKNO=1;BYDAY=1MO",
      ]
    ) {
      const object = read(ics(...vevent("UID:r", "DTSTART:20270105T100000Z", `RRULE:${rule}`)));
      assert.equal(object.readable, false, rule);
      assert.match(object.problems[0].problem, /RFC 5545 does not allow/, rule);
    }
  });

  await t.step("a numbered weekday no month has (the 6th Monday) never occurs", () => {
    for (const rule of ["FREQ=YEARLY;BYMONTH=7;BYDAY=53MO", "FREQ=MONTHLY;BYDAY=-6TU"]) {
      const object = read(ics(...vevent("UID:w", "DTSTART:20270105T100000Z", `RRULE:${rule}`)));
      assert.equal(object.readable, false, rule);
      assert.match(object.problems[0].problem, /never occurs/, rule);
    }
  });

  await t.step("an event that ends before it starts", () => {
    const object = read(ics(...vevent(
      "UID:e",
      "DTSTART:20270105T100000Z",
      "DTEND:20270105T090000Z",
    )));
    assert.deepEqual(object.problems, [{ id: "res1", problem: "the event ends before it starts" }]);
  });

  await t.step("one bad override is its own problem; the rest of the series stands", () => {
    const object = read(ics(
      ...vevent("UID:s", "DTSTART:20270105T100000Z", "RRULE:FREQ=DAILY;COUNT=2"),
      ...vevent("UID:s", "RECURRENCE-ID:20270106T100000Z", "DTSTART;TZID=Nowhere:20270106T120000"),
    ));
    assert.equal(object.readable, true);
    assert.deepEqual(object.events.map((e) => e.id), ["res1:20270105T100000Z"]);
    assert.equal(object.problems.length, 1);
    assert.equal(object.problems[0].id, "res1:20270106T100000Z");
  });

  await t.step("a resource of tasks holds no events and no problem", () => {
    const object = read(ics("BEGIN:VTODO", "UID:t", "SUMMARY:buy milk", "END:VTODO"));
    assert.deepEqual(object, { readable: true, events: [], problems: [] });
  });
});
