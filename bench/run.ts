/**
 * `deno task bench`: runs the sync benchmark (sync_bench.ts) and writes its figures to
 * bench/results/sync.json, printing one line per phase.
 */
import { runSyncBench } from "./sync_bench.ts";

const result = await runSyncBench();
const out = new URL("./results/sync.json", import.meta.url);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
console.log(`results written to ${out.pathname}`);
