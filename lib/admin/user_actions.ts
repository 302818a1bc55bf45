/**
 * What the instance owner does to one user from /admin: pause or resume their syncs, delete
 * their account. Each returns null for a user who does not exist, for the route to answer 404.
 */
import { deleteAccount } from "../accounts/lifecycle.ts";
import type { AccountDeps } from "../accounts/deps.ts";
import { listRulesAndGroups } from "../db/rules.ts";
import { pauseUserSyncs, resumeUserSyncs, type SyncPause } from "../db/sync_pauses.ts";
import { getUser } from "../db/users.ts";
import type { SyncRequests } from "../sync/requests.ts";

/** Pauses the user's syncs (lib/db/sync_pauses.ts says who honours it). */
export async function pauseSyncsOf(
  deps: { kv: Deno.Kv; now: () => Date },
  userId: string,
): Promise<SyncPause | null> {
  if (!(await getUser(deps.kv, userId))) return null;
  return await pauseUserSyncs(deps.kv, userId, deps.now());
}

/**
 * Lets the user's syncs run again and, when they have an enabled rule, queues one at once:
 * push notifications were only acknowledged meanwhile, and the next cron tick may be far. It is
 * an ordinary incremental sync; each source's change cursor still holds what changed.
 */
export async function resumeSyncsOf(
  deps: { kv: Deno.Kv; syncRequests: Pick<SyncRequests, "request"> },
  userId: string,
): Promise<{ jobId?: string } | null> {
  if (!(await getUser(deps.kv, userId))) return null;
  await resumeUserSyncs(deps.kv, userId);
  const owners = await listRulesAndGroups(deps.kv, userId);
  if (!owners.some((o) => o.enabled)) return {};
  // "schedule": the regular sync the pause held back, come early.
  return await deps.syncRequests.request(userId, { reason: "schedule" });
}

/**
 * Deletes the user's account as they could themselves (lib/accounts/lifecycle.ts): with
 * `removeMirrors` their busy blocks are removed from their calendars first (MirrorRemovalError
 * when that fails, and nothing is deleted), otherwise they stay where they are, managed by
 * nobody. The pause does not hold the removal back: it is the owner asking.
 */
export async function deleteUserAsOwner(
  deps: AccountDeps,
  userId: string,
  options: { removeMirrors: boolean },
): Promise<{ deleted: true } | null> {
  if (!(await getUser(deps.kv, userId))) return null;
  await deleteAccount(deps, userId, options);
  return { deleted: true };
}
