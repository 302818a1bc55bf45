import assert from "node:assert/strict";
import {
  accountLabel,
  calendarTitle,
  calendarWithAccount,
  DISCONNECTED_CALENDAR,
  fullCalendarName,
  shortCalendarName,
  suggestRuleName,
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

Deno.test("calendar name: default rule names come from calendar names, never two addresses", async (t) => {
  const personal = { name: "Main calendar", account: "alex.personal@example.com" };
  const work = { name: "Main calendar", account: "alex@work.example.com" };
  const family = { name: "Family", account: "alex.personal@example.com" };
  await t.step("two main calendars are told apart by their accounts' own words", () => {
    assert.equal(suggestRuleName(personal, work, true), "Personal ↔ Work");
    assert.equal(suggestRuleName(work, personal, false), "Work → Personal");
  });
  await t.step("a titled calendar keeps its title; a main one of the same account stays so", () => {
    assert.equal(suggestRuleName(family, work, false), "Family → Work");
    assert.equal(suggestRuleName(family, personal, false), "Family → Main calendar");
  });
  await t.step("two calendars with one title get their accounts' words", () => {
    const workFamily = { name: "Family", account: "alex@work.example.com" };
    assert.equal(suggestRuleName(family, workFamily, false), "Family (Personal) → Family (Work)");
  });
  await t.step("accounts that share every word fall back to the address", () => {
    assert.equal(accountLabel("ann@example.com", "ann@work.example.com"), "ann@example.com");
    assert.equal(accountLabel("ann@gmail.com", "bob@gmail.com"), "Ann");
  });
  await t.step("a closed dropdown names the account too", () => {
    assert.equal(calendarWithAccount(work), "Main calendar · alex@work.example.com");
  });
});
