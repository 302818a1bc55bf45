/**
 * Backup and restore of the whole KV store as versioned NDJSON:
 *
 *   {"format":"busysync-backup","version":1,"schemaVersion":3,"createdAt":"…"}   header
 *   {"key":[…],"value":…,"expiresAt":"…"}                                         one per entry
 *   {"end":true,"entries":1234}                                                   trailer
 *
 * Keys and values go through backup_codec.ts, so bigints, bytes, Dates, Maps, KvU64 … come back
 * as they were. The trailer lets a restore tell a complete dump from one cut short (a full disk,
 * a killed process) before it writes anything.
 *
 * What a dump does not carry:
 * - Expiry set with `expireIn`: Deno KV does not return it on read. A record that stores its own
 *   `expiresAt` (sessions, API tokens, OAuth states) gets it re-applied on restore, and is skipped when it
 *   has passed; a run and its actions (which keep the source events' titles) carry `expiresAt`
 *   too, so none older than BUSYSYNC_HISTORY_MAX_DAYS comes back. Entries that expire without
 *   such a field come back without expiry: `sessions_by_user` and `api_tokens_by_user` index
 *   entries (a listing skips an index entry whose token is gone), rate-limit counters, connection-removal records, sync follow-up flags and leases (a lease's
 *   `until` is judged by readers, so a restored lease is simply found expired).
 * - Versionstamps: every restored entry gets a new one.
 * - Queue messages (`enqueue`): they are not entries, and durable work lives in entries anyway.
 *
 * Consistency: a listing is read page by page, so writes landing between pages could make the
 * dump a mix of two moments. `backupKv` therefore lists with strong consistency after calling
 * the caller's `pauseWriters` hook (the CLI stops the scheduler and takes the global write lock),
 * and resumes writers only when the last entry is written. Writers that do not honour that hook
 * (another busysync process that ignores the lock) are not stopped: stop them for the backup.
 */
import { keys } from "./keys.ts";
import { decodeKey, decodeValue, encodeValue, type Json } from "./backup_codec.ts";
import { commitOnce, ConflictError } from "./commit.ts";
import {
  latestSchemaVersion,
  type Migration,
  MIGRATIONS,
  readSchemaVersion,
  SchemaTooNewError,
} from "./migrations.ts";

export const BACKUP_FORMAT = "busysync-backup";
export const BACKUP_VERSION = 1;

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** The store's record schema version (lib/db/migrations.ts) when the dump was taken. */
  schemaVersion: number;
  createdAt: string;
}

export interface BackupOptions {
  /**
   * Stops every writer and resolves to a function that lets them continue. Called before the
   * first read; its result is called once the last entry is written, also when the backup fails.
   */
  pauseWriters?: () => Promise<() => void | Promise<void>>;
  now?: () => Date;
}

export interface RestoreOptions {
  /** Restore into a store that already has entries, overwriting the keys the dump holds. */
  force?: boolean;
  now?: () => Date;
  /** The migrations this busysync knows; a dump from a newer schema is refused. */
  migrations?: readonly Migration[];
}

/** The file is not a complete busysync backup this version can read. */
export class BackupFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupFormatError";
  }
}

/** A restore into a store that already holds data, without `force`. */
export class StoreNotEmptyError extends Error {
  constructor() {
    super("the target store is not empty; restore into an empty store or pass --force");
    this.name = "StoreNotEmptyError";
  }
}

// Deno KV refuses an atomic operation with more than 100 checks or 800 KiB of mutations (80 KiB
// of keys). A batch stays well under both; the sizes are measured on the JSON lines, which are
// at least as long as the serialised data apart from two-byte strings, hence the halving.
const BATCH_ENTRIES = 100;
const BATCH_VALUE_CHARS = 300_000;
const BATCH_KEY_CHARS = 30_000;

/**
 * Writes every entry of `kv` to `target` (a file path, written under a temporary name and renamed
 * when complete, mode 0600, or a stream, which is closed at the end). Returns the entry count.
 * Throws UnsupportedValueError for a value the format cannot carry, leaving no file behind.
 */
