import assert from "node:assert/strict";
import { buildMirrorObject } from "./ical_mirror.ts";
import { readCalendarObject } from "../ical/ical_events.ts";
import { buildMarker, deriveMirrorId, markerProps, readMarker } from "../sync/marker.ts";
import { mirrorMatches } from "../sync/drift.ts";
import { anEdge } from "../model/test_builders.ts";
import type { LiveSourceEvent, Mirror } from "../model/events.ts";

const NOW = new Date("2026-12-03T15:00:00Z");
const WINDOW = { start: new Date("2027-01-01T00:00:00Z"), end: new Date("2027-02-01T00:00:00Z") };

function aMirror(overrides: Partial<Mirror> = {}): { id: string; mirror: Mirror } {
  // A source id and calendar with characters servers rewrite, so the marker takes its encoding.
  const marker = buildMarker(anEdge(), "evt,1;x\\y");
  return {
    id: deriveMirrorId(marker),
    mirror: {
      summary: "Busy",
      start: { dateTime: "2027-01-05T10:00:00+01:00", timeZone: "Europe/Berlin" },
      end: { dateTime: "2027-01-05T11:00:00+01:00", timeZone: "Europe/Berlin" },
      transparency: "opaque",
      visibility: "private",
      reminders: "none",
      privateProps: markerProps(marker),
      ...overrides,
    },
  };
}

/** What a CalDAV provider's read of the written resource gives (the key is the mirror id). */
function readBack(id: string, text: string): LiveSourceEvent {
  const object = readCalendarObject(text, {
    resourceKey: id,
    window: WINDOW,
    calendarZone: "UTC",
  });
  assert.deepEqual(object.problems, []);
  assert.equal(object.events.length, 1);
  return object.events[0];
}

Deno.test("ical mirror: the object busysync PUTs", async (t) => {
  const { id, mirror } = aMirror({
    description: "Line one\nline two, with; marks\\",
    location: "A, B",
  });
  const text = buildMirrorObject(id, mirror, { now: NOW });
  const lines = text.replace(/\r\n /g, "").split("\r\n");

  await t.step("one VEVENT named by the mirror id, times in UTC, busy, private", () => {
    assert.equal(lines[0], "BEGIN:VCALENDAR");
    assert.ok(lines.includes("PRODID:-//busysync//busysync mirror//EN"));
    assert.ok(lines.includes("VERSION:2.0"));
    assert.equal(lines.filter((l) => l === "BEGIN:VEVENT").length, 1);
    assert.ok(lines.includes(`UID:${id}`));
    assert.ok(lines.includes("DTSTAMP:20261203T150000Z"));
    assert.ok(lines.includes("DTSTART:20270105T090000Z"));
    assert.ok(lines.includes("DTEND:20270105T100000Z"));
    assert.ok(lines.includes("TRANSP:OPAQUE"));
    assert.ok(lines.includes("CLASS:PRIVATE"));
    assert.ok(lines.includes("STATUS:CONFIRMED"));
    assert.ok(text.endsWith("END:VCALENDAR\r\n"));
  });

  await t.step("text is escaped as RFC 5545 TEXT", () => {
    assert.ok(lines.includes("DESCRIPTION:Line one\\nline two\\, with\\; marks\\\\"));
    assert.ok(lines.includes("LOCATION:A\\, B"));
  });

  await t.step("never a scheduling object, never an alarm, no zone definitions", () => {
    assert.doesNotMatch(text, /^(ORGANIZER|ATTENDEE|BEGIN:VALARM|BEGIN:VTIMEZONE)/m);
    assert.doesNotMatch(text, /TZID/);
  });

  await t.step("the marker's values stay within the characters servers keep", () => {
    const markerLines = lines.filter((l) => l.startsWith("X-BUSYSYNC"));
    assert.deepEqual(markerLines.map((l) => l.split(":")[0]), [
      "X-BUSYSYNC",
      "X-BUSYSYNC-RULE",
      "X-BUSYSYNC-SOURCE",
      "X-BUSYSYNC-EVENT",
    ]);
    for (const line of markerLines) {
      assert.match(line.slice(line.indexOf(":") + 1), /^[A-Za-z0-9._:/@-]+$/);
    }
  });

  await t.step("lines are folded at 75 octets", () => {
    for (const line of text.split("\r\n")) assert.ok(new TextEncoder().encode(line).length <= 75);
  });
});

