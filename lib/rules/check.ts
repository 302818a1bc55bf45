/**
 * Whether a rule can be saved as the user's rule set stands: its calendars must be among the
 * user's cached calendars (another user's calendar is "unknown", exactly like one that never
 * existed), busysync must be able to write where it mirrors to, and the rule set with it must
 * not loop. Problems name calendars by their titles, so a person can act on them. Also says
 * which chains of rules do not carry events as far as a person may expect (A→B, B→C: A's
 * events never reach C).
 */
import { isReadable, isWritable, listCalendars, type StoredCalendar } from "../db/calendars.ts";
import { type Connection, listConnections } from "../db/connections.ts";
import { listGroups } from "../db/groups.ts";
import { listRules } from "../db/rules.ts";
import { type CalendarName, calendarTitle, fullCalendarName } from "../model/calendar_name.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import {
  addedPairs,
  type Covering,
  findCovering,
  findDuplicates,
  groupCoverer,
  ruleCoverer,
} from "../model/pair_coverage.ts";
import {
  checkRuleGraph,
  describeGraphProblem,
  explainPropagation,
  type GraphRule,
} from "../model/rule_graph.ts";
import type { Rule } from "../model/rule.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";

export type RuleProblemCode =
  | "unknown_calendar"
  | "free_busy_only"
  | "unwritable_target"
  | "self_target"
  | "cycle"
  | "duplicate";

/** Why a rule cannot be accepted; `field` ("source" or "target") when one field is at fault. */
export interface RuleProblem {
  code: RuleProblemCode;
  message: string;
  field?: "source" | "target";
}

/** A chain of rules that stops short: events of `from` never reach `to` through `via`. */
export interface PropagationHint {
  from: string;
  to: string;
  via: string[];
  message: string;
}

export interface RuleCheck {
  problems: RuleProblem[];
  hints: PropagationHint[];
}

/** The rule to check: a stored rule's id (when it replaces that rule), name and calendars. */
export type CandidateRule = GraphRule & Pick<Rule, "name">;

/**
 * Checks `candidate` against the user's cached calendars and their other rules (a stored rule
 * with the candidate's id is replaced by it). `graph: false` skips the rule-set checks, for a
 * preview, which shows what a rule would do whatever the others say.
 */
export async function checkRule(
  kv: Deno.Kv,
  userId: string,
  candidate: CandidateRule,
  opts: { graph?: boolean } = {},
): Promise<RuleCheck> {
  const [names, stored, groupEntries] = await Promise.all([
    calendarNames(kv, userId),
    listRules(kv, userId),
    listGroups(kv, userId),
  ]);
  const groups = groupEntries.map((e) => e.group);
  const problems = calendarProblems(candidate, names);
  const others = stored.map((e) => e.rule).filter((r) => r.id !== candidate.id);
  const rules: CandidateRule[] = [...others, candidate];
  const nameOf = (key: string) => fullCalendarName(names.get(key));
  if (opts.graph !== false) {
    // A duplicate first, as the store checks it.
    const prev = stored.find((e) => e.rule.id === candidate.id)?.rule;
    const covering = findCovering(
      addedPairs(ruleCoverer(candidate), prev && ruleCoverer(prev)),
      [...others.map(ruleCoverer), ...groups.map(groupCoverer)],
    );
    if (covering) {
      problems.push({
        code: "duplicate",
        field: "target",
        message: describeCovering(covering, nameOf),
      });
    }
    for (const problem of checkRuleGraph(rules, groups)) {
      problems.push({
        code: problem.code,
        message: describeGraphProblem(problem, {
          rule: (id) => [...rules, ...groups].find((r) => r.id === id)?.name ?? id,
          calendar: nameOf,
        }),
        // A cycle is closed by where the rule writes: the target is the field to change.
        field: "target",
      });
    }
  }
  return { problems, hints: describeGaps(rules, nameOf) };
}

/**
 * Why a rule is refused as a duplicate, naming the rule (or group) that already mirrors the pair:
 * `"Personal → Work" already mirrors Personal into Work: edit it instead.`
 */
export function describeCovering(
  { coverer, pair }: Covering,
  nameOf: (key: string) => string,
): string {
  const who = coverer.kind === "group" ? `The group "${coverer.name}"` : `"${coverer.name}"`;
  return `${who} already mirrors ${nameOf(calendarKey(pair.source))} into ` +
    `${nameOf(calendarKey(pair.target))}: edit it instead.`;
}

