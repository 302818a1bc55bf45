import assert from "node:assert/strict";
import { findSkipReason, indexTargetCopies, type TargetView } from "./filters.ts";
import { type RuleFilters, RuleFiltersSchema } from "../model/rule.ts";
import { anAllDayEvent, anEvent } from "../model/test_builders.ts";
import { readEventSpan } from "../model/time_window.ts";
import type { LiveSourceEvent } from "../model/events.ts";

const TARGET = "alex@home.example.com";

function skipReason(
  event: LiveSourceEvent,
  filters: Partial<RuleFilters> = {},
  target: TargetView = { calendarId: TARGET },
) {
  return findSkipReason(
    event,
    readEventSpan(event, "UTC")!,
    RuleFiltersSchema.parse(filters),
    target,
  );
}

Deno.test("filters: a meeting the target is a guest of is skipped unless it declined there", () => {
  const guest = (responseStatus: "accepted" | "declined" | "needsAction") =>
    anEvent({
      selfResponseStatus: "accepted",
      iCalUID: "m1@google.com",
      attendees: [{ email: "Alex@Home.example.com", responseStatus }],
    });
  assert.equal(skipReason(guest("needsAction")), "invited_in_target");
  assert.equal(skipReason(guest("accepted")), "invited_in_target");
  assert.equal(skipReason(guest("declined")), undefined);
  assert.equal(skipReason(guest("accepted"), { skipInvitedInTarget: false }), undefined);
  const organised = anEvent({ selfResponseStatus: "accepted", organizerEmail: TARGET });
  assert.equal(skipReason(organised), "invited_in_target");
});

Deno.test("filters: a target's own copy (same iCalUID) keeps the meeting out while it blocks time", () => {
  const meeting = anEvent({ id: "a1", iCalUID: "m2@google.com", selfResponseStatus: "accepted" });
  const copy = (extra: Partial<LiveSourceEvent>) =>
    indexTargetCopies([anEvent({ id: "b1", iCalUID: "m2@google.com", ...extra })]);
  const view = (copies: ReturnType<typeof indexTargetCopies>) => ({ calendarId: TARGET, copies });
  assert.equal(skipReason(meeting, {}, view(copy({}))), "invited_in_target");
  assert.equal(skipReason(meeting, {}, view(copy({ transparency: "transparent" }))), undefined);
  assert.equal(skipReason(meeting, {}, view(copy({ selfResponseStatus: "declined" }))), undefined);
  // Instances share their series' iCalUID: only the same occurrence counts.
  const instance = (id: string, at: string) =>
    anEvent({
      id,
      iCalUID: "s@google.com",
      recurringEventId: "s",
      originalStartTime: { dateTime: at },
      selfResponseStatus: "accepted",
    });
  const copies = indexTargetCopies([instance("t_1", "2025-06-03T08:00:00Z")]);
  assert.equal(
    skipReason(instance("x_1", "2025-06-03T10:00:00+02:00"), {}, view(copies)),
    "invited_in_target",
  );
  assert.equal(
    skipReason(instance("x_2", "2025-06-10T10:00:00+02:00"), {}, view(copies)),
    undefined,
  );
});

Deno.test("filters: a confirmed, busy, accepted meeting passes the defaults", () => {
  assert.equal(skipReason(anEvent({ selfResponseStatus: "accepted" })), undefined);
  assert.equal(skipReason(anEvent({ transparency: "opaque", eventType: "default" })), undefined);
});

Deno.test("filters: an event the user organises (no attendee entry) passes", () => {
  assert.equal(skipReason(anEvent({ selfResponseStatus: undefined })), undefined);
});

Deno.test("filters: all-day events are skipped unless the rule keeps them", () => {
  const holiday = anAllDayEvent("2025-06-03", "2025-06-04");
  assert.equal(skipReason(holiday), "all_day");
  assert.equal(skipReason(holiday, { skipAllDay: false }), undefined);
});

Deno.test("filters: declined invitations are skipped unless the rule keeps them", () => {
  const declined = anEvent({ selfResponseStatus: "declined" });
  assert.equal(skipReason(declined), "declined");
  assert.equal(skipReason(declined, { skipDeclined: false }), undefined);
});

