import assert from "node:assert/strict";
import { deriveMirrorId } from "../sync/marker.ts";
import { readFeedText } from "./feed_read.ts";

const vevent = (uid: string, summary: string) => [
  "BEGIN:VEVENT",
  `UID:${uid}`,
  "DTSTAMP:20270101T000000Z",
  "DTSTART:20270105T100000Z",
  "DTEND:20270105T110000Z",
  `SUMMARY:${summary}`,
  "END:VEVENT",
];

Deno.test("feed read: busysync's own blocks in a published calendar are not its events", () => {
  const id = deriveMirrorId({
    ruleId: "01RULE",
    sourceCalendar: "conn:src@example.com",
    sourceEvent: "ev1",
    generation: 0,
  });
  const text = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
    ...vevent(`${id}@google.com`, "Busy"), // Google's iCalUID of a mirror
    ...vevent(id, "Busy"), // a CalDAV mirror's UID
    ...vevent("lesson-1@school.example", "Maths"),
    ...vevent(`${id}x@google.com`, "Not quite a mirror id"),
    "END:VCALENDAR",
    "",
  ].join("\r\n");
  const feed = readFeedText("calendar.google.com", text);
  assert.deepEqual(feed.groups.map((g) => g.uid), [
    "lesson-1@school.example",
    `${id}x@google.com`,
  ]);
});