/** The chains of `rules` that stop short, named for a person, from data the caller has read. */
export function propagationHints(
  rules: readonly GraphRule[],
  connections: readonly Connection[],
  calendars: readonly StoredCalendar[],
): PropagationHint[] {
  const names = namesOf(connections, calendars);
  return describeGaps(rules, (key) => fullCalendarName(names.get(key)));
}

/**
 * The duplicates a store already holds (from before they were refused), one sentence each:
 * `rules "A" and "B" both mirror X into Y; edit or delete one`. Nothing is changed.
 */
export function duplicateNotes(
  rules: readonly Rule[],
  connections: readonly Connection[],
  calendars: readonly StoredCalendar[],
): string[] {
  const names = namesOf(connections, calendars);
  // The operator's `migrate` may read rules of calendars no longer cached: their id still says
  // which calendar it was.
  const nameOf = (ref: CalendarRef) => {
    const known = names.get(calendarKey(ref));
    return known ? fullCalendarName(known) : ref.calendarId;
  };
  return findDuplicates(rules.map(ruleCoverer)).map(({ coverers, pairs }) => {
    const who = coverers.map((c) => `"${c.name}"`);
    const list = `${who.slice(0, -1).join(", ")} and ${who[who.length - 1]}`;
    const what = pairs.map((p) => `${nameOf(p.source)} into ${nameOf(p.target)}`).join(" and ");
    return `rules ${list} both mirror ${what}; edit or delete one`;
  });
}

function describeGaps(
  rules: readonly GraphRule[],
  nameOf: (key: string) => string,
): PropagationHint[] {
  return explainPropagation(rules).map((gap) => {
    const [from, to] = [nameOf(calendarKey(gap.from)), nameOf(calendarKey(gap.to))];
    const via = gap.via.map((c) => nameOf(calendarKey(c)));
    return {
      from,
      to,
      via,
      message: `Events of ${from} reach ${via.join(", then ")} but never ${to}: busysync does ` +
        `not copy a copy. Add a rule from ${from} to ${to} if they belong there too.`,
    };
  });
}

export interface NamedCalendar extends CalendarName {
  calendar: StoredCalendar;
}

/** The user's cached calendars of connections that still exist, by calendarKey. */
export async function calendarNames(
  kv: Deno.Kv,
  userId: string,
): Promise<Map<string, NamedCalendar>> {
  const [connections, calendars] = await Promise.all([
    listConnections(kv, userId),
    listCalendars(kv, userId),
  ]);
  return namesOf(connections, calendars);
}

function namesOf(
  connections: readonly Connection[],
  calendars: readonly StoredCalendar[],
): Map<string, NamedCalendar> {
  const emails = new Map(connections.map((c) => [c.id, c.email]));
  const out = new Map<string, NamedCalendar>();
  for (const calendar of calendars) {
    const email = emails.get(calendar.connectionId);
    if (email === undefined) continue;
    out.set(calendarKey({ connectionId: calendar.connectionId, calendarId: calendar.id }), {
      name: calendarTitle(calendar, email),
      account: email,
      calendar,
    });
  }
  return out;
}

function calendarProblems(
  candidate: CandidateRule,
  names: ReadonlyMap<string, NamedCalendar>,
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const check = (field: "source" | "target", ref: CalendarRef, writes: boolean) => {
    const known = names.get(calendarKey(ref));
    if (!known) {
      problems.push({
        code: "unknown_calendar",
        field,
        message: `The ${field} calendar is not one of your connected calendars. If you added ` +
          "it recently, refresh the calendar list on the connections page.",
      });
    } else if (!isReadable(known.calendar.accessRole)) {
      // Neither read nor written: the one thing to say is why, whichever side it is on.
      problems.push({
        code: "free_busy_only",
        field,
        message:
          `busysync cannot use ${fullCalendarName(known)}: it is shared with the account as ` +
          "free/busy only, so its events cannot be read. Ask its owner to share “See all " +
          "event details”.",
      });
    } else if (writes && !isWritable(known.calendar.accessRole)) {
      problems.push({
        code: "unwritable_target",
        field,
        message: `busysync cannot add events to ${
          fullCalendarName(known)
        }: the account can only read it.`,
      });
    }
  };
  check("source", candidate.source, candidate.bidirectional);
  check("target", candidate.target, true);
  return problems;
}
