/**
 * A group's edges: one per ordered pair of its members, into every member busysync may write
 * to (a calendar the user may only read takes part as a source only). An edge is named by its
 * pair, never by a member's position, so adding or removing a member leaves the other edges,
 * their ledger and their mirrors' ids as they were.
 */
import { createHash } from "node:crypto";
import { calendarKey, type CalendarRef } from "./calendar_ref.ts";
import { type Edge, type MirrorSettings, mirrorSettingsOf } from "./events.ts";
import type { Group } from "./group.ts";
import { isSameCalendar } from "./rule.ts";

/** Part of the hashed input: changing it would move every group edge's ledger. */
const PAIR_TAG = "group-pair/1";

/** The key of the edge source → target within a group: "p" + 24 hex digits of a SHA-256. */
export function pairKey(source: CalendarRef, target: CalendarRef): string {
  const input = JSON.stringify([PAIR_TAG, calendarKey(source), calendarKey(target)]);
  return "p" + createHash("sha256").update(input).digest("hex").slice(0, 24);
}

/** The mirror settings of blocks made from `source`'s events: a member's privacy wins. */
function settingsFor(group: Group, source: CalendarRef): MirrorSettings {
  const member = group.members.find((m) => isSameCalendar(m.calendar, source));
  return { ...mirrorSettingsOf(group), privacy: member?.privacy ?? group.privacy };
}

/**
 * The edges of `group` (whether it is enabled or not): every member into every other member
 * `writable` allows, members in the group's order.
 */
export function buildGroupEdges(
  group: Group,
  writable: (calendar: CalendarRef) => boolean,
): Edge[] {
  const edges: Edge[] = [];
  for (const from of group.members) {
    const settings = settingsFor(group, from.calendar);
    for (const to of group.members) {
      if (from === to || !writable(to.calendar)) continue;
      const adopted = group.adopted.find((a) =>
        isSameCalendar(a.source, from.calendar) && isSameCalendar(a.target, to.calendar)
      );
      edges.push({
        ruleId: group.id,
        direction: pairKey(from.calendar, to.calendar),
        source: from.calendar,
        target: to.calendar,
        settings,
        identity: adopted ? { kind: "adopted", ruleId: adopted.ruleId } : { kind: "group" },
      });
    }
  }
  return edges;
}
