/**
 * The rule graph of one user: calendars are nodes, each rule an arrow (a bidirectional rule two).
 * Mirrors never propagate, so the graph says both which rule sets loop and which calendars a
 * user may wrongly expect to be reached.
 */
import { calendarKey } from "./calendar_ref.ts";
import { type Rule, targetsItself } from "./rule.ts";
import type { CalendarRef } from "./calendar_ref.ts";
import { type Edge, mirrorSettingsOf } from "./events.ts";
import type { Group } from "./group.ts";

/** The parts of a rule the graph looks at (a full Rule fits). */
export type GraphRule = Pick<Rule, "id" | "source" | "target" | "bidirectional" | "enabled">;
/** The parts of a group the graph looks at (a full Group fits). */
export type GraphGroup = Pick<Group, "id" | "members" | "enabled">;

/** The edges of `rules` (disabled ones included: filter first when that matters). */
export function buildEdges(rules: readonly Rule[]): Edge[] {
  return rules.flatMap((rule) => {
    const settings = mirrorSettingsOf(rule);
    const forward: Edge = {
      ruleId: rule.id,
      direction: "forward",
      source: rule.source,
      target: rule.target,
      settings,
    };
    if (!rule.bidirectional) return [forward];
    return [forward, {
      ...forward,
      direction: "reverse",
      source: rule.target,
      target: rule.source,
    }];
  });
}

/**
 * A cycle of rules as calendar keys in order: `calendars[i]` feeds `calendars[i + 1]` through
 * `ruleIds[i]`, and the last calendar feeds the first.
 */
export interface RuleCycle {
  calendars: string[];
  ruleIds: string[];
}

interface Arc {
  from: string;
  to: string;
  /** The rule's id, or the group's. */
  ruleId: string;
  ofGroup: boolean;
}

/**
 * Arcs between distinct calendars of enabled rules and groups (each pair of a group's members,
 * both ways), rules first; keys → refs alongside.
 */
function readGraph(rules: readonly GraphRule[], groups: readonly GraphGroup[] = []) {
  const arcs: Arc[] = [];
  const refs = new Map<string, CalendarRef>();
  const out = new Map<string, Arc[]>();
  const add = (from: CalendarRef, to: CalendarRef, ruleId: string, ofGroup = false) => {
    const arc = { from: calendarKey(from), to: calendarKey(to), ruleId, ofGroup };
    if (arc.from === arc.to || out.get(arc.from)?.some((a) => a.to === arc.to)) return;
    arcs.push(arc);
    refs.set(arc.from, from).set(arc.to, to);
    out.set(arc.from, [...(out.get(arc.from) ?? []), arc]);
  };
  for (const rule of rules) {
    if (!rule.enabled || targetsItself(rule)) continue;
    add(rule.source, rule.target, rule.id);
    if (rule.bidirectional) add(rule.target, rule.source, rule.id);
  }
  for (const group of groups) {
    if (!group.enabled) continue;
    for (const a of group.members) {
      for (const b of group.members) {
        if (a !== b) add(a.calendar, b.calendar, group.id, true);
      }
    }
  }
  return { arcs, refs, out };
}

/**
 * Finds a cycle of three or more calendars among enabled rules (A→B→C→A), or undefined.
 * A↔B (a bidirectional rule, or two opposite rules) is not a cycle: an arc followed by its own
 * reverse never counts. Groups' edges take part, but a cycle of group edges alone never counts:
 * a group says "these calendars block each other", which promises nothing about a circle.
 * Deterministic: the first such cycle through the earliest rule arc, shortest.
 */
export function findRuleCycle(
  rules: readonly GraphRule[],
  groups: readonly GraphGroup[] = [],
): RuleCycle | undefined {
  const { arcs, out } = readGraph(rules, groups);
  // A simple cycle of length ≥ 3 through arc u→v is u→v plus a path back from v to u that does
  // not start with the arc v→u, and any such shortest path is simple: one BFS per arc decides it.
  // Every cycle that counts holds a rule arc, so starting from rule arcs finds them all.
  for (const first of arcs.filter((a) => !a.ofGroup)) {
    const via = new Map<string, Arc>();
    const queue = [first.to];
    for (let i = 0; i < queue.length && !via.has(first.from); i++) {
      const at = queue[i];
      for (const arc of out.get(at) ?? []) {
        if (at === first.to && arc.to === first.from) continue;
        if (arc.to === first.to || via.has(arc.to)) continue;
        via.set(arc.to, arc);
        queue.push(arc.to);
      }
    }
    const back = via.get(first.from);
    if (!back) continue;
    const path: Arc[] = [];
    for (let arc: Arc | undefined = back; arc; arc = via.get(arc.from)) path.unshift(arc);
    const cycle = [first, ...path];
    return { calendars: cycle.map((a) => a.from), ruleIds: cycle.map((a) => a.ruleId) };
  }
  return undefined;
}

