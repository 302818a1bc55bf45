import assert from "node:assert/strict";
import { parseFeed } from "./ical_feed.ts";
import { readEventGroup } from "./ical_events.ts";

const lines = (...l: string[]) => l.join("\r\n") + "\r\n";

const FEED = lines(
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
  "X-WR-CALNAME:Work",
  "X-WR-TIMEZONE:W. Europe Standard Time",
  "BEGIN:VEVENT",
  "UID:standup",
  "DTSTART;TZID=Europe/Berlin:20270104T090000",
  "DTEND;TZID=Europe/Berlin:20270104T091500",
  "RRULE:FREQ=DAILY;COUNT=3",
  "SUMMARY:Stand-up",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:one-off",
  "DTSTART:20270105T130000Z",
  "DTEND:20270105T140000Z",
  "SUMMARY:Review",
  "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:standup",
  "RECURRENCE-ID;TZID=Europe/Berlin:20270105T090000",
  "DTSTART;TZID=Europe/Berlin:20270105T100000",
  "DTEND;TZID=Europe/Berlin:20270105T101500",
  "SUMMARY:Stand-up (late)",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "DTSTART;VALUE=DATE:20270106",
  "SUMMARY:No UID",
  "END:VEVENT",
  "END:VCALENDAR",
);

const JANUARY = { start: new Date("2027-01-04T00:00:00Z"), end: new Date("2027-01-18T00:00:00Z") };

Deno.test("ical feed: one VCALENDAR split per UID, each read as its own object", async (t) => {
  const feed = parseFeed(FEED);

  await t.step("the feed's name and zone (a Windows name as IANA)", () => {
    assert.equal(feed.name, "Work");
    assert.equal(feed.timeZone, "Europe/Berlin");
    assert.equal(feed.eventCount, 4);
  });

  await t.step("a master and its override are one group, master first; no UID is its own", () => {
    assert.deepEqual(feed.groups.map((g) => [g.uid, g.vevents.length]), [
      ["standup", 2],
      ["one-off", 1],
      [undefined, 1],
    ]);
    assert.equal(feed.groups[0].vevents[0].hasProperty("recurrence-id"), false);
  });

  await t.step("a series expands with its override, as a CalDAV resource would", () => {
    const read = readEventGroup(feed.root, feed.groups[0].vevents, {
      resourceKey: "k",
      window: JANUARY,
      calendarZone: "Europe/Berlin",
    });
    assert.deepEqual(read.events.map((e) => "dateTime" in e.start ? e.start.dateTime : ""), [
      "2027-01-04T08:00:00Z",
      "2027-01-05T09:00:00Z",
      "2027-01-06T08:00:00Z",
    ]);
    assert.equal(read.events[1].summary, "Stand-up (late)");
  });

  await t.step("the content fingerprint leaves the UID out", () => {
    const renamed = parseFeed(FEED.replaceAll("UID:standup", "UID:other"));
    assert.equal(renamed.groups[0].content, feed.groups[0].content);
    const moved = parseFeed(FEED.replace("20270104T090000", "20270104T093000"));
    assert.notEqual(moved.groups[0].content, feed.groups[0].content);
  });

  await t.step("an empty calendar is a feed of no event; an HTML page is no feed", () => {
    const empty = parseFeed(lines("BEGIN:VCALENDAR", "VERSION:2.0", "END:VCALENDAR"));
    assert.equal(empty.eventCount, 0);
    assert.throws(() => parseFeed("<!doctype html><title>Sign in</title>"));
  });
});
