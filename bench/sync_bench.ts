/**
 * The sync engine against the emulator (its own process, faults off, request budget lifted):
 * 5,000 source events across 5 rules, then a no-change incremental cycle, then 100 changes,
 * then a full reconcile with no drift. Each phase runs for busysync and, on an identical copy
 * of the calendars, for a naive list-and-diff strategy (naive_sync.ts), so the ratios are
 * measured. Reported per phase: wall time, API calls by method (the emulator's counts), CPU of
 * this process (engine, client and KV; the emulator runs elsewhere) per source event, and the
 * peak RSS sampled while the phase ran.
 */
import process from "node:process";
import { OAuth2Client } from "google-auth-library";
import { createRule, listRules } from "../lib/db/rules.ts";
import { createGoogleProvider } from "../lib/google/provider.ts";
import { createRetryPolicy } from "../lib/google/retry_policy.ts";
import { createKeyring } from "../lib/auth/crypto.ts";
import { randomKeyBase64 } from "../lib/db/settings.ts";
import { createLogger } from "../lib/log.ts";
import { syncUser } from "../lib/sync/engine.ts";
import { RuleInputSchema } from "../lib/model/rule.ts";
import type { CalendarRef } from "../lib/model/calendar_ref.ts";
import { naiveSync } from "./naive_sync.ts";
import { emulatorAdmin, startEmulatorProcess } from "./emulator_process.ts";
import { perEventUs, threadCpuMs } from "./thread_cpu.ts";

const RULES = 5;
const EVENTS_PER_SOURCE = 1_000;
const CHANGES = 100;
const DAY = 86_400_000;
const CLIENT = { clientId: "bench-client", clientSecret: "bench-secret" };

export interface PhaseFigures {
  wallMs: number;
  apiCalls: { total: number; byMethod: Record<string, number> };
  cpuMs: number;
  cpuUsPerEvent: number;
  /** cpuUsPerEvent split by kind of thread (bench/thread_cpu.ts). */
  cpuUsPerEventByThread: Record<string, number>;
  peakRssMb: number;
  writes: number;
}

export interface SyncBenchResult {
  setup: Record<string, unknown>;
  phases: Record<string, {
    events: number;
    busysync: PhaseFigures;
    naive: PhaseFigures;
    ratio: { apiCalls: number; wallTime: number };
  }>;
}

/**
 * The "warm" copies are synced first, unmeasured, one per strategy, so that JIT compilation and
 * lazily loaded client code do not count against whichever strategy happens to run first.
 */
type Strategy = "busysync" | "naive" | "warmbusysync" | "warmnaive";
const WARMUP_EVENTS_PER_SOURCE = 100;

/** Events spread over the next 55 days, 30 minutes each, at varied hours. */
function seedEvents(sourceIndex: number, count: number) {
  const base = Math.floor(Date.now() / DAY) * DAY + DAY;
  return Array.from({ length: count }, (_, i) => {
    const start = base + (i % 55) * DAY + ((i * 7 + sourceIndex) % 20) * 1_800_000;
    return {
      summary: `Event ${sourceIndex}-${i}`,
      start: { dateTime: new Date(start).toISOString() },
      end: { dateTime: new Date(start + 1_800_000).toISOString() },
    };
  });
}

function calendarsOf(strategy: Strategy) {
  const sources = Array.from({ length: RULES }, (_, i) => `${strategy}-src${i}@bench.test`);
  const targets = Array.from({ length: RULES }, (_, i) => `${strategy}-dst${i}@bench.test`);
  return { email: `${strategy}@bench.test`, sources, targets };
}

/** Runs `fn` and measures it: wall time, emulator-counted calls, this process's CPU, peak RSS. */
async function measure(
  url: string,
  events: number,
  fn: () => Promise<number>,
): Promise<PhaseFigures> {
  await fetch(`${url}/__emulator/requests`, { method: "DELETE" }).then((r) => r.body?.cancel());
  let peak = Deno.memoryUsage().rss;
  const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
  const cpu = process.cpuUsage();
  const threads = threadCpuMs();
  const started = performance.now();
  const writes = await fn();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const byThread = perEventUs(threads, threadCpuMs(), events);
  clearInterval(sampler);
  peak = Math.max(peak, Deno.memoryUsage().rss);
  const counts = await (await fetch(`${url}/__emulator/requests`)).json() as {
    counts: Record<string, number>;
    total: number;
  };
  const cpuMs = (used.user + used.system) / 1000;
  return {
    wallMs: Math.round(wallMs),
    apiCalls: { total: counts.total, byMethod: counts.counts },
    cpuMs: Math.round(cpuMs),
    cpuUsPerEvent: Math.round((cpuMs * 1000) / events),
    cpuUsPerEventByThread: byThread,
    peakRssMb: Math.round(peak / 1e6),
    writes,
  };
}

/**
 * The benchmark's world: the emulator process seeded for every strategy, a KV file with each
 * strategy's rules, one provider, and a run function per strategy. `close()` ends it.
 */
