/**
 * The way out of a refused cycle: when a rule would link calendars in a circle (A → B → C → A,
 * which busysync refuses because it never copies a copy), the person most likely wants those
 * calendars to block each other. This builds the group that does it: the circle's calendars as
 * members, taking over every enabled rule that mirrors between two of them (their busy blocks
 * stay, under their ids), with the settings of the oldest of those rules, and says in words
 * which settings of the others it does not keep.
 */
import { listGroups } from "../db/groups.ts";
import { listRules } from "../db/rules.ts";
import { MAIN_CALENDAR } from "../model/calendar_name.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import { type MirrorSettings, mirrorSettingsOf } from "../model/events.ts";
import { GROUP_MAX_MEMBERS, type GroupInput } from "../model/group.ts";
import { findRuleCycle } from "../model/rule_graph.ts";
import type { Rule, RuleInput } from "../model/rule.ts";
import { calendarNames } from "../rules/check.ts";
import { draftRule, type RuleDraftDeps } from "../rules/save.ts";

/** The draft closes no circle of plain rules, so there is no group to propose. */
export class NoProposalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoProposalError";
  }
}

export interface GroupProposal {
  group: GroupInput;
  /** The stored rules the group takes over (deleted when it is made). */
  adoptRuleIds: string[];
  /** The name of the rule whose settings the group takes. */
  settingsFrom: string;
  /** One sentence per rule whose settings the group does not keep. */
  differences: string[];
}

const SETTING_WORDS: Record<keyof MirrorSettings, string> = {
  privacy: "what a block shows",
  title: "the block title",
  titlePrefix: "the title prefix",
  copyPrivateTitles: "private events' titles",
  visibility: "the blocks' visibility",
  filters: "which events it skips",
  window: "how far ahead it looks",
};

/**
 * The group that does what `input` (a rule draft, with `id` a stored rule's new version) and
 * the rules it would circle with mean. Throws NoProposalError when it closes no circle, or one
 * through a group (that group should take the calendar instead).
 */
export async function proposeGroup(
  deps: RuleDraftDeps,
  userId: string,
  input: RuleInput,
  id?: string,
): Promise<GroupProposal> {
  const draft = await draftRule(deps, userId, input, id);
  const [ruleEntries, groupEntries, names] = await Promise.all([
    listRules(deps.kv, userId),
    listGroups(deps.kv, userId),
    calendarNames(deps.kv, userId),
  ]);
  const stored = ruleEntries.map((e) => e.rule);
  const groups = groupEntries.map((e) => e.group);
  const cycle = findRuleCycle([...stored.filter((r) => r.id !== draft.id), draft], groups);
  if (!cycle) throw new NoProposalError("This rule links no calendars in a circle.");
  const inCycle = groups.find((g) => cycle.ruleIds.includes(g.id));
  if (inCycle) {
    throw new NoProposalError(
      `The circle goes through the group "${inCycle.name}": add the calendar to that group ` +
        "instead of making a new one.",
    );
  }
  const refs = new Map<string, CalendarRef>();
  for (const r of [draft, ...stored]) {
    refs.set(calendarKey(r.source), r.source).set(calendarKey(r.target), r.target);
  }
  const members = cycle.calendars.map((key) => ({ calendar: refs.get(key)! }));
  if (members.length > GROUP_MAX_MEMBERS) {
    throw new NoProposalError(`A group holds at most ${GROUP_MAX_MEMBERS} calendars.`);
  }
  const keys = new Set(cycle.calendars);
  const within = (r: Rule) =>
    r.enabled && keys.has(calendarKey(r.source)) && keys.has(calendarKey(r.target));
  const adopted = stored.filter(within);
  const model = adopted[0] ?? draft;
  const settings = mirrorSettingsOf(model);
  const others = adopted.some((r) => r.id === draft.id) ? adopted : [...adopted, draft];
  const differences = others.filter((r) => r !== model)
    .flatMap((r) => {
      const differ = (Object.keys(SETTING_WORDS) as (keyof MirrorSettings)[])
        .filter((k) => JSON.stringify(r[k]) !== JSON.stringify(settings[k]));
      if (!differ.length) return [];
      const what = differ.map((k) => SETTING_WORDS[k]);
      const list = what.length > 1
        ? `${what.slice(0, -1).join(", ")} and ${what[what.length - 1]}`
        : what[0];
      return [`"${r.name}" differs in ${list}: the group uses those of "${model.name}".`];
    });
  // Every account's primary calendar is "Main calendar": the account says which one.
  const titles = cycle.calendars.map((k) => {
    const known = names.get(k);
    return !known ? k : known.name === MAIN_CALENDAR ? known.account : known.name;
  });
  const name = `${titles.slice(0, -1).join(", ")} and ${titles[titles.length - 1]}`;
  return {
    group: { name: name.slice(0, 100), members, enabled: true, ...settings },
    adoptRuleIds: adopted.map((r) => r.id),
    settingsFrom: model.name,
    differences,
  };
}
