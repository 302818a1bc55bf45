import assert from "node:assert/strict";
import { suggestGroupName } from "./group_draft.ts";
import type { CalendarOption } from "./rule_draft.ts";

const calendar = (name: string, account: string): CalendarOption => ({
  key: `${account}:${name}`,
  connectionId: account,
  calendarId: name,
  name,
  account,
  writable: true,
  readable: true,
  timeZone: "UTC",
});

Deno.test("suggestGroupName: main calendars by their account's own word, others by title", () => {
  assert.equal(
    suggestGroupName([
      calendar("Main calendar", "alex.personal@example.com"),
      calendar("Main calendar", "alex@work.example.com"),
      calendar("Family", "alex.personal@example.com"),
    ]),
    "Personal, Work and Family",
  );
});
