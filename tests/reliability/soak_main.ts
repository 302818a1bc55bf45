/**
 * `deno task soak`: the full fault soak and crash trials (the CI runs short versions, see
 * soak_test.ts and crash_test.ts). Writes bench/results/soak.json, crash.json and (with Radicale
 * installed) crash_caldav.json, prints one line per round and trial, and exits non-zero when any
 * found a duplicate, a missing or a stale mirror.
 *
 *   deno task soak [--seed 1] [--rounds 40] [--ops 25] [--warmup 300] [--fault-rate 0.2]
 *                  [--crash-trials 20] [--crash-events 2000]
 *                  [--caldav-crash-trials 6] [--caldav-crash-events 300]
 */
import { parseArgs } from "node:util";
import { runCrashTrials } from "./crash.ts";
import { runSoak } from "./soak.ts";
import { RADICALE_TOOLS, startRadicale, toolsMissing } from "../support/caldav_servers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string", default: "1" },
    rounds: { type: "string", default: "40" },
    ops: { type: "string", default: "25" },
    warmup: { type: "string", default: "300" },
    "fault-rate": { type: "string", default: "0.2" },
    "crash-trials": { type: "string", default: "20" },
    "crash-events": { type: "string", default: "2000" },
    "caldav-crash-trials": { type: "string", default: "6" },
    "caldav-crash-events": { type: "string", default: "300" },
  },
});
const seed = Number(values.seed);
const environment = {
  deno: Deno.version.deno,
  cpus: navigator.hardwareConcurrency,
  at: new Date().toISOString(),
};
const results = new URL("../../bench/results/", import.meta.url);
await Deno.mkdir(results, { recursive: true });
const write = async (name: string, data: unknown) => {
  const out = new URL(name, results);
  await Deno.writeTextFile(out, JSON.stringify(data, null, 2) + "\n");
  console.log(`results written to ${out.pathname}`);
};

// Eve's CalDAV calendars join when Radicale is installed (.ci/run installs it).
await using radicale = toolsMissing(RADICALE_TOOLS) ? undefined : await startRadicale();
if (!radicale) console.log("Radicale is not installed: the soak runs without CalDAV calendars");
const soak = await runSoak({
  seed,
  rounds: Number(values.rounds),
  opsPerRound: Number(values.ops),
  warmupOps: Number(values.warmup),
  faultRate: Number(values["fault-rate"]),
  invalidateRate: 0.3,
  maxAttempts: 2,
  purgeAfterSeconds: 1,
  usageLimits: {
    budgetAfterSetup: 150,
    readOnlyRounds: [15, 20],
    readOnlySeconds: 1,
    pauseSeconds: 60,
  },
  ...(radicale ? { caldav: radicale } : {}),
  log: console.log,
});
await write("soak.json", { ...soak, environment });

const crash = await runCrashTrials({
  seed,
  trials: Number(values["crash-trials"]),
  events: Number(values["crash-events"]),
  leaseTtlMs: 2_000,
  incrementalTrials: true,
  undetectedCollisions: true,
  log: console.log,
});
await write("crash.json", { ...crash, environment });

// The same kills with the first rule's target on the CalDAV server.
const caldavCrash = radicale && await runCrashTrials({
  seed,
  trials: Number(values["caldav-crash-trials"]),
  events: Number(values["caldav-crash-events"]),
  leaseTtlMs: 2_000,
  incrementalTrials: true,
  caldav: radicale,
  log: console.log,
});
if (caldavCrash) await write("crash_caldav.json", { ...caldavCrash, environment });

const all = caldavCrash ? [soak, crash, caldavCrash] : [soak, crash];
for (const p of all.flatMap((r) => r.problems)) console.error(p);
const failed = all.some((r) => r.duplicates + r.missing + r.stale > 0);
Deno.exitCode = failed ? 1 : 0;