export async function backupKv(
  kv: Deno.Kv,
  target: string | WritableStream<Uint8Array>,
  options: BackupOptions = {},
): Promise<{ entries: number }> {
  if (typeof target !== "string") return await writeDump(kv, target, options);
  const partial = `${target}.partial`;
  // 0600: the dump holds the instance's generated secrets and the encrypted Google tokens.
  // Truncated rather than refused when it exists: it can only be the leftover of a crashed run.
  const file = await Deno.open(partial, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    const result = await writeDump(kv, file.writable, options);
    await Deno.rename(partial, target);
    return result;
  } catch (err) {
    await Deno.remove(partial).catch(() => {});
    throw err;
  }
}

async function writeDump(
  kv: Deno.Kv,
  out: WritableStream<Uint8Array>,
  options: BackupOptions,
): Promise<{ entries: number }> {
  const now = options.now ?? (() => new Date());
  const writer = out.getWriter();
  const encoder = new TextEncoder();
  let buffered = "";
  const flush = async () => {
    await writer.write(encoder.encode(buffered));
    buffered = "";
  };
  const line = async (obj: unknown) => {
    buffered += JSON.stringify(obj) + "\n";
    if (buffered.length > 64 * 1024) await flush();
  };
  let entries = 0;
  try {
    const resume = await options.pauseWriters?.();
    try {
      const header: BackupHeader = {
        format: BACKUP_FORMAT,
        version: BACKUP_VERSION,
        schemaVersion: await readSchemaVersion(kv),
        createdAt: now().toISOString(),
      };
      await line(header);
      for await (const entry of kv.list({ prefix: [] }, { consistency: "strong" })) {
        // The pause flag belongs to this backup, not to the data: restored, it would stop
        // the scheduler of the restored instance.
        if (sameKey(entry.key, keys.writersPaused())) continue;
        const expiresAt = ownExpiry(entry.value);
        await line({
          key: entry.key.map(encodeValue),
          value: encodeValue(entry.value),
          ...(expiresAt ? { expiresAt } : {}),
        });
        entries++;
      }
    } finally {
      await resume?.();
    }
    await line({ end: true, entries });
    await flush();
    await writer.close();
  } catch (err) {
    await writer.abort(err).catch(() => {});
    throw err;
  }
  return { entries };
}

/** The expiry time a record carries itself as `expiresAt` (ISO string, epoch ms or Date). */
function ownExpiry(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || !("expiresAt" in value)) return undefined;
  const raw = value.expiresAt;
  const t = raw instanceof Date
    ? raw.getTime()
    : typeof raw === "string"
    ? Date.parse(raw)
    : typeof raw === "number"
    ? raw
    : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

/**
 * Restores a dump written by `backupKv` into `kv`, which must be empty unless `force` is set.
 * The whole file is validated before the first write: a foreign, truncated or corrupt file
 * (BackupFormatError) or one from a newer schema (SchemaTooNewError) changes nothing. Entries
 * whose own `expiresAt` has passed are skipped; the others get the remaining time as expireIn.
 * Writes go in atomic batches; without `force` each batch checks its keys are still absent, so a
 * concurrent writer makes the restore stop with ConflictError instead of being overwritten.
 * A batch that fails leaves the earlier batches written.
 */