Deno.test("filters: tentative covers a maybe, an unanswered invitation and a tentative event", async (t) => {
  for (
    const [name, event] of [
      ["answered maybe", anEvent({ selfResponseStatus: "tentative" })],
      ["not answered yet", anEvent({ selfResponseStatus: "needsAction" })],
      ["the event itself is tentative", anEvent({ status: "tentative" })],
    ] as const
  ) {
    await t.step(`${name}: skipped by default, kept when the rule says so`, () => {
      assert.equal(skipReason(event), "tentative");
      assert.equal(skipReason(event, { skipTentative: false }), undefined);
    });
  }
});

Deno.test("filters: events shown as free are skipped unless the rule keeps them", () => {
  const free = anEvent({ transparency: "transparent" });
  assert.equal(skipReason(free), "free");
  assert.equal(skipReason(free, { skipFree: false }), undefined);
});

Deno.test("filters: event types", async (t) => {
  for (const type of ["workingLocation", "birthday"]) {
    await t.step(`${type} is skipped by default`, () => {
      assert.equal(skipReason(anEvent({ eventType: type })), "event_type");
    });
  }
  for (const type of ["focusTime", "outOfOffice"]) {
    await t.step(`${type} is busy time: mirrored by default`, () => {
      assert.equal(skipReason(anEvent({ eventType: type })), undefined);
    });
  }
  await t.step("an empty list keeps out-of-office blocks", () => {
    assert.equal(
      skipReason(anEvent({ eventType: "outOfOffice" }), { skipEventTypes: [] }),
      undefined,
    );
  });
  await t.step("a missing type counts as default", () => {
    assert.equal(skipReason(anEvent(), { skipEventTypes: ["default"] }), "event_type");
  });
});

Deno.test("filters: a summary matching the exclude pattern is skipped, case-insensitively", () => {
  const filters = { excludeSummaryRegex: "^(private|lunch)\\b" };
  assert.equal(skipReason(anEvent({ summary: "Lunch with Ana" }), filters), "summary_excluded");
  assert.equal(skipReason(anEvent({ summary: "PRIVATE: doctor" }), filters), "summary_excluded");
  assert.equal(skipReason(anEvent({ summary: "Team lunch" }), filters), undefined);
  assert.equal(skipReason(anEvent({ summary: undefined }), filters), undefined);
});

Deno.test("filters: an event outside working hours is skipped", () => {
  const filters = {
    workingHours: {
      days: ["mon", "tue"] as ("mon" | "tue")[],
      start: "09:00",
      end: "17:00",
      timeZone: "Europe/Berlin",
    },
  };
  // The default event is Tuesday 10:00 Berlin; the same time on Wednesday is not working time.
  assert.equal(skipReason(anEvent(), filters), undefined);
  const wednesday = anEvent({
    start: { dateTime: "2025-06-04T10:00:00+02:00" },
    end: { dateTime: "2025-06-04T11:00:00+02:00" },
  });
  assert.equal(skipReason(wednesday, filters), "outside_working_hours");
});

Deno.test("filters: an event failing several filters always reports the first in a fixed order", () => {
  const everything = anAllDayEvent("2025-06-07", "2025-06-08", {
    eventType: "workingLocation",
    selfResponseStatus: "declined",
    transparency: "transparent",
    summary: "Lunch",
  });
  const filters = { excludeSummaryRegex: "lunch" };
  assert.equal(skipReason(everything, filters), "all_day");
  assert.equal(skipReason(everything, { ...filters, skipAllDay: false }), "event_type");
  assert.equal(
    skipReason(everything, { ...filters, skipAllDay: false, skipEventTypes: [] }),
    "declined",
  );
  assert.equal(
    skipReason(everything, {
      ...filters,
      skipAllDay: false,
      skipEventTypes: [],
      skipDeclined: false,
    }),
    "free",
  );
  assert.equal(
    skipReason(everything, {
      ...filters,
      skipAllDay: false,
      skipEventTypes: [],
      skipDeclined: false,
      skipFree: false,
    }),
    "summary_excluded",
  );
});
