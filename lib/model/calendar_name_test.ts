import assert from "node:assert/strict";
import {
  calendarTitle,
  DISCONNECTED_CALENDAR,
  fullCalendarName,
  shortCalendarName,
} from "./calendar_name.ts";

Deno.test("calendar name: a main calendar is called so, whatever Google titles it", () => {
  const account = "ann@example.com";
  assert.equal(calendarTitle({ primary: true, summary: account }, account), "Main calendar");
  assert.equal(calendarTitle({ primary: false, summary: account }, account), "Main calendar");
  assert.equal(calendarTitle({ primary: false, summary: "Family" }, account), "Family");
});

Deno.test("calendar name: the full name quotes the title; a gone calendar has one text", () => {
  assert.equal(
    fullCalendarName({ name: "Main calendar", account: "ann@example.com" }),
    "“Main calendar” (ann@example.com)",
  );
  assert.equal(fullCalendarName(undefined), DISCONNECTED_CALENDAR);
  assert.equal(DISCONNECTED_CALENDAR, "a calendar of a disconnected account");
  assert.equal(shortCalendarName({ name: "Main calendar", account: "ann@x" }), "ann@x");
  assert.equal(shortCalendarName({ name: "Family", account: "ann@x" }), "Family");
});