export async function restoreKv(
  kv: Deno.Kv,
  path: string,
  options: RestoreOptions = {},
): Promise<{ restored: number; skippedExpired: number }> {
  const now = options.now ?? (() => new Date());
  if (!options.force && !(await isEmpty(kv))) throw new StoreNotEmptyError();
  await validateDump(path, latestSchemaVersion(options.migrations ?? MIGRATIONS));

  let restored = 0;
  let skippedExpired = 0;
  let batch: { key: Deno.KvKey; value: unknown; expireIn?: number }[] = [];
  let valueChars = 0;
  let keyChars = 0;
  const commitBatch = async () => {
    if (batch.length === 0) return;
    const res = await commitOnce(() => {
      const op = kv.atomic();
      for (const e of batch) {
        if (!options.force) op.check({ key: e.key, versionstamp: null });
        op.set(e.key, e.value, e.expireIn === undefined ? undefined : { expireIn: e.expireIn });
      }
      return op;
    });
    if (!res.ok) throw new ConflictError("the store was written to during the restore");
    restored += batch.length;
    batch = [];
    valueChars = 0;
    keyChars = 0;
  };

  let lineNo = 0;
  for await (const text of readLines(path)) {
    lineNo++;
    if (lineNo === 1) continue;
    const parsed = JSON.parse(text) as { end?: true; key: Json; value: Json; expiresAt?: string };
    if (parsed.end) break;
    let expireIn: number | undefined;
    if (parsed.expiresAt !== undefined) {
      expireIn = Date.parse(parsed.expiresAt) - now().getTime();
      if (expireIn <= 0) {
        skippedExpired++;
        continue;
      }
    }
    const keyLength = JSON.stringify(parsed.key).length;
    if (
      batch.length >= BATCH_ENTRIES || valueChars + text.length > BATCH_VALUE_CHARS ||
      keyChars + keyLength > BATCH_KEY_CHARS
    ) {
      await commitBatch();
    }
    batch.push({ key: decodeKey(parsed.key), value: decodeValue(parsed.value), expireIn });
    valueChars += text.length;
    keyChars += keyLength;
  }
  await commitBatch();
  return { restored, skippedExpired };
}

/** Reads the dump once without writing: format, version, schema, every line, the trailer. */
async function validateDump(path: string, supportedSchema: number): Promise<void> {
  let lineNo = 0;
  let entries = 0;
  let ended = false;
  for await (const text of readLines(path)) {
    lineNo++;
    const where = `${path}:${lineNo}`;
    if (ended) throw new BackupFormatError(`${where}: data after the end of the backup`);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new BackupFormatError(`${where}: not a JSON line`);
    }
    if (lineNo === 1) {
      checkHeader(parsed, where, supportedSchema);
      continue;
    }
    if (parsed.end === true) {
      if (parsed.entries !== entries) {
        throw new BackupFormatError(
          `${where}: trailer says ${parsed.entries} entries, read ${entries}`,
        );
      }
      ended = true;
      continue;
    }
    try {
      decodeKey(parsed.key as Json);
      decodeValue(parsed.value as Json);
      if (parsed.expiresAt !== undefined && Number.isNaN(Date.parse(String(parsed.expiresAt)))) {
        throw new SyntaxError("bad expiresAt");
      }
    } catch (err) {
      throw new BackupFormatError(`${where}: corrupt entry (${(err as Error).message})`);
    }
    entries++;
  }
  if (lineNo === 0) throw new BackupFormatError(`${path}: empty file`);
  if (!ended) throw new BackupFormatError(`${path}: the backup is incomplete (no end marker)`);
}

function checkHeader(header: Record<string, unknown>, where: string, supportedSchema: number) {
  if (header.format !== BACKUP_FORMAT) {
    throw new BackupFormatError(`${where}: not a busysync backup`);
  }
  if (typeof header.version !== "number" || header.version > BACKUP_VERSION) {
    throw new BackupFormatError(
      `${where}: backup format version ${header.version} is newer than this busysync reads`,
    );
  }
  const schema = header.schemaVersion;
  if (typeof schema !== "number" || !Number.isInteger(schema) || schema < 0) {
    throw new BackupFormatError(`${where}: missing schemaVersion`);
  }
  if (schema > supportedSchema) throw new SchemaTooNewError(schema, supportedSchema);
}

async function isEmpty(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: [] }, { limit: 1, consistency: "strong" })) return false;
  return true;
}

async function* readLines(path: string): AsyncGenerator<string> {
  const file = await Deno.open(path);
  let rest = "";
  for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line !== "") yield line;
    }
  }
  if (rest !== "") yield rest;
}

function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
