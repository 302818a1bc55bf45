/** A KV file in a fresh temp folder, removed by `cleanup`; never the user's data. */
export async function tempKvPath(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "busysync-test-" });
  return {
    path: `${dir}/busysync.kv`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs `fn` with a fresh in-memory KV store, closed afterwards: for unit tests of lib/db. */
export async function withMemoryKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}
