/**
 * Write intents: a mirror insert recorded before it is sent, and forgotten in the same atomic
 * operation as the ledger entry that confirms it (LedgerWriter.put). An intent still there at
 * the next run is an insert whose outcome nobody saw (a crash, a lost answer): that mirror may
 * exist, so the run looks before it sends the insert again. Google does not promise to detect
 * every id collision at insert time (Event.id, notes §10), so resending blindly could store the
 * mirror twice. Intents are written in batches ahead of the inserts (one commit per batch), so
 * a first attempt still costs one call and a fraction of a commit.
 */
import { z } from "zod";
import { CalendarRefSchema } from "../model/rule.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Edge, LedgerEntry } from "../model/events.ts";
import { keys } from "./keys.ts";
import type { Fence } from "./leases.ts";

const IntentRecordSchema = z.object({
  v: z.literal(1),
  mirrorId: z.string(),
  target: CalendarRefSchema,
  generation: z.number().int().min(0).default(0),
  recurringEventId: z.string().optional(),
});

/** An insert that was about to be sent: which mirror, where, under which id generation. */
export interface WriteIntent {
  mirrorId: string;
  target: CalendarRef;
  generation: number;
  recurringEventId?: string;
}

type EdgeKey = Pick<Edge, "ruleId" | "direction">;

/** Records the intents of these entries' inserts in one fenced commit. */
export async function recordIntents(
  fence: Fence,
  userId: string,
  edge: EdgeKey,
  entries: readonly LedgerEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await fence.commit((op) => {
    for (const e of entries) {
      const record: z.infer<typeof IntentRecordSchema> = {
        v: 1,
        mirrorId: e.mirrorId,
        target: e.target,
        generation: e.generation ?? 0,
        ...(e.recurringEventId ? { recurringEventId: e.recurringEventId } : {}),
      };
      op.set(keys.writeIntent(userId, edge.ruleId, edge.direction, e.sourceEventId), record);
    }
    return op;
  });
}

/** The unconfirmed intents of one edge, by source event id (usually none: one cheap list). */
export async function listIntents(
  kv: Deno.Kv,
  userId: string,
  edge: EdgeKey,
): Promise<Map<string, WriteIntent>> {
  const out = new Map<string, WriteIntent>();
  const prefix = keys.writeIntentsOfEdge(userId, edge.ruleId, edge.direction);
  for await (const item of kv.list({ prefix })) {
    const { v: _v, ...intent } = IntentRecordSchema.parse(item.value);
    out.set(String(item.key.at(-1)), intent);
  }
  return out;
}

/** Forgets an intent once its mirror was found not to be wanted and removed. */
export async function dropIntent(
  fence: Fence,
  userId: string,
  edge: EdgeKey,
  sourceEventId: string,
): Promise<void> {
  await fence.commit((op) =>
    op.delete(keys.writeIntent(userId, edge.ruleId, edge.direction, sourceEventId))
  );
}
