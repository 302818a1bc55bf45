import assert from "node:assert/strict";
import { addedPairs, findCovering, findDuplicates, ruleCoverer } from "./pair_coverage.ts";

const personal = { connectionId: "p", calendarId: "primary" };
const work = { connectionId: "w", calendarId: "primary" };
const team = { connectionId: "w", calendarId: "team@group.calendar.google.com" };
const rule = (id: string, over: Record<string, unknown> = {}) =>
  ruleCoverer({
    id,
    name: id,
    source: personal,
    target: work,
    bidirectional: false,
    enabled: true,
    ...over,
  });

Deno.test("pair coverage: a one-way rule covers its pair, a both-ways rule both, a disabled none", () => {
  assert.equal(rule("a").pairs.length, 1);
  assert.deepEqual(rule("b", { bidirectional: true }).pairs[1], { source: work, target: personal });
  assert.deepEqual(rule("c", { enabled: false }).pairs, []);
});

Deno.test("pair coverage: a rule whose pair an enabled rule covers is found, itself excepted", async (t) => {
  await t.step("the same pair", () => {
    const found = findCovering(rule("new").pairs, [rule("a")]);
    assert.equal(found?.coverer.id, "a");
  });
  await t.step("a both-ways rule covers the reverse of a one-way candidate", () => {
    const reverse = rule("new", { source: work, target: personal }).pairs;
    assert.equal(findCovering(reverse, [rule("a", { bidirectional: true })])?.coverer.id, "a");
  });
  await t.step("the opposite direction of a one-way rule is not a duplicate", () => {
    const reverse = rule("new", { source: work, target: personal }).pairs;
    assert.equal(findCovering(reverse, [rule("a")]), undefined);
  });
  await t.step("a disabled rule covers nothing, and the rule replaced is skipped", () => {
    assert.equal(findCovering(rule("new").pairs, [rule("a", { enabled: false })]), undefined);
    assert.equal(findCovering(rule("a").pairs, [rule("a")], { except: "a" }), undefined);
  });
  await t.step("one calendar reached through two connections is the same calendar", () => {
    const viaOther = { connectionId: "p", calendarId: team.calendarId };
    const found = findCovering(rule("new", { target: viaOther }).pairs, [
      rule("a", { target: team }),
    ]);
    assert.equal(found?.coverer.id, "a");
  });
  await t.step("'primary' of two connections are two calendars", () => {
    const other = { connectionId: "x", calendarId: "primary" };
    assert.equal(findCovering(rule("new", { target: other }).pairs, [rule("a")]), undefined);
  });
});

Deno.test("pair coverage: a change adds only the pairs it did not cover before", () => {
  const added = addedPairs(rule("a", { bidirectional: true }), rule("a"));
  assert.deepEqual(added, [{ source: work, target: personal }]);
  assert.deepEqual(addedPairs(rule("a", { name: "renamed" }), rule("a")), []);
});

Deno.test("pair coverage: duplicates in a store are reported once per set of coverers", () => {
  const dups = findDuplicates([
    rule("a", { bidirectional: true }),
    rule("b", { bidirectional: true }),
    rule("c", { target: team }),
  ]);
  assert.equal(dups.length, 1);
  assert.deepEqual(dups[0].coverers.map((c) => c.id), ["a", "b"]);
  assert.equal(dups[0].pairs.length, 2);
  assert.deepEqual(findDuplicates([rule("a"), rule("b", { enabled: false })]), []);
});