Deno.test("ical mirror: reading a written mirror back gives what was sent", async (t) => {
  const cases: [string, Partial<Mirror>][] = [
    ["timed, private, with text", { description: "a, b; c\\d\nline", location: "Room 1" }],
    ["all-day over two days", {
      start: { date: "2027-01-05" },
      end: { date: "2027-01-07" },
      visibility: "default",
    }],
    ["public, no description", { visibility: "public" }],
    ["confidential, an empty title", { visibility: "confidential", summary: "" }],
    ["a title in another script", { summary: "Занят — 忙碌 🗓️" }],
  ];
  for (const [name, overrides] of cases) {
    await t.step(name, () => {
      const { id, mirror } = aMirror(overrides);
      const event = readBack(id, buildMirrorObject(id, mirror, { now: NOW }));
      // What the engine checks of a write's answer (write_check.ts): the id, the marker and
      // the body.
      assert.equal(event.id, id);
      assert.deepEqual(readMarker(event.privateProps), readMarker(mirror.privateProps));
      assert.deepEqual(event.privateProps, mirror.privateProps);
      assert.ok(mirrorMatches(event, mirror));
      assert.equal(event.summary, mirror.summary);
      assert.equal(event.description, mirror.description);
      assert.equal(event.location, mirror.location);
      assert.equal(event.visibility ?? "default", mirror.visibility);
      assert.equal(event.transparency, "opaque");
      assert.equal(event.recurringEventId, undefined);
    });
  }
});

/** A property line with backslashes before `:` `;` `,` in its value, as a sloppy server writes. */
function escapeValue(line: string): string {
  const colon = line.indexOf(":");
  return line.slice(0, colon + 1) + line.slice(colon + 1).replace(/[:;,]/g, (c) => "\\" + c);
}

Deno.test("ical mirror: a server's rewrite of a mirror still reads as the same mirror", () => {
  const { id, mirror } = aMirror();
  const written = buildMirrorObject(id, mirror, { now: NOW });
  // What the servers of caldav.md §2 did: reorder properties, refold lines at another width,
  // TEXT-escape X- values, add a VTIMEZONE and their own properties.
  const unfolded = written.replace(/\r\n /g, "").split("\r\n").filter((l) => l !== "");
  const inner = unfolded.slice(
    unfolded.indexOf("BEGIN:VEVENT") + 1,
    unfolded.indexOf("END:VEVENT"),
  );
  const rewritten = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//busysync//busysync mirror//EN",
    "BEGIN:VTIMEZONE",
    "TZID:UTC",
    "BEGIN:STANDARD",
    "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0000",
    "END:STANDARD",
    "END:VTIMEZONE",
    "BEGIN:VEVENT",
    ...inner.reverse().map((l) => l.startsWith("X-") ? escapeValue(l) : l),
    "X-RADICALE-NAME:" + id + ".ics",
    "END:VEVENT",
    "END:VCALENDAR",
  ].map((l) => l.match(/.{1,40}/g)!.join("\r\n\t")).join("\r\n");
  const event = readBack(id, rewritten);
  assert.deepEqual(event.privateProps, mirror.privateProps);
  assert.ok(mirrorMatches(event, mirror));
});

Deno.test("ical mirror: times the core cannot read are refused", () => {
  const { id, mirror } = aMirror({ start: { dateTime: "soon" } });
  assert.throws(() => buildMirrorObject(id, mirror, { now: NOW }), RangeError);
});
