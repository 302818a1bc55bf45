import assert from "node:assert/strict";
import {
  applyRulePatch,
  buildRule,
  compileSummaryRegex,
  findRegexProblem,
  RuleInputSchema,
  RulePatchSchema,
  RuleSchema,
} from "./rule.ts";
import { aRule, HOME, WORK } from "./test_builders.ts";

const minimal = { name: "Work into home", source: WORK, target: HOME };

/** The messages of a failed parse, by dotted path. */
function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  assert.equal(result.success, false, "expected the parse to fail");
  return result.error!.issues.map((i) => i.path.join("."));
}

Deno.test("rule input: a minimal rule gets every documented default", () => {
  assert.deepEqual(RuleInputSchema.parse(minimal), {
    ...minimal,
    bidirectional: false,
    enabled: true,
    privacy: "busy",
    title: "Busy",
    titlePrefix: "",
    copyPrivateTitles: false,
    visibility: "private",
    filters: {
      skipAllDay: true,
      skipDeclined: true,
      skipTentative: true,
      skipFree: true,
      skipInvitedInTarget: true,
      skipEventTypes: ["workingLocation", "birthday"],
    },
    window: { daysBack: 7, daysAhead: 60 },
  });
});

Deno.test("rule input: a partial filters object keeps the defaults of the fields it omits", () => {
  const input = RuleInputSchema.parse({ ...minimal, filters: { skipAllDay: false } });
  assert.equal(input.filters.skipAllDay, false);
  assert.equal(input.filters.skipDeclined, true);
  assert.deepEqual(input.window, { daysBack: 7, daysAhead: 60 });
});

Deno.test("rule input: a client cannot set id, status or timestamps", () => {
  const input = RuleInputSchema.parse({
    ...minimal,
    id: "x",
    status: "broken",
    createdAt: "2020-01-01T00:00:00Z",
  });
  assert.equal("id" in input, false);
  assert.equal("status" in input, false);
  assert.equal("createdAt" in input, false);
});

Deno.test("rule input: an unknown privacy mode is refused", () => {
  assert.deepEqual(issues(RuleInputSchema.safeParse({ ...minimal, privacy: "secret" })), [
    "privacy",
  ]);
});

Deno.test("rule input: a connection id outside the safe alphabet is refused", () => {
  const source = { connectionId: "a:b", calendarId: "x" };
  assert.deepEqual(issues(RuleInputSchema.safeParse({ ...minimal, source })), [
    "source.connectionId",
  ]);
});

Deno.test("rule input: self-targeting is refused", async (t) => {
  await t.step("same connection and calendar", () => {
    assert.deepEqual(issues(RuleInputSchema.safeParse({ ...minimal, target: WORK })), ["target"]);
  });
  await t.step("the same Google calendar reached through another account", () => {
    const target = { connectionId: "connOther", calendarId: WORK.calendarId };
    assert.deepEqual(issues(RuleInputSchema.safeParse({ ...minimal, target })), ["target"]);
  });
  await t.step("but the primary calendars of two accounts are different calendars", () => {
    const source = { connectionId: "connA", calendarId: "primary" };
    const target = { connectionId: "connB", calendarId: "primary" };
    assert.equal(RuleInputSchema.safeParse({ ...minimal, source, target }).success, true);
  });
});

Deno.test("rule input: the window is bounded", async (t) => {
  for (
    const [window, ok] of [
      [{ daysBack: 0, daysAhead: 1 }, true],
      [{ daysBack: 365, daysAhead: 730 }, true],
      [{ daysBack: -1 }, false],
      [{ daysBack: 366 }, false],
      [{ daysAhead: 0 }, false],
      [{ daysAhead: 731 }, false],
      [{ daysAhead: 1.5 }, false],
    ] as const
  ) {
    await t.step(`${JSON.stringify(window)} is ${ok ? "accepted" : "refused"}`, () => {
      assert.equal(RuleInputSchema.safeParse({ ...minimal, window }).success, ok);
    });
  }
});

Deno.test("rule input: working hours are validated", async (t) => {
  const hours = { days: ["mon", "fri"], start: "09:00", end: "17:30", timeZone: "Europe/Berlin" };
  const parse = (h: object) =>
    RuleInputSchema.safeParse({ ...minimal, filters: { workingHours: { ...hours, ...h } } });
  await t.step("a valid window is kept as given", () => {
    const r = parse({});
    assert.equal(r.success, true);
    assert.deepEqual(r.data!.filters.workingHours, hours);
  });
  for (
    const [name, h, ok] of [
      ["a weekday spelled out", { days: ["monday"] }, false],
      ["a weekday as a number", { days: [1] }, false],
      ["no day at all", { days: [] }, false],
      ["a day twice", { days: ["mon", "mon"] }, false],
      ["an hour without its leading zero", { start: "9:00" }, false],
      ["25 o'clock", { end: "25:00" }, false],
      ["24:00 as an end", { end: "24:00" }, true],
      ["24:00 as a start", { start: "24:00" }, false],
      ["an end equal to the start", { end: "09:00" }, false],
      ["an end before the start (overnight)", { start: "22:00", end: "06:00" }, true],
      ["an unknown zone", { timeZone: "Mars/Olympus_Mons" }, false],
      ["another IANA zone", { timeZone: "America/New_York" }, true],
      ["UTC", { timeZone: "UTC" }, true],
    ] as const
  ) {
    await t.step(`${name} is ${ok ? "accepted" : "refused"}`, () => {
      assert.equal(parse(h).success, ok);
    });
  }
});

