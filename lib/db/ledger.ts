/**
 * The ledger: per (rule, direction, source event) the mirror busysync wrote and the hash of its
 * body, so an unchanged event costs no write and a vanished one can be found and removed.
 *
 * Every write is fenced by the sync lease (see leases.ts): the lease's versionstamp is checked
 * in the same atomic operation, so a run that lost its lease cannot write the ledger any more.
 * There is no index by mirror id: a mirror's marker names its rule, source calendar and source
 * event, which is this key already, and a run reads an edge's whole ledger into memory anyway.
 */
import { z } from "zod";
import { CalendarRefSchema } from "../model/rule.ts";
import type { Edge, LedgerEntry } from "../model/events.ts";
import { commitOnce } from "./commit.ts";
import { keys } from "./keys.ts";
import type { Fence } from "./leases.ts";

const LedgerRecordSchema = z.object({
  v: z.literal(1),
  mirrorId: z.string(),
  hash: z.string(),
  target: CalendarRefSchema,
  sourceEventId: z.string(),
  recurringEventId: z.string().optional(),
  generation: z.number().int().positive().optional(),
});

/** Deletes per atomic operation when a whole rule's or user's ledger goes: well inside KV limits. */
const DELETE_BATCH = 200;

type LedgerRecord = z.infer<typeof LedgerRecordSchema>;

function toEntry(value: unknown): LedgerEntry {
  const { v: _v, ...entry } = LedgerRecordSchema.parse(value);
  return entry;
}

/** The ledger of one edge, by source event id. */
export async function readEdgeLedger(
  kv: Deno.Kv,
  userId: string,
  edge: Pick<Edge, "ruleId" | "direction">,
): Promise<Map<string, LedgerEntry>> {
  const out = new Map<string, LedgerEntry>();
  const prefix = keys.ledgerOfEdge(userId, edge.ruleId, edge.direction);
  // An edge's entries nearly all name one target: one shared object instead of one parsed copy
  // per entry keeps a long ledger to its ids and hashes while a run holds it.
  const targets = new Map<string, LedgerEntry["target"]>();
  for await (const item of kv.list({ prefix })) {
    const entry = toEntry(item.value);
    const at = `${entry.target.connectionId}\n${entry.target.calendarId}`;
    const shared = targets.get(at);
    if (shared) entry.target = shared;
    else targets.set(at, entry.target);
    out.set(entry.sourceEventId, entry);
  }
  return out;
}

/** The entries of one edge for these source events; events without one are left out. */
export async function readLedgerEntries(
  kv: Deno.Kv,
  userId: string,
  edge: Pick<Edge, "ruleId" | "direction">,
  sourceEventIds: readonly string[],
): Promise<Map<string, LedgerEntry>> {
  const out = new Map<string, LedgerEntry>();
  // getMany reads at most 10 keys at a time.
  for (let i = 0; i < sourceEventIds.length; i += 10) {
    const batch = sourceEventIds.slice(i, i + 10)
      .map((id) => keys.ledgerEntry(userId, edge.ruleId, edge.direction, id));
    for (const item of await kv.getMany(batch)) {
      if (item.value === null) continue;
      const entry = toEntry(item.value);
      out.set(entry.sourceEventId, entry);
    }
  }
  return out;
}

/** How many entries one edge has, counted without parsing them. */
export async function countEdgeLedger(
  kv: Deno.Kv,
  userId: string,
  edge: Pick<Edge, "ruleId" | "direction">,
): Promise<number> {
  let n = 0;
  for await (
    const _ of kv.list({ prefix: keys.ledgerOfEdge(userId, edge.ruleId, edge.direction) })
  ) n++;
  return n;
}

/** One stored entry with the edge it belongs to. */
export interface StoredLedgerEntry {
  ruleId: string;
  direction: Edge["direction"];
  entry: LedgerEntry;
}

