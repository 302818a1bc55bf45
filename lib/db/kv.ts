import { keys } from "./keys.ts";

/**
 * Opens the Deno KV store named by BUSYSYNC_KV: a file path (its folder is created), `:memory:`,
 * or an http(s):// KV Connect URL (the token comes from DENO_KV_ACCESS_TOKEN, read by Deno).
 */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (path !== ":memory:" && !/^https?:\/\//.test(path)) {
    const slash = path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  }
  return await Deno.openKv(path);
}

/**
 * How many bytes the store takes on disk: the SQLite file and its write-ahead log. Null when
 * BUSYSYNC_KV names no file (`:memory:`, or a KV Connect URL, whose server keeps its own).
 */
export async function kvFileBytes(path: string): Promise<number | null> {
  if (path === ":memory:" || /^https?:\/\//.test(path)) return null;
  let bytes = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      bytes += (await Deno.stat(file)).size;
    } catch (err) {
      // No log until the first write after a checkpoint; the store itself always exists.
      if (!(err instanceof Deno.errors.NotFound) || file === path) throw err;
    }
  }
  return bytes;
}

/** True when the store answers a read; used by the readiness probe. */
export async function pingKv(kv: Deno.Kv): Promise<boolean> {
  try {
    await kv.get(keys.ping());
    return true;
  } catch {
    return false;
  }
}

/**
 * The entries at `keys`, in order. getMany reads at most ten keys per call; the calls are made
 * side by side, because a page waiting on them one after another waits behind every other
 * request each time. Meant for short lists (a user's jobs or channels), not for thousands.
 */
export async function getAll(
  kv: Deno.Kv,
  keys: readonly Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<unknown>[]> {
  const batches: Promise<Deno.KvEntryMaybe<unknown>[]>[] = [];
  for (let i = 0; i < keys.length; i += 10) batches.push(kv.getMany(keys.slice(i, i + 10)));
  return (await Promise.all(batches)).flat();
}

/**
 * The records a pointer index names: lists the index under `prefix` (each value an id), reads
 * the records at `recordKey(id)` side by side and parses each with `parse`. Records gone since
 * (expired, deleted under a stale pointer) are left out.
 */
export async function listIndexed<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  recordKey: (id: string) => Deno.KvKey,
  parse: (value: unknown) => T,
): Promise<T[]> {
  const ids: string[] = [];
  for await (const entry of kv.list<string>({ prefix })) ids.push(entry.value);
  const entries = await getAll(kv, ids.map(recordKey));
  return entries.flatMap((entry) => entry.value === null ? [] : [parse(entry.value)]);
}