export async function openSyncBench() {
  const strategies: Strategy[] = ["busysync", "naive", "warmbusysync", "warmnaive"];
  const seed = {
    clients: [CLIENT],
    users: strategies.map((s) => {
      const { email, sources, targets } = calendarsOf(s);
      return {
        email,
        name: s,
        calendars: [
          { id: email, summary: email, timeZone: "UTC", primary: true },
          ...sources.map((id, i) => ({
            id,
            summary: id,
            timeZone: "UTC",
            events: seedEvents(
              i,
              s.startsWith("warm") ? WARMUP_EVENTS_PER_SOURCE : EVENTS_PER_SOURCE,
            ),
          })),
          ...targets.map((id) => ({ id, summary: id, timeZone: "UTC" })),
        ],
      };
    }),
  };
  const emulator = await startEmulatorProcess(seed);
  const dir = await Deno.makeTempDir({ prefix: "busysync-bench-" });
  const kv = await Deno.openKv(`${dir}/bench.kv`);
  const close = async () => {
    kv.close();
    await emulator.stop();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const admin = emulatorAdmin(emulator.url);
    const clients = new Map<string, OAuth2Client>();
    for (const s of strategies) {
      const tokens = await admin("POST", "tokens", { email: calendarsOf(s).email, ...CLIENT });
      const client = new OAuth2Client({
        ...CLIENT,
        endpoints: { oauth2TokenUrl: `${emulator.url}/token` },
      });
      client.setCredentials({ ...tokens, expiry_date: Date.now() + tokens.expires_in * 1000 });
      clients.set(s, client);
    }
    const provider = createGoogleProvider({
      apiUrl: emulator.url,
      authFor: (connectionId) => clients.get(connectionId)!,
      policy: createRetryPolicy({
        now: Date.now,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        requestsPerMinute: Infinity,
      }),
    });
    const ref = (s: Strategy, calendarId: string): CalendarRef => ({ connectionId: s, calendarId });
    for (const s of strategies) {
      const { sources, targets } = calendarsOf(s);
      for (let i = 0; i < RULES; i++) {
        await createRule(
          kv,
          s,
          RuleInputSchema.parse({
            name: `rule ${i}`,
            source: ref(s, sources[i]),
            target: ref(s, targets[i]),
            privacy: "title",
          }),
          { now: new Date() },
        );
      }
    }
    const rulesOf = async (s: Strategy) => (await listRules(kv, s)).map((e) => e.rule);
    const deps = {
      kv,
      userId: "busysync",
      providerFor: () => provider,
      clock: () => new Date(),
      keyring: await createKeyring([randomKeyBase64()]),
      config: {
        deleteGuard: { percent: 20, min: 10 },
        historyMaxRuns: 50,
        historyMaxDays: 7,
        accountLimits: { createsPerDay: Infinity, pauseHours: 6 },
      },
      log: createLogger("error"),
    };
    const runBusysync = (full = false) => async () => {
      const result = await syncUser({ ...deps, trigger: "schedule", full });
      if (result.status !== "completed") throw new Error("bench: sync did not run");
      if (result.run.outcome !== "ok") throw new Error(JSON.stringify(result.run.errors));
      return result.run.rules.reduce((n, r) => n + r.created + r.updated + r.deleted, 0);
    };
    const runNaive = async () => naiveSync(provider, await rulesOf("naive"), new Date());
    await syncUser({ ...deps, userId: "warmbusysync", trigger: "schedule" });
    await naiveSync(provider, await rulesOf("warmnaive"), new Date());

    return { emulator, admin, runBusysync, runNaive, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs the whole benchmark and returns its figures. */
export async function runSyncBench(log: (line: string) => void = console.log) {
  const { emulator, admin, runBusysync, runNaive, close } = await openSyncBench();
  try {
    const total = RULES * EVENTS_PER_SOURCE;
    const phases: SyncBenchResult["phases"] = {};
    const phase = async (name: string, events: number, full = false) => {
      const busysync = await measure(emulator.url, events, runBusysync(full));
      const naive = await measure(emulator.url, events, runNaive);
      phases[name] = {
        events,
        busysync,
        naive,
        ratio: {
          apiCalls: round(naive.apiCalls.total / busysync.apiCalls.total),
          wallTime: round(naive.wallMs / busysync.wallMs),
        },
      };
      log(
        `${name.padEnd(22)} busysync ${fmt(busysync)} | naive ${fmt(naive)} | ` +
          `naive/busysync calls ×${phases[name].ratio.apiCalls}, time ×${
            phases[name].ratio.wallTime
          }`,
      );
    };

    await phase("initial", total);
    await phase("no_change", total);
    // The same 100 changes on both copies: 40 moved, 30 renamed, 30 deleted.
    for (const s of ["busysync", "naive"] as const) {
      const { sources } = calendarsOf(s);
      for (let c = 0; c < CHANGES; c++) {
        const cal = sources[c % RULES];
        const { items } = await admin("GET", `calendars/${encodeURIComponent(cal)}/events`);
        const event = items[Math.floor(c / RULES) * 7];
        const path = `calendars/${encodeURIComponent(cal)}/events/${event.id}`;
        if (c < 40) {
          const start = Date.parse(event.start.dateTime) + 3_600_000;
          await admin("PATCH", path, {
            start: { dateTime: new Date(start).toISOString() },
            end: { dateTime: new Date(start + 1_800_000).toISOString() },
          });
        } else if (c < 70) await admin("PATCH", path, { summary: `${event.summary} (renamed)` });
        else await fetch(`${emulator.url}/__emulator/${path}`, { method: "DELETE" });
      }
    }
    await phase("changes_100", CHANGES);
    await phase("full_reconcile", total, true);
    return {
      setup: {
        rules: RULES,
        sourceEvents: total,
        changes: CHANGES,
        privacy: "title",
        concurrency: 8,
        emulator: "separate process, faults off, request budget lifted",
        deno: Deno.version.deno,
        cpus: navigator.hardwareConcurrency,
        at: new Date().toISOString(),
      },
      phases,
    };
  } finally {
    await close();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function fmt(f: PhaseFigures): string {
  return `${f.wallMs} ms, ${f.apiCalls.total} calls, ${f.writes} writes, ` +
    `${f.cpuUsPerEvent} µs CPU/event, ${f.peakRssMb} MB`;
}
