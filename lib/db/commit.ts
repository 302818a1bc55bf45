import { backoffDelay } from "../backoff.ts";

/** Thrown when a read-modify-write keeps losing to concurrent writers. */
export class ConflictError extends Error {
  constructor(message = "the record was changed concurrently; try again") {
    super(message);
    this.name = "ConflictError";
  }
}

export interface RetryOptions {
  /** Attempts before giving up with ConflictError. */
  attempts?: number;
  /** First backoff in ms; doubles per attempt, with jitter. */
  baseDelayMs?: number;
}

/**
 * Runs a read-modify-write until its atomic operation commits. `build` reads what it needs and
 * returns the operation to commit (with its `check()`s), or `null` when nothing needs writing.
 * Retries both a failed check (`ok: false`) and SQLite's thrown "database is locked", which two
 * processes on one KV file produce under contention (see PLATFORM.md).
 */
export async function commitWithRetry<T = Deno.KvCommitResult>(
  build: () => Promise<{ op: Deno.AtomicOperation; result?: T } | null>,
  options: RetryOptions = {},
): Promise<{ versionstamp: string; result?: T } | null> {
  const attempts = options.attempts ?? 20;
  const base = options.baseDelayMs ?? 5;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const built = await build();
    if (built === null) return null;
    let res: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      res = await built.op.commit();
    } catch (err) {
      if (!isLockedError(err)) throw err;
      await backoff(base, attempt);
      continue;
    }
    if (res.ok) return { versionstamp: res.versionstamp, result: built.result };
    await backoff(base, attempt);
  }
  throw new ConflictError();
}

/** Commits one prepared operation, retrying only "database is locked"; `ok: false` is returned. */
export async function commitOnce(
  op: () => Deno.AtomicOperation,
  options: RetryOptions = {},
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  const attempts = options.attempts ?? 20;
  const base = options.baseDelayMs ?? 5;
  for (let attempt = 0;; attempt++) {
    try {
      return await op().commit();
    } catch (err) {
      if (!isLockedError(err) || attempt >= attempts - 1) throw err;
      await backoff(base, attempt);
    }
  }
}

/** SQLite's "database is locked": another process holds the KV file's write lock. */
export function isLockedError(err: unknown): boolean {
  return err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message);
}

// Attempts count from 0 here; the wait after attempt 0 is the first retry's.
function backoff(base: number, attempt: number): Promise<void> {
  const ms = backoffDelay(attempt + 1, { baseMs: base, maxMs: 500, jitter: "half" });
  return new Promise((resolve) => setTimeout(resolve, ms));
}