/** Every ledger entry of a rule (both directions), or of the whole user when ruleId is absent. */
export async function* listLedger(
  kv: Deno.Kv,
  userId: string,
  ruleId?: string,
): AsyncGenerator<StoredLedgerEntry> {
  const prefix = ruleId === undefined ? keys.ledger(userId) : keys.ledgerOfRule(userId, ruleId);
  for await (const item of kv.list({ prefix })) {
    const [, , rule, direction] = item.key;
    yield {
      ruleId: String(rule),
      direction: String(direction),
      entry: toEntry(item.value),
    };
  }
}

/**
 * Ledger writes of a run, committed in small batches. An entry is added only after its mirror
 * write succeeded, and each batch is one atomic operation fenced by the lease, so a run that
 * lost its lease writes nothing more. Batching is a measured choice (bench/sync_bench.ts): a
 * KV commit costs about 0.65 ms and commits do not overlap (SQLite), so one commit per mirror
 * made the ledger the largest cost of an initial sync. A crash loses at most one batch of
 * entries; the rerun's writes of those mirrors answer 409 and adopt them (deletes find them
 * gone), so it converges with no duplicate, at the price of those few repeated calls.
 */
export class LedgerWriter {
  /** Pending mutations by key: the later of two for one key (a move's delete, then its put) wins. */
  #pending = new Map<string, { key: Deno.KvKey; record: LedgerRecord | null }>();
  /** The (rule, direction, source event) of every put since the last flush: their intents go. */
  #confirmed = new Set<string>();
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly fence: Fence,
    private readonly userId: string,
    private readonly batchSize = 100,
  ) {}

  /**
   * Records `entry` after its mirror was written, and forgets the write intent of it in the
   * same commit (write_intents.ts). Throws LeaseLostError when fenced out.
   */
  put(edge: Pick<Edge, "ruleId" | "direction">, entry: LedgerEntry): Promise<void> {
    // Built from typed engine data, so only reads are parsed (a parse here cost ~20 µs a mirror).
    const record: LedgerRecord = { v: 1, ...entry };
    const { ruleId, direction } = edge;
    this.#confirmed.add(JSON.stringify([ruleId, direction, entry.sourceEventId]));
    return this.#add(keys.ledgerEntry(this.userId, ruleId, direction, entry.sourceEventId), record);
  }

  /** Forgets the entry of a source event after its mirror was deleted. */
  delete(edge: Pick<Edge, "ruleId" | "direction">, sourceEventId: string): Promise<void> {
    return this.#add(
      keys.ledgerEntry(this.userId, edge.ruleId, edge.direction, sourceEventId),
      null,
    );
  }

  #add(key: Deno.KvKey, record: LedgerRecord | null): Promise<void> {
    const id = JSON.stringify(key);
    this.#pending.delete(id);
    this.#pending.set(id, { key, record });
    return this.#pending.size >= this.batchSize ? this.flush() : Promise.resolve();
  }

  /** Commits everything added so far; batches commit one after another, in order. */
  flush(): Promise<void> {
    const batch = [...this.#pending.values()];
    const confirmed = [...this.#confirmed].map((k) => JSON.parse(k) as string[]);
    this.#pending.clear();
    this.#confirmed.clear();
    if (batch.length === 0) return this.#flushing;
    this.#flushing = this.#flushing.then(() =>
      this.fence.commit((op) => {
        for (const { key, record } of batch) {
          if (record) op.set(key, record);
          else op.delete(key);
        }
        for (const [ruleId, direction, sourceEventId] of confirmed) {
          op.delete(keys.writeIntent(this.userId, ruleId, direction, sourceEventId));
        }
        return op;
      }).then(() => {})
    );
    return this.#flushing;
  }
}

/**
 * Forgets a whole rule's ledger and write intents (or the user's, without ruleId) in batches;
 * returns how many ledger entries went. Not one atomic
 * operation (a rule may have thousands of entries); a crash leaves entries no edge reads, and
 * running it again finishes the job. With a fence, every batch is fenced.
 */
