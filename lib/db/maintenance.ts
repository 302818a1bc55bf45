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
