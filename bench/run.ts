/**
 * `deno task bench [sync|profile|push|scale|nearest]`: runs the sync benchmark (sync_bench.ts →
 * results/sync.json), where its slow phases spend their CPU (sync_profile.ts →
 * results/sync_profile.json), the push latency benchmark (push_latency.ts →
 * results/push_latency.json), the memory-at-scale benchmark (scale_bench.ts → results/scale.json)
 * and the nearest-days-first benchmark (nearest_first.ts → results/nearest_first.json), or only
 * those named, printing where the figures went.
 */
import { runNearestFirstBench } from "./nearest_first.ts";
import { runPushLatencyBench } from "./push_latency.ts";
import { runScaleBench } from "./scale_bench.ts";
import { runSyncBench } from "./sync_bench.ts";
import { runSyncProfile } from "./sync_profile.ts";

const BENCHES = {
  sync: runSyncBench,
  profile: runSyncProfile,
  push: runPushLatencyBench,
  scale: runScaleBench,
  nearest: runNearestFirstBench,
} as const;
const RESULT_FILES = {
  sync: "sync.json",
  profile: "sync_profile.json",
  push: "push_latency.json",
  scale: "scale.json",
  nearest: "nearest_first.json",
} as const;

const wanted = Deno.args.length ? Deno.args : Object.keys(BENCHES);
for (const name of wanted) {
  if (!(name in BENCHES)) {
    throw new Error(`unknown benchmark ${name}; use sync, profile, push, scale or nearest`);
  }
}
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
for (const name of wanted as (keyof typeof BENCHES)[]) {
  const result = await BENCHES[name]();
  const out = new URL(`./results/${RESULT_FILES[name]}`, import.meta.url);
  await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
  console.log(`results written to ${out.pathname}`);
}
