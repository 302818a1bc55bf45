/**
 * The group editor's vocabulary: the draft it edits (the API's group input, complete) and a
 * name for a group nobody named yet. Only types come from lib/model/group.ts, so no zod reaches
 * the browser bundle.
 */
import type { GroupInput } from "../model/group.ts";
import { calendarBeside } from "../model/calendar_name.ts";
import type { CalendarOption } from "./rule_draft.ts";

export type GroupDraft = GroupInput;

/**
 * "Personal, Work and Family": each member as it reads beside another account's calendar (a
 * main calendar by what tells its account apart). At most 100 characters, as a name may be.
 */
export function suggestGroupName(members: readonly CalendarOption[]): string {
  const names = members.map((m) =>
    calendarBeside(m, members.find((o) => o.account !== m.account) ?? m)
  );
  const list = names.length < 2
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return list.slice(0, 100);
}
