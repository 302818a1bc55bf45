/**
 * Medians of several `deno task bench sync` runs, written to results/sync_medians.json. One run
 * is noisy on a shared 2-core machine; a median of five or more is what the README quotes.
 * With `--baseline DIR` (another checkout, e.g. `git archive <commit> | tar -x -C DIR`) the runs
 * alternate between that tree and this one, so both see the same load, and both medians are
 * written side by side.
 *
 *   deno run -A bench/sync_medians.ts [--runs 5] [--baseline DIR] [--label-baseline before]
 */
import { parseArgs } from "node:util";
import type { PhaseFigures, SyncBenchResult } from "./sync_bench.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    baseline: { type: "string" },
    "label-baseline": { type: "string", default: "before" },
    label: { type: "string", default: "after" },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs wants a positive integer");

const here = new URL("..", import.meta.url).pathname;
const trees: { label: string; dir: string }[] = [{ label: values.label, dir: here }];
if (values.baseline) trees.unshift({ label: values["label-baseline"], dir: values.baseline });

/** One `bench/run.ts sync` in `dir`, in its own process, as `deno task bench sync` runs it. */
async function runOnce(dir: string): Promise<SyncBenchResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "bench/run.ts", "sync"],
    cwd: dir,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench in ${dir} failed`);
  return JSON.parse(await Deno.readTextFile(`${dir}/bench/results/sync.json`));
}

const results = new Map<string, SyncBenchResult[]>(trees.map((t) => [t.label, []]));
for (let i = 0; i < runs; i++) {
  for (const tree of trees) {
    console.log(`run ${i + 1}/${runs}: ${tree.label} (${tree.dir})`);
    results.get(tree.label)!.push(await runOnce(tree.dir));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2);
}

type Strategy = "busysync" | "naive";
const FIELDS = ["wallMs", "cpuUsPerEvent", "peakRssMb"] as const;
function medianFigures(all: SyncBenchResult[], phase: string, who: Strategy) {
  const figures: PhaseFigures[] = all.map((r) => r.phases[phase][who]);
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = median(figures.map((x) => x[f]));
  // Runs from a tree that predates the split have no per-thread figures.
  const byThread = figures.filter((x) => x.cpuUsPerEventByThread);
  if (byThread.length) {
    out.cpuUsPerEventByThread = Object.fromEntries(
      Object.keys(byThread[0].cpuUsPerEventByThread).map((kind) => [
        kind,
        median(byThread.map((x) => x.cpuUsPerEventByThread[kind] ?? 0)),
      ]),
    );
  }
  out.apiCalls = median(figures.map((x) => x.apiCalls.total));
  out.byMethod = figures[0].apiCalls.byMethod;
  return out;
}

const phases: Record<string, Record<string, Record<Strategy, unknown>>> = {};
for (const phase of Object.keys(results.get(values.label)![0].phases)) {
  phases[phase] = {};
  for (const [label, all] of results) {
    phases[phase][label] = {
      busysync: medianFigures(all, phase, "busysync"),
      naive: medianFigures(all, phase, "naive"),
    };
  }
}
const file = new URL("./results/sync_medians.json", import.meta.url);
await Deno.writeTextFile(
  file,
  JSON.stringify(
    {
      what: `medians of ${runs} runs of \`deno task bench sync\`` +
        (values.baseline ? `, alternating ${trees.map((t) => t.label).join(" / ")}` : "") +
        `; ${navigator.hardwareConcurrency} cores, emulator in its own process`,
      at: new Date().toISOString(),
      phases,
    },
    null,
    1,
  ) + "\n",
);
console.log(`medians written to ${file.pathname}`);
