/**
 * The rule graph of one user: calendars are nodes, each rule an arrow (a bidirectional rule two).
 * Mirrors never propagate, so the graph says both which rule sets loop and which calendars a
 * user may wrongly expect to be reached.
 */
import { calendarKey } from "./calendar_ref.ts";
import { type Rule, targetsItself } from "./rule.ts";
import type { CalendarRef } from "./calendar_ref.ts";
import type { Edge } from "./events.ts";

/** The parts of a rule the graph looks at (a full Rule fits). */
export type GraphRule = Pick<Rule, "id" | "source" | "target" | "bidirectional" | "enabled">;

/** The edges of `rules` (disabled ones included: filter first when that matters). */
export function buildEdges(rules: readonly Rule[]): Edge[] {
  return rules.flatMap((rule) => {
    const { privacy, title, titlePrefix, copyPrivateTitles, visibility, filters, window } = rule;
    const settings = {
      privacy,
      title,
      titlePrefix,
      copyPrivateTitles,
      visibility,
      filters,
      window,
    };
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
  ruleId: string;
}

/** Arcs between distinct calendars of enabled rules, first rule first; keys → refs alongside. */
function readGraph(rules: readonly GraphRule[]) {
  const arcs: Arc[] = [];
  const refs = new Map<string, CalendarRef>();
  const out = new Map<string, Arc[]>();
  const add = (from: CalendarRef, to: CalendarRef, ruleId: string) => {
    const arc = { from: calendarKey(from), to: calendarKey(to), ruleId };
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
  return { arcs, refs, out };
}

/**
 * Finds a cycle of three or more calendars among enabled rules (A→B→C→A), or undefined.
 * A↔B (a bidirectional rule, or two opposite rules) is not a cycle: an arc followed by its own
 * reverse never counts. Deterministic: the first such cycle through the earliest arc, shortest.
 */
export function findRuleCycle(rules: readonly GraphRule[]): RuleCycle | undefined {
  const { arcs, out } = readGraph(rules);
  // A simple cycle of length ≥ 3 through arc u→v is u→v plus a path back from v to u that does
  // not start with the arc v→u, and any such shortest path is simple: one BFS per arc decides it.
  for (const first of arcs) {
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
export function checkRuleGraph(rules: readonly GraphRule[]): GraphProblem[] {
  const problems: GraphProblem[] = rules.filter(targetsItself).map((r) => ({
    code: "self_target" as const,
    ruleId: r.id,
  }));
  const cycle = findRuleCycle(rules);
  if (cycle) problems.push({ code: "cycle", cycle });
  return problems;
}

/** How a problem's message names things: a rule by its id, a calendar by its calendarKey. */
export interface GraphNames {
  rule(ruleId: string): string;
  calendar(key: string): string;
}

/** One sentence a person can act on, naming the rules and calendars involved. */
export function describeGraphProblem(problem: GraphProblem, names: GraphNames): string {
  if (problem.code === "self_target") {
    return `rule "${names.rule(problem.ruleId)}" targets its own source calendar`;
  }
  const { calendars, ruleIds } = problem.cycle;
  const path = [...calendars, calendars[0]].map((k) => names.calendar(k)).join(" → ");
  const rules = [...new Set(ruleIds)].map((id) => `"${names.rule(id)}"`).join(", ");
  return `rules ${rules} form a cycle ${path}: busysync never carries a mirror further, ` +
    "so such a set never does what it seems to promise";
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
export function explainPropagation(rules: readonly GraphRule[]): PropagationGap[] {
  const { refs, out } = readGraph(rules);
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
