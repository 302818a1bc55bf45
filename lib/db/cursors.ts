/**
 * Change cursors, one per source calendar of a user, shared by every edge that reads it: a
 * source is listed once per run however many rules read it.
 *
 * `caughtUp` names (by fingerprint, see lib/model/edge_fingerprint.ts) the edges whose ledger
 * reflects everything up to `token`. An edge not in it (a new rule, a rule saved with changes,
 * one that was paused, broken or stopped by the delete guard) has missed changes the token
 * skips over, so the engine lists that source in full on its next run; after that the edge
 * rides the shared token like the others.
 */
import { z } from "zod";
import { keys } from "./keys.ts";
import type { Fence } from "./leases.ts";

const CursorRecordSchema = z.object({
  v: z.literal(1),
  token: z.string(),
  caughtUp: z.array(z.string()),
  savedAt: z.iso.datetime(),
});

export interface SourceCursor {
  token: string;
  caughtUp: string[];
}

/** The cursor of the source calendar named `sourceKey` (calendarKey), or null. */
export async function getCursor(
  kv: Deno.Kv,
  userId: string,
  sourceKey: string,
): Promise<SourceCursor | null> {
  const entry = await kv.get(keys.cursor(userId, sourceKey));
  if (entry.value === null) return null;
  const { token, caughtUp } = CursorRecordSchema.parse(entry.value);
  return { token, caughtUp };
}

/**
 * Stores the source's cursor; called only once every edge of the listing applied its changes.
 * Fenced by the lease (throws LeaseLostError).
 */
export async function saveCursor(
  fence: Fence,
  userId: string,
  sourceKey: string,
  cursor: SourceCursor,
  now: Date,
): Promise<void> {
  const record = CursorRecordSchema.parse({ v: 1, ...cursor, savedAt: now.toISOString() });
  await fence.commit((op) => op.set(keys.cursor(userId, sourceKey), record));
}

/**
 * Drops the user's cursors whose source `keep` does not want (all of them without `keep`), so
 * those sources are listed in full the next time anything reads them. Fenced; writes nothing
 * when nothing is dropped.
 */
export async function dropCursors(
  kv: Deno.Kv,
  fence: Fence,
  userId: string,
  keep: (sourceKey: string) => boolean = () => false,
): Promise<void> {
  const doomed: Deno.KvKey[] = [];
  for await (const item of kv.list({ prefix: keys.cursors(userId) })) {
    if (!keep(String(item.key.at(-1)))) doomed.push(item.key);
  }
  if (doomed.length === 0) return;
  // A user has a cursor per source calendar: a handful, one operation.
  await fence.commit((op) => {
    for (const key of doomed) op.delete(key);
    return op;
  });
}
