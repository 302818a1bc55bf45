/** A KV file in a fresh temp folder, removed by `cleanup`; never the user's data. */
export async function tempKvPath(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "busysync-test-" });
  return {
    path: `${dir}/busysync.kv`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}
