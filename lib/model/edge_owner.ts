/**
 * What owns edges: a rule or a group. The engine, the store's checks and the pages treat both
 * alike through this view: an id (the key of statuses, failures, the ledger and history), a
 * name, whether it is on, its status, its edges and the calendars it uses.
 */
import type { CalendarRef } from "./calendar_ref.ts";
import type { Edge } from "./events.ts";
import type { Group } from "./group.ts";
import { buildGroupEdges } from "./group_edges.ts";
import type { Rule, RuleStatus } from "./rule.ts";
import { buildEdges } from "./rule_graph.ts";

export type EdgeOwnerKind = "rule" | "group";

export interface EdgeOwner {
  kind: EdgeOwnerKind;
  id: string;
  name: string;
  enabled: boolean;
  status: RuleStatus;
  statusReason?: string;
  edges: readonly Edge[];
  /** Every calendar it reads or writes (a group: all its members). */
  calendars: readonly CalendarRef[];
  /**
   * Marker rule ids its mirrors may carry besides its own id: the rules a group adopted the
   * mirrors of (lib/model/group.ts AdoptedEdge).
   */
  aliases: readonly string[];
}

export function ruleOwner(rule: Rule): EdgeOwner {
  return {
    kind: "rule",
    id: rule.id,
    name: rule.name,
    enabled: rule.enabled,
    status: rule.status,
    ...(rule.statusReason ? { statusReason: rule.statusReason } : {}),
    edges: buildEdges([rule]),
    calendars: [rule.source, rule.target],
    aliases: [],
  };
}

/** A group's view; `writable` says which members busysync may write to (the others only feed). */
export function groupOwner(
  group: Group,
  writable: (calendar: CalendarRef) => boolean,
): EdgeOwner {
  return {
    kind: "group",
    id: group.id,
    name: group.name,
    enabled: group.enabled,
    status: group.status,
    ...(group.statusReason ? { statusReason: group.statusReason } : {}),
    edges: buildGroupEdges(group, writable),
    calendars: group.members.map((m) => m.calendar),
    aliases: [...new Set(group.adopted.map((a) => a.ruleId))],
  };
}

/** The calendars `owner` reads events from: a rule's source (and target both ways), every member. */
export function sourcesOf(owner: Rule | Group): CalendarRef[] {
  if ("members" in owner) return owner.members.map((m) => m.calendar);
  return buildEdges([owner]).map((e) => e.source);
}

/** Every calendar `owner` reads or writes. */
export function calendarsOf(owner: Rule | Group): CalendarRef[] {
  return "members" in owner ? owner.members.map((m) => m.calendar) : [owner.source, owner.target];
}
