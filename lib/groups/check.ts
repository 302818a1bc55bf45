/**
 * Whether a group can be saved as the user's calendars, rules and other groups stand: each
 * member is one of the user's cached calendars whose events busysync can read, busysync can
 * write to at least one of them (a calendar it may only read takes part as a source only), no
 * plain rule beside it closes a cycle through it, and no rule or other group already mirrors
 * one of its pairs. Problems name calendars by their titles and point at the member's field.
 */
import { isReadable, isWritable } from "../db/calendars.ts";
import { listGroups } from "../db/groups.ts";
import { listRules } from "../db/rules.ts";
import { fullCalendarName } from "../model/calendar_name.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import type { Group } from "../model/group.ts";
import { addedPairs, findCovering, groupCoverer, ruleCoverer } from "../model/pair_coverage.ts";
import { checkRuleGraph, describeGraphProblem } from "../model/rule_graph.ts";
import type { Rule } from "../model/rule.ts";
import { calendarNames, describeCovering, type RuleProblemCode } from "../rules/check.ts";

/** Why a group cannot be accepted; `field` is a dotted path ("members.1.calendar", "members"). */
export interface GroupProblem {
  code: RuleProblemCode | "unknown_rule" | "not_adoptable";
  message: string;
  field?: string;
}

/**
 * Checks `candidate` (a stored group with its id is replaced by it). `without` names rules the
 * change deletes (a group adopting them), which then neither loop nor duplicate. `graph: false`
 * skips the checks against the rest of the set, for a preview.
 */
export async function checkGroup(
  kv: Deno.Kv,
  userId: string,
  candidate: Group,
  opts: { graph?: boolean; without?: readonly string[] } = {},
): Promise<GroupProblem[]> {
  const [names, ruleEntries, groupEntries] = await Promise.all([
    calendarNames(kv, userId),
    listRules(kv, userId),
    listGroups(kv, userId),
  ]);
  const nameOf = (key: string) => fullCalendarName(names.get(key));
  const problems: GroupProblem[] = [];
  let writable = 0;
  candidate.members.forEach((member, i) => {
    const field = `members.${i}.calendar`;
    const known = names.get(calendarKey(member.calendar));
    if (!known) {
      problems.push({
        code: "unknown_calendar",
        field,
        message: "This calendar is not one of your connected calendars. If you added it " +
          "recently, refresh the calendar list on the connections page.",
      });
    } else if (!isReadable(known.calendar.accessRole)) {
      problems.push({
        code: "free_busy_only",
        field,
        message: `busysync cannot use ${fullCalendarName(known)}: it is shared with the ` +
          "account as free/busy only, so its events cannot be read. Ask its owner to share " +
          "“See all event details”.",
      });
    } else if (isWritable(known.calendar.accessRole)) writable++;
  });
  if (!problems.length && writable === 0) {
    problems.push({
      code: "unwritable_target",
      field: "members",
      message: "busysync can only read these calendars, so it could add a busy block to none " +
        "of them. Add a calendar busysync may write to.",
    });
  }
  if (opts.graph === false) return problems;
  const gone = new Set(opts.without ?? []);
  const rules: Rule[] = ruleEntries.map((e) => e.rule).filter((r) => !gone.has(r.id));
  const others = groupEntries.map((e) => e.group).filter((g) => g.id !== candidate.id);
  const owners = [...rules, ...others, candidate];
  const prev = groupEntries.find((e) => e.group.id === candidate.id)?.group;
  const covering = findCovering(
    addedPairs(groupCoverer(candidate), prev && groupCoverer(prev)),
    [...rules.map(ruleCoverer), ...others.map(groupCoverer)],
  );
  if (covering) {
    problems.push({
      code: "duplicate",
      field: "members",
      message: describeCovering(covering, nameOf),
    });
  }
  for (const problem of checkRuleGraph(rules, [...others, candidate])) {
    problems.push({
      code: problem.code,
      field: "members",
      message: describeGraphProblem(problem, {
        rule: (id) => id === candidate.id ? undefined : owners.find((o) => o.id === id)?.name,
        calendar: nameOf,
        subject: "This group",
      }),
    });
  }
  return problems;
}
