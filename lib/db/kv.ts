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

/** True when the store answers a read; used by the readiness probe. */
export async function pingKv(kv: Deno.Kv): Promise<boolean> {
  try {
    await kv.get(["meta", "ping"]);
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