export async function forgetLedger(
  kv: Deno.Kv,
  userId: string,
  opts: { ruleId?: string; fence?: Fence } = {},
): Promise<number> {
  const prefixes = opts.ruleId === undefined
    ? [keys.ledger(userId), keys.writeIntents(userId)]
    : [keys.ledgerOfRule(userId, opts.ruleId), keys.writeIntentsOfRule(userId, opts.ruleId)];
  const [ledger, intents] = prefixes;
  const removed = await forgetPrefix(kv, ledger, opts.fence);
  await forgetPrefix(kv, intents, opts.fence);
  return removed;
}

function forgetPrefix(kv: Deno.Kv, prefix: Deno.KvKey, fence?: Fence): Promise<number> {
  return rewritePrefix(kv, prefix, DELETE_BATCH, fence, (op, item) => op.delete(item.key));
}

/**
 * Empties `prefix` a batch at a time: each batch is listed, `rewrite` turns each entry into
 * mutations that take it out of the prefix (a delete, or a delete and a set elsewhere), and the
 * batch commits as one operation, fenced when a fence is given. Returns how many entries went.
 */
async function rewritePrefix(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  batchSize: number,
  fence: Fence | undefined,
  rewrite: (op: Deno.AtomicOperation, item: Deno.KvEntry<unknown>) => void,
): Promise<number> {
  let done = 0;
  for (;;) {
    const batch: Deno.KvEntry<unknown>[] = [];
    for await (const item of kv.list({ prefix }, { limit: batchSize })) batch.push(item);
    if (batch.length === 0) return done;
    const build = (op: Deno.AtomicOperation) => {
      for (const item of batch) rewrite(op, item);
      return op;
    };
    if (fence) await fence.commit(build);
    else await commitOnce(() => build(kv.atomic()));
    done += batch.length;
  }
}

/**
 * Moves one edge's ledger entries and write intents to another edge's keys, unchanged, in
 * fenced batches: a group that adopted a rule's mirrors takes over that rule's ledger, so its
 * first run patches those mirrors instead of creating them again. Idempotent, and cheap when
 * there is nothing left to move (one empty list per prefix); returns how many entries moved.
 */
export async function moveEdgeLedger(
  kv: Deno.Kv,
  fence: Fence,
  userId: string,
  from: Pick<Edge, "ruleId" | "direction">,
  to: Pick<Edge, "ruleId" | "direction">,
): Promise<number> {
  const ledger = await movePrefix(
    kv,
    fence,
    keys.ledgerOfEdge(userId, from.ruleId, from.direction),
    (id) => keys.ledgerEntry(userId, to.ruleId, to.direction, id),
  );
  await movePrefix(
    kv,
    fence,
    keys.writeIntentsOfEdge(userId, from.ruleId, from.direction),
    (id) => keys.writeIntent(userId, to.ruleId, to.direction, id),
  );
  return ledger;
}

function movePrefix(
  kv: Deno.Kv,
  fence: Fence,
  prefix: Deno.KvKey,
  keyOf: (sourceEventId: string) => Deno.KvKey,
): Promise<number> {
  // A move is two mutations per entry: half a delete batch keeps the operation as small.
  return rewritePrefix(kv, prefix, DELETE_BATCH / 2, fence, (op, item) => {
    op.delete(item.key).set(keyOf(String(item.key.at(-1))), item.value);
  });
}

/** Forgets one edge's ledger and write intents, in fenced batches (see forgetLedger). */
export async function forgetEdgeLedger(
  kv: Deno.Kv,
  fence: Fence,
  userId: string,
  edge: Pick<Edge, "ruleId" | "direction">,
): Promise<void> {
  await forgetPrefix(kv, keys.ledgerOfEdge(userId, edge.ruleId, edge.direction), fence);
  await forgetPrefix(kv, keys.writeIntentsOfEdge(userId, edge.ruleId, edge.direction), fence);
}
