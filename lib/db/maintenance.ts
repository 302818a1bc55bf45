/**
 * Pausing the writers for a consistent backup. The flag is a KV record, so it reaches every
 * instance sharing the store: scheduler workers check it before claiming a job. Interactive
 * edits (a rule saved in the dashboard) are not held back; they are single small atomic writes,
 * and the README says a backup reflects the store at one moment only for the sync data.
 */
import { z } from "zod";
import { commitOnce } from "./commit.ts";
import { keys } from "./keys.ts";

/** Long enough for a large dump, short enough that a crashed backup does not stop syncs long. */
const PAUSE_TTL_MS = 10 * 60_000;

const PauseSchema = z.object({ v: z.literal(1), at: z.string() });

/** Thrown when running syncs did not end within the wait. */
export class WritersBusyError extends Error {
  constructor(waitMs: number) {
    super(`a sync kept running for ${Math.round(waitMs / 1000)} s; try again later`);
    this.name = "WritersBusyError";
  }
}

/**
 * Sets the pause flag and waits until no sync holds a lease; resolves to the function that
 * lifts the pause. On timeout the flag is lifted again and WritersBusyError thrown.
 */
export async function pauseWriters(
  kv: Deno.Kv,
  options: { waitMs: number; pollMs?: number },
): Promise<() => Promise<void>> {
  const record = PauseSchema.parse({ v: 1, at: new Date().toISOString() });
  await commitOnce(() => kv.atomic().set(keys.writersPaused(), record, { expireIn: PAUSE_TTL_MS }));
  const resume = async () => {
    await commitOnce(() => kv.atomic().delete(keys.writersPaused()));
  };
  const deadline = Date.now() + options.waitMs;
  while (await anyLeaseHeld(kv)) {
    if (Date.now() > deadline) {
      await resume();
      throw new WritersBusyError(options.waitMs);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
  return resume;
}

/** True while a backup asked the writers to pause. */
export async function writersPaused(kv: Deno.Kv): Promise<boolean> {
  return (await kv.get(keys.writersPaused())).value !== null;
}

async function anyLeaseHeld(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: keys.leases() }, { limit: 1 })) return true;
  return false;
}

const LastBackupSchema = z.object({
  v: z.literal(1),
  at: z.string(),
  entries: z.number().int().min(0),
});
export type LastBackup = z.infer<typeof LastBackupSchema>;

/**
 * Records a complete backup (what the owner's page shows). Written after the dump, so the
 * dump itself holds the previous backup's record: a restored store says when the backup
 * before it was made, which is true of that store.
 */
export async function recordBackup(
  kv: Deno.Kv,
  backup: { at: Date; entries: number },
): Promise<void> {
  const record: LastBackup = { v: 1, at: backup.at.toISOString(), entries: backup.entries };
  await commitOnce(() => kv.atomic().set(keys.lastBackup(), record));
}

/** The last complete backup `busysync backup` recorded, or null when none was made. */
export async function getLastBackup(kv: Deno.Kv): Promise<LastBackup | null> {
  const entry = await kv.get(keys.lastBackup());
  return entry.value === null ? null : LastBackupSchema.parse(entry.value);
}
