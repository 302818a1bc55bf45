import assert from "node:assert/strict";
import { calendarKey } from "./calendar_ref.ts";
import {
  buildEdges,
  checkRuleGraph,
  explainPropagation,
  findRuleCycle,
  type GraphRule,
} from "./rule_graph.ts";
import { aRule } from "./test_builders.ts";
import type { CalendarRef } from "./calendar_ref.ts";

const cal = (name: string): CalendarRef => ({ connectionId: "conn", calendarId: `${name}@x` });
const A = cal("a"), B = cal("b"), C = cal("c"), D = cal("d");
const key = (ref: CalendarRef) => calendarKey(ref);

let nextId = 0;
function rule(source: CalendarRef, target: CalendarRef, more: Partial<GraphRule> = {}): GraphRule {
  return { id: `r${++nextId}`, source, target, bidirectional: false, enabled: true, ...more };
}

Deno.test("edges: a one-way rule is one edge carrying the rule's settings", () => {
  const edges = buildEdges([aRule({ privacy: "title" })]);
  assert.equal(edges.length, 1);
  assert.equal(edges[0].direction, "forward");
  assert.equal(edges[0].settings.privacy, "title");
  assert.deepEqual(edges[0].settings.window, { daysBack: 7, daysAhead: 60 });
});

Deno.test("edges: a bidirectional rule is two edges, the reverse with source and target swapped", () => {
  const r = aRule({ bidirectional: true });
  const [forward, reverse] = buildEdges([r]);
  assert.deepEqual([forward.source, forward.target], [r.source, r.target]);
  assert.deepEqual([reverse.source, reverse.target, reverse.direction], [
    r.target,
    r.source,
    "reverse",
  ]);
  assert.equal(reverse.ruleId, r.id);
  assert.deepEqual(reverse.settings, forward.settings);
});

Deno.test("cycle: A→B→C→A is refused, named calendar by calendar with its rules", () => {
  const rules = [rule(A, B, { id: "ab" }), rule(B, C, { id: "bc" }), rule(C, A, { id: "ca" })];
  assert.deepEqual(findRuleCycle(rules), {
    calendars: [key(A), key(B), key(C)],
    ruleIds: ["ab", "bc", "ca"],
  });
});

Deno.test("cycle: A↔B is allowed, as one bidirectional rule or two opposite rules", () => {
  assert.equal(findRuleCycle([rule(A, B, { bidirectional: true })]), undefined);
  assert.equal(findRuleCycle([rule(A, B), rule(B, A)]), undefined);
});

Deno.test("cycle: a chain of bidirectional rules A↔B↔C is allowed", () => {
  assert.equal(
    findRuleCycle([rule(A, B, { bidirectional: true }), rule(B, C, { bidirectional: true })]),
    undefined,
  );
});

Deno.test("cycle: bidirectional rules closing a triangle A↔B↔C↔A form a cycle", () => {
  const rules = [
    rule(A, B, { bidirectional: true, id: "ab" }),
    rule(B, C, { bidirectional: true, id: "bc" }),
    rule(C, A, { bidirectional: true, id: "ca" }),
  ];
  assert.deepEqual(findRuleCycle(rules)?.calendars, [key(A), key(B), key(C)]);
});

Deno.test("cycle: a bidirectional rule counts in both directions (A→B, B↔C, C→A)", () => {
  const rules = [
    rule(C, A, { id: "ca" }),
    rule(A, B, { id: "ab" }),
    rule(B, C, { bidirectional: true, id: "bc" }),
  ];
  assert.deepEqual(findRuleCycle(rules), {
    calendars: [key(C), key(A), key(B)],
    ruleIds: ["ca", "ab", "bc"],
  });
});

Deno.test("cycle: a longer cycle is found and reported in order", () => {
  const rules = [
    rule(A, B, { id: "ab" }),
    rule(B, C, { id: "bc" }),
    rule(C, D, { id: "cd" }),
    rule(D, A, { id: "da" }),
  ];
  assert.deepEqual(findRuleCycle(rules), {
    calendars: [key(A), key(B), key(C), key(D)],
    ruleIds: ["ab", "bc", "cd", "da"],
  });
});

Deno.test("cycle: disabled rules do not count", () => {
  assert.equal(findRuleCycle([rule(A, B), rule(B, C), rule(C, A, { enabled: false })]), undefined);
});

Deno.test("cycle: several sources into one target are fine", () => {
  assert.equal(findRuleCycle([rule(A, D), rule(B, D), rule(C, D)]), undefined);
});