Deno.test("rule input: the summary regex must be safe to run", async (t) => {
  for (
    const [pattern, ok] of [
      ["^(OOO|Lunch)", true],
      ["\\[private\\]", true],
      ["(ab){3}", true],
      ["a{2,5}b+", true],
      ["[(]+x", true],
      ["\\(a+\\)+", true],
      ["(", false],
      ["x".repeat(201), false],
      ["(a+)+$", false],
      ["(\\w+\\s?)*$", false],
      ["(a|aa)*", false],
      ["((ab)*c)+", false],
      ["(a+){2}", false],
      ["(?:a*)*", false],
    ] as const
  ) {
    await t.step(
      `${JSON.stringify(pattern.slice(0, 20))} is ${ok ? "accepted" : "refused"}`,
      () => {
        assert.equal(findRegexProblem(pattern) === undefined, ok);
        const r = RuleInputSchema.safeParse({
          ...minimal,
          filters: { excludeSummaryRegex: pattern },
        });
        assert.equal(r.success, ok);
      },
    );
  }
});

Deno.test("rule: the summary regex matches regardless of case", () => {
  assert.equal(compileSummaryRegex("^lunch").test("LUNCH with Ana"), true);
});

Deno.test("rule: a stored rule needs ISO timestamps and a known status", () => {
  const stored = { ...RuleInputSchema.parse(minimal), id: "r1", status: "ok" };
  assert.deepEqual(issues(RuleSchema.safeParse({ ...stored, createdAt: "yesterday" })), [
    "createdAt",
    "updatedAt",
  ]);
  assert.equal(
    RuleSchema.safeParse({
      ...stored,
      status: "sleeping",
      createdAt: "2025-01-01T00:00:00Z",
      updatedAt: "2025-01-01T00:00:00Z",
    }).success,
    false,
  );
});

Deno.test("rule: buildRule starts a rule as ok with both timestamps now", () => {
  const now = new Date("2025-06-01T08:00:00Z");
  const rule = buildRule(RuleInputSchema.parse(minimal), { id: "01J0RULE", now });
  assert.equal(rule.id, "01J0RULE");
  assert.equal(rule.status, "ok");
  assert.equal(rule.createdAt, "2025-06-01T08:00:00.000Z");
  assert.equal(rule.updatedAt, rule.createdAt);
  assert.deepEqual(RuleSchema.parse(rule), rule);
});

Deno.test("rule patch: absent fields apply no defaults", () => {
  assert.deepEqual(RulePatchSchema.parse({ enabled: false }), { enabled: false });
  assert.deepEqual(RulePatchSchema.parse({ filters: { skipFree: false } }), {
    filters: { skipFree: false },
  });
});

Deno.test("rule patch: merging keeps every field the patch does not name", async (t) => {
  const rule = aRule({
    privacy: "title",
    filters: {
      skipAllDay: false,
      excludeSummaryRegex: "^private",
      workingHours: { days: ["mon"], start: "09:00", end: "17:00", timeZone: "UTC" },
    },
    window: { daysBack: 3 },
  });
  const now = new Date("2025-06-02T09:30:00Z");

  await t.step("toggling enabled changes only enabled and updatedAt", () => {
    const patched = applyRulePatch(rule, RulePatchSchema.parse({ enabled: false }), now);
    assert.deepEqual(patched, { ...rule, enabled: false, updatedAt: "2025-06-02T09:30:00.000Z" });
  });
  await t.step("filters and window merge field by field", () => {
    const patch = RulePatchSchema.parse({
      filters: { skipFree: false },
      window: { daysAhead: 90 },
    });
    const patched = applyRulePatch(rule, patch, now);
    assert.deepEqual(patched.filters, { ...rule.filters, skipFree: false });
    assert.deepEqual(patched.window, { daysBack: 3, daysAhead: 90 });
  });
  await t.step("null removes an optional filter", () => {
    const patch = RulePatchSchema.parse({
      filters: { workingHours: null, excludeSummaryRegex: null },
    });
    const patched = applyRulePatch(rule, patch, now);
    assert.equal("workingHours" in patched.filters, false);
    assert.equal("excludeSummaryRegex" in patched.filters, false);
    assert.equal(patched.filters.skipAllDay, false);
  });
  await t.step("a patch that makes the rule target itself throws", () => {
    assert.throws(() => applyRulePatch(rule, RulePatchSchema.parse({ target: WORK }), now));
  });
  await t.step("an invalid patch field is refused before merging", () => {
    assert.equal(RulePatchSchema.safeParse({ window: { daysBack: 1000 } }).success, false);
    assert.equal(
      RulePatchSchema.safeParse({ filters: { excludeSummaryRegex: "(a+)+" } }).success,
      false,
    );
  });
});
