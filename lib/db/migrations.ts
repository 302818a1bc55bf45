import { z } from "zod";
import { commitOnce, commitWithRetry } from "./commit.ts";
import { indexConnectionsByAccount } from "./connections.ts";
import { indexOpenJobs } from "./jobs.ts";
import { keys } from "./keys.ts";

/** One upgrade step for stored records. `run` must be idempotent: a crash may rerun it. */
export interface Migration {
  /** Sortable id, e.g. "0001-rules-v2"; its position gives the schema version. */
  id: string;
  description: string;
  run(kv: Deno.Kv): Promise<void>;
}

const AppliedSchema = z.object({ id: z.string(), appliedAt: z.string() });

/** Thrown when the store was written by a newer busysync than this one. */
export class SchemaTooNewError extends Error {
  constructor(readonly stored: number, readonly supported: number) {
    super(
      `the data store has schema version ${stored}, this busysync supports up to ${supported}; ` +
        "upgrade busysync instead of downgrading",
    );
    this.name = "SchemaTooNewError";
  }
}

/** The schema version a store has after every given migration ran. */
export function latestSchemaVersion(migrations: readonly Migration[]): number {
  return migrations.length;
}

/** Reads the store's schema version (0 for a new store). */
export async function readSchemaVersion(kv: Deno.Kv): Promise<number> {
  const entry = await kv.get(keys.schemaVersion());
  return z.number().int().min(0).catch(0).parse(entry.value ?? 0);
}

/**
 * Applies, in order, every migration not yet recorded, then records the schema version.
 * Refuses (SchemaTooNewError) a store whose version is newer than the list knows.
 * Returns the ids it applied.
 */
export async function runMigrations(
  kv: Deno.Kv,
  migrations: readonly Migration[],
  now: () => Date = () => new Date(),
): Promise<string[]> {
  const supported = latestSchemaVersion(migrations);
  const stored = await readSchemaVersion(kv);
  if (stored > supported) throw new SchemaTooNewError(stored, supported);
  const applied: string[] = [];
  for (const [index, migration] of migrations.entries()) {
    const done = await kv.get(keys.migration(migration.id));
    if (done.value !== null) continue;
    await migration.run(kv);
    await commitWithRetry(async () => {
      const version = await kv.get(keys.schemaVersion());
      const record = AppliedSchema.parse({ id: migration.id, appliedAt: now().toISOString() });
      return {
        op: kv.atomic().check(version)
          .set(keys.migration(migration.id), record)
          .set(keys.schemaVersion(), Math.max(index + 1, Number(version.value ?? 0))),
      };
    });
    applied.push(migration.id);
  }
  if (stored < supported && applied.length === 0) {
    await kv.set(keys.schemaVersion(), supported);
  }
  return applied;
}

/**
 * The migrations of this busysync, oldest first; a record's `v` field tells a migration what it
 * is looking at.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: "0001-drop-connection-removals",
    description: "Schema 0 kept a 'remove mirrors' note per disconnected account for the engine; " +
      "disconnecting now removes the mirrors at once, so the notes are dropped.",
    async run(kv) {
      for await (const entry of kv.list({ prefix: keys.legacyConnectionRemovals() })) {
        await commitOnce(() => kv.atomic().delete(entry.key));
      }
    },
  },
  {
    id: "0002-open-jobs-index",
    description:
      "Pages now read a user's unfinished jobs from their own index (jobs_open_by_user) " +
      "instead of every job of the day; unfinished jobs of an older store are indexed.",
    async run(kv) {
      await indexOpenJobs(kv);
    },
  },
  {
    id: "0003-connections-by-account",
    description: "Disconnecting revokes a grant only when no other user's connection holds the " +
      "same Google account, found through an instance-wide index (connections_by_account); " +
      "the connections of an older store are indexed.",
    async run(kv) {
      await indexConnectionsByAccount(kv);
    },
  },
];
