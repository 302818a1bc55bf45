/**
 * Syncs the instance owner paused for one user (from /admin). While the record exists the
 * scheduler runs none of the user's jobs, the cron enqueues none, push notifications are only
 * acknowledged and "Sync now" answers that syncs are paused. The record is user-scoped, so
 * deleting the user deletes it.
 */
import { z } from "zod";
import { commitOnce } from "./commit.ts";
import { keys } from "./keys.ts";

const SyncPauseSchema = z.object({ v: z.literal(1), userId: z.string(), since: z.string() });
export type SyncPause = z.infer<typeof SyncPauseSchema>;

/** Pauses the user's syncs; pausing again keeps the first `since`. */
export async function pauseUserSyncs(kv: Deno.Kv, userId: string, now: Date): Promise<SyncPause> {
  const pause: SyncPause = { v: 1, userId, since: now.toISOString() };
  const res = await commitOnce(() =>
    kv.atomic().check({ key: keys.syncPause(userId), versionstamp: null })
      .set(keys.syncPause(userId), pause)
  );
  if (res.ok) return pause;
  return (await getSyncPause(kv, userId)) ?? await pauseUserSyncs(kv, userId, now);
}

/** Lets the user's syncs run again; true when they were paused. */
export async function resumeUserSyncs(kv: Deno.Kv, userId: string): Promise<boolean> {
  const paused = (await kv.get(keys.syncPause(userId))).value !== null;
  await commitOnce(() => kv.atomic().delete(keys.syncPause(userId)));
  return paused;
}

/** The user's pause, or null when their syncs run. */
export async function getSyncPause(kv: Deno.Kv, userId: string): Promise<SyncPause | null> {
  const entry = await kv.get(keys.syncPause(userId));
  return entry.value === null ? null : SyncPauseSchema.parse(entry.value);
}

/** The ids of every user whose syncs are paused (one listing: the cron skips them). */
export async function listPausedUserIds(kv: Deno.Kv): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const entry of kv.list({ prefix: keys.syncPauses() })) {
    ids.add(SyncPauseSchema.parse(entry.value).userId);
  }
  return ids;
}
