/**
 * Sync groups per user: the records and their reads. Changes (lib/db/group_changes.ts) go
 * through the same `rule_sets` key as rule changes, so rules and groups are checked as one set.
 */
import { z } from "zod";
import { type Group, GroupSchema } from "../model/group.ts";
import type { RuleStatus } from "../model/rule.ts";
import { keys } from "./keys.ts";
import type { Fence } from "./leases.ts";

/** The user has no group with this id. */
export class GroupNotFoundError extends Error {
  constructor(readonly groupId: string) {
    super(`no group ${groupId}`);
    this.name = "GroupNotFoundError";
  }
}

const StoredGroupSchema = z.object({ v: z.literal(1) }).and(GroupSchema);

/** A group with the versionstamp it was read at (the API's ETag). */
export interface GroupEntry {
  group: Group;
  versionstamp: string;
}

export function readGroup(value: unknown): Group {
  const { v: _v, ...group } = StoredGroupSchema.parse(value);
  return group;
}

export function storeGroup(group: Group) {
  return { v: 1 as const, ...GroupSchema.parse(group) };
}

export async function getGroup(
  kv: Deno.Kv,
  userId: string,
  groupId: string,
): Promise<GroupEntry | null> {
  const entry = await kv.get(keys.group(userId, groupId));
  if (entry.value === null) return null;
  return { group: readGroup(entry.value), versionstamp: entry.versionstamp };
}

/** The user's groups, oldest first (ULID ids). */
export async function listGroups(kv: Deno.Kv, userId: string): Promise<GroupEntry[]> {
  const out: GroupEntry[] = [];
  for await (const entry of kv.list({ prefix: keys.groups(userId) })) {
    out.push({ group: readGroup(entry.value), versionstamp: entry.versionstamp });
  }
  return out;
}

/**
 * Sets a group's status and reason (the engine's verdict), fenced by the sync lease; as
 * setRuleStatus: not an edit, a no-op when the group is gone or already says exactly this.
 */
export async function setGroupStatus(
  kv: Deno.Kv,
  fence: Fence,
  userId: string,
  groupId: string,
  status: RuleStatus,
  reason?: string,
): Promise<void> {
  for (;;) {
    const entry = await kv.get(keys.group(userId, groupId));
    if (entry.value === null) return;
    const group = readGroup(entry.value);
    if (group.status === status && group.statusReason === reason) return;
    const next: Group = { ...group, status, statusReason: reason?.slice(0, 500) };
    if (await fence.commit((op) => op.check(entry).set(entry.key, storeGroup(next)))) return;
  }
}

/**
 * One edge of a group that went away because a member left: what the engine needs to remove
 * its mirrors (those its ledger knows, then any its marker search finds in the target).
 */
export const EdgeRemovalSchema = z.object({
  v: z.literal(1),
  ruleId: z.string(),
  direction: z.string(),
  source: z.object({ connectionId: z.string(), calendarId: z.string() }),
  target: z.object({ connectionId: z.string(), calendarId: z.string() }),
  /** The rule id its mirrors' marker names (the group's, or an adopted rule's). */
  markerRuleId: z.string(),
  /** Whether the marker names the target too (a group's own mirrors do). */
  markTarget: z.boolean(),
  requestedAt: z.iso.datetime(),
});
export type EdgeRemoval = z.infer<typeof EdgeRemovalSchema>;

/** Pending edge removals of the user. */
export async function listEdgeRemovals(kv: Deno.Kv, userId: string): Promise<EdgeRemoval[]> {
  const out: EdgeRemoval[] = [];
  for await (const entry of kv.list({ prefix: keys.edgeRemovals(userId) })) {
    out.push(EdgeRemovalSchema.parse(entry.value));
  }
  return out;
}

/** Marks an edge removal done. Fenced. */
export async function completeEdgeRemoval(
  fence: Fence,
  userId: string,
  removal: Pick<EdgeRemoval, "ruleId" | "direction">,
): Promise<void> {
  await fence.commit((op) =>
    op.delete(keys.edgeRemoval(userId, removal.ruleId, removal.direction))
  );
}