Deno.test("graph check: a self-targeting rule is reported, enabled or not", () => {
  const self = rule(A, A, { id: "self", enabled: false });
  assert.deepEqual(checkRuleGraph([self, rule(A, B)]), [{ code: "self_target", ruleId: "self" }]);
});

Deno.test("graph check: a cycle is reported with the calendars it passes", () => {
  const problems = checkRuleGraph([
    rule(A, B, { id: "ab" }),
    rule(B, C, { id: "bc" }),
    rule(C, A, { id: "ca" }),
  ]);
  assert.deepEqual(problems, [{
    code: "cycle",
    cycle: { calendars: [key(A), key(B), key(C)], ruleIds: ["ab", "bc", "ca"] },
  }]);
});

Deno.test("graph check: a valid rule set has no problems", () => {
  assert.deepEqual(checkRuleGraph([rule(A, B, { bidirectional: true }), rule(C, B)]), []);
});

Deno.test("propagation: A→B plus B→C does not reach C; the missing A→C is suggested", () => {
  assert.deepEqual(explainPropagation([rule(A, B), rule(B, C)]), [{ from: A, to: C, via: [B] }]);
});

Deno.test("propagation: nothing to suggest once A→C exists", () => {
  assert.deepEqual(explainPropagation([rule(A, B), rule(B, C), rule(A, C)]), []);
});

Deno.test("propagation: A↔B alone needs nothing more", () => {
  assert.deepEqual(explainPropagation([rule(A, B, { bidirectional: true })]), []);
});

Deno.test("propagation: a chain A→B→C→D lists every calendar a source does not reach", () => {
  assert.deepEqual(explainPropagation([rule(A, B), rule(B, C), rule(C, D)]), [
    { from: A, to: C, via: [B] },
    { from: A, to: D, via: [B, C] },
    { from: B, to: D, via: [C] },
  ]);
});

Deno.test("propagation: A↔B↔C suggests A→C and C→A", () => {
  const gaps = explainPropagation([
    rule(A, B, { bidirectional: true }),
    rule(B, C, { bidirectional: true }),
  ]);
  assert.deepEqual(gaps, [{ from: A, to: C, via: [B] }, { from: C, to: A, via: [B] }]);
});

Deno.test("propagation: disabled rules are not part of any chain", () => {
  assert.deepEqual(explainPropagation([rule(A, B), rule(B, C, { enabled: false })]), []);
});

/** Brute force: is there a simple cycle through three or more distinct calendars? */
function hasLongCycle(arcs: [number, number][], nodes: number): boolean {
  const out = (n: number) => arcs.filter(([f]) => f === n).map(([, t]) => t);
  const walk = (origin: number, at: number, seen: number[]): boolean =>
    out(at).some((next) =>
      (next === origin && seen.length >= 3) ||
      (!seen.includes(next) && next > origin && walk(origin, next, [...seen, next]))
    );
  for (let n = 0; n < nodes; n++) if (walk(n, n, [n])) return true;
  return false;
}

Deno.test("cycle: agrees with a brute-force search on a thousand random rule sets", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const cals = [A, B, C, D, cal("e")];
  for (let i = 0; i < 1000; i++) {
    const rules: GraphRule[] = [];
    const count = 1 + Math.floor(random() * 6);
    for (let r = 0; r < count; r++) {
      const s = Math.floor(random() * 5);
      const t = Math.floor(random() * 5);
      if (s === t) continue;
      rules.push(
        rule(cals[s], cals[t], { bidirectional: random() < 0.4, enabled: random() < 0.85 }),
      );
    }
    const arcs = rules.filter((r) => r.enabled).flatMap((r): [number, number][] => {
      const [s, t] = [cals.indexOf(r.source), cals.indexOf(r.target)];
      return r.bidirectional ? [[s, t], [t, s]] : [[s, t]];
    });
    const cycle = findRuleCycle(rules);
    assert.equal(cycle !== undefined, hasLongCycle(arcs, 5), JSON.stringify(rules));
    if (cycle) {
      assert.ok(cycle.calendars.length >= 3);
      assert.equal(new Set(cycle.calendars).size, cycle.calendars.length, "a simple cycle");
      cycle.calendars.forEach((from, k) => {
        const to = cycle.calendars[(k + 1) % cycle.calendars.length];
        const r = rules.find((x) => x.id === cycle.ruleIds[k])!;
        const forward = key(r.source) === from && key(r.target) === to;
        const backward = r.bidirectional && key(r.target) === from && key(r.source) === to;
        assert.ok(r.enabled && (forward || backward), `rule ${r.id} carries ${from} → ${to}`);
      });
    }
  }
});
