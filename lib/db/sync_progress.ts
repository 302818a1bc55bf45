/**
 * Where a user's running sync stands, for "Sync now" and the dashboard: events listed, busy
 * blocks written and still to write, and an estimate of the time left. One record per user,
 * overwritten as the run goes and deleted when it ends.
 *
 * Not fenced by the lease: it is a display, never read by the engine, and a record a dead run
 * left behind is judged stale by its age (and expires), never trusted.
 */
import { z } from "zod";
import { keys } from "./keys.ts";

const SyncProgressRecordSchema = z.object({
  v: z.literal(1),
  runId: z.string(),
  startedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /** "nearest": mirroring the next days first; "all": the whole window. */
  stage: z.enum(["nearest", "all"]),
  /** Source events listed so far in this run (both passes). */
  listed: z.number().int().nonnegative(),
  /** Writes planned so far in this run, of which `written` are done. */
  planned: z.number().int().nonnegative(),
  written: z.number().int().nonnegative(),
  /** Until when (ISO) the next days' busy blocks are mirrored, once the first pass is done. */
  nearestUntil: z.iso.datetime().optional(),
  /** Seconds the planned writes still left should take, from the request budget's rate. */
  remainingSeconds: z.number().nonnegative().optional(),
});

export type SyncProgressRecord = Omit<z.infer<typeof SyncProgressRecordSchema>, "v">;

/** A record not updated for this long belongs to a run that died: it is not shown. */
const STALE_AFTER_MS = 2 * 60_000;

/** Stores the run's progress (expiring, so a crashed run's record goes away by itself). */
export async function saveSyncProgress(
  kv: Deno.Kv,
  userId: string,
  progress: SyncProgressRecord,
): Promise<void> {
  const record = SyncProgressRecordSchema.parse({ v: 1, ...progress });
  await kv.set(keys.syncProgress(userId), record, { expireIn: 10 * STALE_AFTER_MS });
}

/** The progress of the user's running sync, or null when none is running (or it went stale). */
export async function readSyncProgress(
  kv: Deno.Kv,
  userId: string,
  now: Date,
): Promise<SyncProgressRecord | null> {
  const entry = await kv.get(keys.syncProgress(userId));
  if (entry.value === null) return null;
  const { v: _v, ...progress } = SyncProgressRecordSchema.parse(entry.value);
  if (now.getTime() - Date.parse(progress.updatedAt) > STALE_AFTER_MS) return null;
  return progress;
}

/** Deletes the record of run `runId` (only its own: a newer run's record is left alone). */
export async function clearSyncProgress(kv: Deno.Kv, userId: string, runId: string): Promise<void> {
  const entry = await kv.get(keys.syncProgress(userId));
  const parsed = SyncProgressRecordSchema.safeParse(entry.value);
  if (!parsed.success || parsed.data.runId !== runId) return;
  await kv.atomic().check(entry).delete(keys.syncProgress(userId)).commit();
}
