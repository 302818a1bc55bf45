/**
 * Where the CPU of the sync benchmark's slow phases goes: the initial sync of 5 × 1,000 events
 * and the full reconcile, each for busysync and for the naive strategy, sampled by V8's profiler
 * in this process (node:inspector; the emulator runs in its own process and is not sampled).
 * Self time is summed per part of the stack (the Google client's request building, Deno's
 * fetch and streams, KV, zod, the engine...), so the figures say what stands between a phase
 * and its goal; the top frames are kept for a closer look.
 */
import { Session } from "node:inspector/promises";
import { openSyncBench } from "./sync_bench.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

/**
 * The part of the stack a frame belongs to, by its script. Native work (a fetch's I/O, SQLite
 * under KV) is counted in the frame that called into it.
 */
export function partOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === "(garbage collector)") return "garbage collection";
    if (functionName === "(program)") return "native, off the JS stack (event loop, HTTP I/O)";
    return "V8 built-ins, called from no script";
  }
  const pkg = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) {
    if (
      /^(@googleapis\/|googleapis-common|gaxios|google-auth-library|gcp-metadata|gtoken)/.test(pkg)
    ) {
      return "Google client (request building, auth)";
    }
    if (
      /^(extend|qs|url-template|uuid|side-channel|object-inspect|json-bigint|bignumber)/.test(pkg)
    ) {
      return "Google client (request building, auth)";
    }
    if (pkg === "zod") return "zod";
    if (pkg === "temporal-polyfill" || pkg.includes("temporal")) return "Temporal";
    return `npm: other (${pkg})`;
  }
  if (
    url.startsWith("ext:deno_fetch") || url.startsWith("ext:deno_web") ||
    url.startsWith("ext:deno_net") || url.startsWith("ext:deno_http")
  ) {
    return "Deno fetch, streams, text coding";
  }
  if (url.startsWith("ext:deno_kv")) return "Deno KV (calls into SQLite)";
  if (url.startsWith("ext:deno_crypto")) return "Web Crypto (SHA-256)";
  const ext = /^ext:(?:deno_)?([a-z_]+)/.exec(url)?.[1];
  if (ext === "core") return "Deno core (ops, V8 serialization for KV values)";
  if (ext === "node") return "Deno node compatibility (Buffer, node:crypto)";
  if (ext) return `Deno ${ext}`;
  const own = /\/(lib\/[a-z_]+|bench)\//.exec(url)?.[1];
  if (own === "lib/sync") return "busysync: engine (lib/sync)";
  if (own === "lib/google") return "busysync: Google provider (lib/google)";
  if (own === "lib/db") return "busysync: store (lib/db)";
  if (own === "lib/model") return "busysync: model (lib/model)";
  if (own === "bench") return "bench harness, naive strategy";
  return own ? `busysync: ${own}` : "other";
}

/** V8's pseudo-frames: no script, not called by one. */
const PSEUDO = new Set(["(root)", "(program)", "(idle)", "(garbage collector)"]);

/**
 * Self-time shares (percent of the samples that are not idle) per part, the top frames by self
 * time, and busysync's own functions by inclusive time (themselves and all they call). A
 * built-in (JSON.parse, a regexp, a Map) is counted in the part of the script that called it.
 */
export function summarize(profile: Profile, top = 15) {
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOfNode = (node: ProfileNode): string => {
    let at: ProfileNode | undefined = node;
    while (at && !at.callFrame.url && !PSEUDO.has(at.callFrame.functionName)) {
      at = byId.get(parent.get(at.id) ?? -1);
    }
    return partOf(at && at.callFrame.url ? at.callFrame : node.callFrame);
  };
  const label = ({ functionName, url, lineNumber }: ProfileNode["callFrame"]) =>
    `${functionName || "(anonymous)"} ${
      url.replace(/^.*node_modules\/(\.deno\/[^/]+\/node_modules\/)?/, "")
        .replace(/^file:\/\/.*?\/(lib|bench)\//, "$1/")
    }:${lineNumber + 1}`;
  const parts = new Map<string, number>();
  const frames = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (!n || node.callFrame.functionName === "(idle)") continue;
    busy += n;
    const part = partOfNode(node);
    parts.set(part, (parts.get(part) ?? 0) + n);
    frames.set(label(node.callFrame), (frames.get(label(node.callFrame)) ?? 0) + n);
    // Each busysync function on this sample's stack, once however deep the recursion.
    const seen = new Set<string>();
    for (let at: ProfileNode | undefined = node; at; at = byId.get(parent.get(at.id) ?? -1)) {
      if (!/\/(lib)\//.test(at.callFrame.url)) continue;
      const key = label(at.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + n);
    }
  }
  const pct = (n: number) => Math.round(1000 * n / busy) / 10;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    busySamples: busy,
    idleShare: Math.round(1000 * (profile.samples.length - busy) / profile.samples.length) / 10,
    parts: Object.fromEntries(sorted(parts).map(([k, n]) => [k, pct(n)])),
    topSelf: sorted(frames).slice(0, top).map(([k, n]) => `${pct(n)}% ${k}`),
    busysyncInclusive: sorted(inclusive).slice(0, top).map(([k, n]) => `${pct(n)}% ${k}`),
  };
}

/** Profiles the initial sync and the full reconcile of both strategies. */
export async function runSyncProfile(log: (line: string) => void = console.log) {
  const bench = await openSyncBench();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  const profiled = async (fn: () => Promise<number>) => {
    await session.post("Profiler.start");
    const started = performance.now();
    await fn();
    const wallMs = Math.round(performance.now() - started);
    const { profile } = await session.post("Profiler.stop") as { profile: Profile };
    return { wallMs, ...summarize(profile) };
  };
  try {
    const phases: Record<string, Record<string, ReturnType<typeof summarize>>> = {};
    for (const [name, full] of [["initial", false], ["full_reconcile", true]] as const) {
      const busysync = await profiled(bench.runBusysync(full));
      const naive = await profiled(bench.runNaive);
      phases[name] = { busysync, naive };
      for (const [who, s] of Object.entries(phases[name])) {
        const parts = Object.entries(s.parts).slice(0, 6).map(([k, v]) => `${k} ${v}%`);
        log(`${name} ${who}: ${parts.join(", ")}`);
      }
    }
    return {
      setup: {
        what: "self time per part of the stack in percent of the non-idle samples (V8's " +
          "sampling profiler every 500 µs, this process only: the emulator runs in its own); " +
          "5 rules × 1,000 events",
        deno: Deno.version.deno,
        cpus: navigator.hardwareConcurrency,
        at: new Date().toISOString(),
      },
      phases,
    };
  } finally {
    session.disconnect();
    await bench.close();
  }
}