export type GraphProblem =
  | { code: "self_target"; ruleId: string }
  | { code: "cycle"; cycle: RuleCycle };

/**
 * Everything that makes a rule set unacceptable (an API answers 422): each rule whose target is
 * its own source (enabled or not), then a cycle of three or more calendars among enabled rules.
 */
export function checkRuleGraph(
  rules: readonly GraphRule[],
  groups: readonly GraphGroup[] = [],
): GraphProblem[] {
  const problems: GraphProblem[] = rules.filter(targetsItself).map((r) => ({
    code: "self_target" as const,
    ruleId: r.id,
  }));
  const cycle = findRuleCycle(rules, groups);
  if (cycle) problems.push({ code: "cycle", cycle });
  return problems;
}

/**
 * How a problem's message names things: a rule or group by its id (a rule not saved yet as
 * undefined), a calendar by its calendarKey.
 */
export interface GraphNames {
  rule(ruleId: string): string | undefined;
  calendar(key: string): string;
  /** What the change being checked is ("This rule" unless said). */
  subject?: string;
}

/**
 * What a person reads, naming the rules and calendars involved: for a cycle, what the rules
 * would and would not do, and what to do instead (a group; the API offers to make it).
 */
export function describeGraphProblem(problem: GraphProblem, names: GraphNames): string {
  if (problem.code === "self_target") {
    return `The rule "${names.rule(problem.ruleId)}" would copy a calendar into itself.`;
  }
  const { calendars, ruleIds } = problem.cycle;
  const cals = calendars.map((k) => names.calendar(k));
  const circle = [...cals, cals[0]].join(" → ");
  const named = [...new Set(ruleIds)].map((id) => names.rule(id)).filter((n) => n !== undefined);
  const withRules = named.length ? ` together with ${listOf(named.map((n) => `"${n}"`))}` : "";
  return `${names.subject ?? "This rule"}${withRules} would link ${
    listOf(cals)
  } in a circle (${circle}). ` +
    "busysync copies real events only, never the busy blocks it made, so each calendar would " +
    `get busy blocks from the calendar before it in the circle and not from the others. To make ` +
    `these ${cals.length} calendars block each other, make them a group.`;
}

/** "a", "a and b", "a, b and c". */
function listOf(items: readonly string[]): string {
  return items.length < 2
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Events of `from` reach `to` only through the calendars in `via`, which busysync never does. */
export interface PropagationGap {
  from: CalendarRef;
  to: CalendarRef;
  via: CalendarRef[];
}

/**
 * Mirrors are not mirrored again, so A→B plus B→C does not carry A's events into C. Lists each
 * such pair (A, C) among enabled rules that has no direct rule, with the shortest chain between
 * them, so the editor can say "add A→C". Ordered by first appearance in `rules`.
 */
export function explainPropagation(
  rules: readonly GraphRule[],
  groups: readonly GraphGroup[] = [],
): PropagationGap[] {
  const { refs, out } = readGraph(rules, groups);
  const gaps: PropagationGap[] = [];
  for (const [origin, originRef] of refs) {
    const parent = new Map<string, string>([[origin, origin]]);
    const queue = [origin];
    for (let i = 0; i < queue.length; i++) {
      for (const arc of out.get(queue[i]) ?? []) {
        if (parent.has(arc.to)) continue;
        parent.set(arc.to, queue[i]);
        queue.push(arc.to);
      }
    }
    for (const reached of queue) {
      const before = parent.get(reached)!;
      if (reached === origin || before === origin) continue;
      const via: CalendarRef[] = [];
      for (let at = before; at !== origin; at = parent.get(at)!) via.unshift(refs.get(at)!);
      gaps.push({ from: originRef, to: refs.get(reached)!, via });
    }
  }
  return gaps;
}
