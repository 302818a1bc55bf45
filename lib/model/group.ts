/**
 * The sync group: 2 to 10 calendars that all block each other. Every real event of one member
 * becomes a busy block in every other member busysync may write to, with one set of mirror
 * settings (a member may override privacy for the blocks made from its own events).
 *
 * Like rule.ts, these schemas are the only validation of groups: the API, the store and the
 * engine all parse with them.
 */
import { z } from "zod";
import type { CalendarRef } from "./calendar_ref.ts";
import {
  CalendarRefSchema,
  IdSchema,
  isSameCalendar,
  mergePatch,
  mirrorSettingFields,
  mirrorSettingPatchFields,
  NameSchema,
  PrivacySchema,
  RULE_STATUSES,
} from "./rule.ts";

export const GROUP_MIN_MEMBERS = 2;
export const GROUP_MAX_MEMBERS = 10;

export const GroupMemberSchema = z.object({
  calendar: CalendarRefSchema,
  privacy: PrivacySchema.optional().describe(
    "Overrides the group's privacy for the busy blocks made from this calendar's events.",
  ),
});
export type GroupMember = z.infer<typeof GroupMemberSchema>;

/**
 * One edge of a rule whose mirrors a group took over (lib/groups/adopt.ts): the group's edge of
 * the same (source, target) keeps that rule's marker, so the mirrors stay under their ids.
 */
export const AdoptedEdgeSchema = z.object({
  source: CalendarRefSchema,
  target: CalendarRefSchema,
  ruleId: IdSchema,
  direction: z.enum(["forward", "reverse"]),
});
export type AdoptedEdge = z.infer<typeof AdoptedEdgeSchema>;

const members = z.array(GroupMemberSchema).min(GROUP_MIN_MEMBERS, {
  message: `a group needs at least ${GROUP_MIN_MEMBERS} calendars`,
}).max(GROUP_MAX_MEMBERS, {
  message: `a group holds at most ${GROUP_MAX_MEMBERS} calendars`,
}).superRefine((list, ctx) => {
  list.forEach((member, i) => {
    if (list.slice(0, i).some((m) => isSameCalendar(m.calendar, member.calendar))) {
      ctx.addIssue({
        code: "custom",
        path: [i, "calendar"],
        message: "this calendar is already a member of the group",
        params: { problem: "duplicate_member" },
      });
    }
  });
});

const groupFields = {
  name: NameSchema,
  members,
  enabled: z.boolean().default(true),
  ...mirrorSettingFields,
};

/** What a client sends to create (or replace) a group; parsing applies every default. */
export const GroupInputSchema = z.object(groupFields);
export type GroupInput = z.infer<typeof GroupInputSchema>;

/** A stored group as the API returns it. */
export const GroupSchema = z.object({
  id: IdSchema,
  ...groupFields,
  /** Edges taken over from rules, with the rules' mirrors; empty for a group made from scratch. */
  adopted: z.array(AdoptedEdgeSchema).default([]),
  status: z.enum(RULE_STATUSES).default("ok"),
  statusReason: z.string().max(500).optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Group = z.infer<typeof GroupSchema>;

/** A PATCH body: as a rule's, `members` replaced whole. */
export const GroupPatchSchema = z.object({
  name: NameSchema.optional(),
  members: members.optional(),
  enabled: z.boolean().optional(),
  ...mirrorSettingPatchFields,
});
export type GroupPatch = z.infer<typeof GroupPatchSchema>;

/** Builds a new group from parsed input: status "ok", both timestamps `now`. */
export function buildGroup(
  input: GroupInput,
  { id, now, adopted = [] }: { id: string; now: Date; adopted?: AdoptedEdge[] },
): Group {
  const at = now.toISOString();
  return { id, ...input, adopted, status: "ok", createdAt: at, updatedAt: at };
}

/** Applies a parsed patch and stamps `updatedAt`; re-parsed, so an invalid whole throws. */
export function applyGroupPatch(group: Group, patch: GroupPatch, now: Date): Group {
  const next = mergePatch(group, patch);
  // An adopted edge of a calendar that left the group is gone with its other edges.
  const adopted = next.adopted.filter((a) => memberOf(next, a.source) && memberOf(next, a.target));
  return GroupSchema.parse({ ...next, adopted, updatedAt: now.toISOString() });
}

/** The member that is `ref`'s calendar, if any. */
export function memberOf(group: Pick<Group, "members">, ref: CalendarRef): GroupMember | undefined {
  return group.members.find((m) => isSameCalendar(m.calendar, ref));
}
