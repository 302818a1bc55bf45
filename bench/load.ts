/**
 * Load: busysync in a child process on loopback, configured as in production but with the Google
 * emulator (its own process, demo seed) as Google; one user signed in through the emulator's
 * OAuth with both demo accounts connected and a rule, 300 extra events
 * in the source calendar, and npm autocannon driving dashboard pages and API routes at
 * `--connections` (100) while the source calendar keeps changing: an event is added, moved or
 * deleted every CHURN_EVERY_MS, Google's push notification reaches the app, and it syncs, so
 * real syncs (reads and mirror writes) run throughout.
 *
 *   deno task load [--seconds 60] [--connections 100] [--rates 100,300,500] [--threads 1]
 *                  [--phases capacity,rate] [--routes /a,/b] [--out load.json] [--profile FILE]
 *
 * Two phases of `--seconds` each, on one server:
 * - capacity: each connection sends its next request as soon as the last is answered (a closed
 *   loop). That finds the throughput; its latency is only connections ÷ throughput (Little's
 *   law), a property of the queue the generator builds, not of the server.
 * - rate: for each of `--rates`, the connections together send that many requests per second on
 *   a schedule (an open loop, bench/open_loop.ts): the latency a client sees at that load.
 * The server's RSS is sampled every RSS_EVERY_MS; with `--seconds 600 --phases rate --rates 300
 * --out memory.json` this is the memory soak (`deno task load:memory`).
 *
 * The server is a child so the generator does not share its event loop (which would inflate the
 * latencies) and so its RSS is the server's alone. `--serve` is the child's mode.
 */
import autocannon from "autocannon";
import { DEMO_CLIENT } from "../emulator/demo_seed.ts";
import { startServer } from "../main.ts";
import { HttpSession } from "../tests/support/http_session.ts";
import { startCpuProfile, topSelfTime } from "./cpu_profile.ts";
import { runOpenLoop } from "./open_loop.ts";

const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";
const ALL_ROUTES = [
  "/",
  "/rules",
  "/history",
  "/api/status",
  "/api/rules",
  "/api/history",
  "/api/me",
];
const EXTRA_EVENTS = 300;
const CHURN_EVERY_MS = 500;
const RSS_EVERY_MS = 5_000;
const REFRESH_EVERY_MS = 4 * 60_000;
const INSPECTOR = "127.0.0.1:9239";

/** `--name value` from the command line, or `fallback`. */
function flag(name: string, fallback: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 && Deno.args[at + 1] !== undefined ? Deno.args[at + 1] : fallback;
}

if (Deno.args.includes("--serve")) {
  const dir = await Deno.makeTempDir({ prefix: "busysync-load-" });
  const google = flag("google", "");
  // Production shape: Google (the emulator, in its own process) is elsewhere, as it would be.
  const server = await startServer({
    PORT: "0",
    HOST: "127.0.0.1",
    BUSYSYNC_KV: `${dir}/load.kv`,
    BUSYSYNC_LOG_LEVEL: "error",
    BUSYSYNC_HTTP_WORKERS: flag("threads", "1"),
    GOOGLE_CLIENT_ID: DEMO_CLIENT.clientId,
    GOOGLE_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
    GOOGLE_API_URL: google,
    GOOGLE_ISSUER: google,
    BUSYSYNC_ENCRYPTION_KEY: btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))),
    ),
    // PUBLIC_URL is plain http here; the emulator delivers to http, so push is forced on.
    BUSYSYNC_PUSH: "on",
  });
  console.log(JSON.stringify({ url: server.url }));
  // The parent closes stdin to stop us: shut down in order, then remove the KV.
  for await (const _ of Deno.stdin.readable);
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
  Deno.exit(0);
}

const seconds = Number(flag("seconds", "60"));
const connections = Number(flag("connections", "100"));
const rates = flag("rates", "100,300,500").split(",").map(Number);
const threads = flag("threads", "1");
const phases = flag("phases", "capacity,rate").split(",");
/** `--routes /a,/b` narrows the mix, to find which route is slow. */
const routes = flag("routes", ALL_ROUTES.join(",")).split(",");
const out = flag("out", "load.json");
/** `--profile FILE` writes the server's V8 CPU profile of the run (and prints its hot spots). */
const profileFile = Deno.args.includes("--profile") ? flag("profile", "load.cpuprofile") : null;
if (!(seconds > 0) || !(connections > 0) || !rates.every((r) => r > 0)) {
  throw new Error("--seconds, --connections and each of --rates: > 0");
}
if (phases.some((p) => p !== "capacity" && p !== "rate")) {
  throw new Error("--phases: capacity,rate");
}

/** A child process whose first stdout line is read; closing its stdin (or SIGTERM) stops it. */
function spawn(args: string[], env: Record<string, string> = {}) {
  const process = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  return {
    process,
    firstLine: async () => (await lines.read()).value!,
    async stop() {
      await process.stdin.close();
      await lines.cancel();
      await process.status;
    },
  };
}

const emulator = spawn(["run", "-A", new URL("../emulator/main.ts", import.meta.url).pathname], {
  EMULATOR_PORT: "0",
  EMULATOR_ADMIN: "1",
});
const google = /listening on (\S+)/.exec(await emulator.firstLine())![1];
const app = spawn([
  "run",
  "-A",
  ...(profileFile ? [`--inspect=${INSPECTOR}`] : []),
  new URL(import.meta.url).pathname,
  "--serve",
  "--threads",
  threads,
  "--google",
  google,
]);
const child = app.process;
const { url } = JSON.parse(await app.firstLine());

/** Resident set size of the server process, in MB, from /proc. */
async function rssMb(): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024 * 10) / 10;
}

/** CPU seconds (user + system) the server process has used, from /proc (clock ticks of 10 ms). */
async function cpuSeconds(): Promise<number> {
  const fields = (await Deno.readTextFile(`/proc/${child.pid}/stat`)).split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of stat; the split above starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs one phase and adds the server's CPU time per request to its result. */
async function measured<T extends { requests: number }>(phase: () => Promise<T>) {
  const before = await cpuSeconds();
  const result = await phase();
  const cpu = await cpuSeconds() - before;
  return {
    ...result,
    serverCpuSeconds: Math.round(cpu * 10) / 10,
    serverCpuMsPerRequest: Math.round(cpu * 1000 / result.requests * 100) / 100,
  };
}

/** The emulator's admin API, acting as the calendar's owner (what a person does in Google). */
async function admin(path: string, method: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${google}/__emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** A timed event at a random half hour of the next two weeks. */
function randomTimes() {
  const start = Math.ceil(Date.now() / 1_800_000) * 1_800_000 +
    Math.floor(Math.random() * 14 * 48) * 1_800_000;
  return {
    start: { dateTime: new Date(start).toISOString() },
    end: { dateTime: new Date(start + 3_600_000).toISOString() },
  };
}

const eventsPath = `calendars/${encodeURIComponent(PERSONAL)}/events`;
const ids: string[] = [];
async function addEvent() {
  const res = await admin(eventsPath, "POST", { summary: "Load", ...randomTimes() });
  ids.push((await res.json()).id);
}

/** One change a person makes: add, move or delete an event. */
async function churnOnce(counts: Record<string, number>) {
  const pick = Math.random();
  if (pick < 0.34 || ids.length < 10) {
    await addEvent();
    counts.added++;
  } else if (pick < 0.67) {
    const id = ids[Math.floor(Math.random() * ids.length)];
    await (await admin(`${eventsPath}/${id}`, "PATCH", randomTimes())).body?.cancel();
    counts.moved++;
  } else {
    const id = ids.splice(Math.floor(Math.random() * ids.length), 1)[0];
    await (await admin(`${eventsPath}/${id}`, "DELETE")).body?.cancel();
    counts.deleted++;
  }
}

/** The history's runs that started at or after `since`, newest first, read page by page. */
async function runsSince(since: string): Promise<{ startedAt: string; outcome: string }[]> {
  const found: { startedAt: string; outcome: string }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const page = await session.json(`/api/history?${query}`);
    for (const run of page.items) {
      if (run.startedAt < since) return found;
      found.push(run);
    }
    cursor = page.cursor;
    if (!cursor) return found;
  }
}

interface PhaseResult {
  requests: number;
  throughputRps: number;
  bytesPerResponse: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

async function drive(cookie: string): Promise<PhaseResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { cookie },
    requests: routes.map((path) => ({ method: "GET", path })),
  });
  return {
    requests: result.requests.total,
    throughputRps: result.requests.average,
    bytesPerResponse: Math.round(result.throughput.total / result.requests.total),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

const session = new HttpSession(url);
try {
  await session.setUp([PERSONAL, WORK]);
  for (let i = 0; i < EXTRA_EVENTS; i++) await addEvent();
  // The first sync of the extra events runs before the clock starts.
  await session.json("/api/sync?wait=true", "POST", {});

  const started = Date.now();
  const rss: { atSeconds: number; mb: number }[] = [{ atSeconds: 0, mb: await rssMb() }];
  const sampler = setInterval(async () => {
    rss.push({ atSeconds: Math.round((Date.now() - started) / 1000), mb: await rssMb() });
  }, RSS_EVERY_MS);
  const churn = { added: 0, moved: 0, deleted: 0, failed: 0 };
  let churning = true;
  const churner = (async () => {
    while (churning) {
      await churnOnce(churn).catch(() => churn.failed++);
      await new Promise((resolve) => setTimeout(resolve, CHURN_EVERY_MS));
    }
  })();

  const profiler = profileFile ? await startCpuProfile(INSPECTOR) : null;
  const results: { capacity?: unknown; rate?: unknown[] } = {};
  // The access JWT lives 10 minutes: a fresh one before each phase, and every few minutes for
  // the open loop, which reads the cookie anew for each request.
  const refresh = async () => {
    const res = await session.call(`${url}/api/auth/refresh`, { method: "POST" });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`session refresh: ${res.status}`);
  };
  const refresher = setInterval(() => refresh().catch(() => {}), REFRESH_EVERY_MS);
  if (phases.includes("capacity")) {
    await refresh();
    results.capacity = await measured(() => drive(session.cookie));
  }
  for (const rate of phases.includes("rate") ? rates : []) {
    await refresh();
    (results.rate ??= []).push({
      offeredRps: rate,
      ...await measured(() =>
        runOpenLoop({
          url,
          paths: routes,
          headers: () => ({ cookie: session.cookie }),
          connections,
          rate,
          seconds,
        })
      ),
    });
  }
  if (profiler) {
    const profile = await profiler.stop();
    await Deno.writeTextFile(profileFile!, JSON.stringify(profile));
    console.error(topSelfTime(profile).join("\n"));
  }

  clearInterval(refresher);
  churning = false;
  await churner;
  clearInterval(sampler);
  rss.push({ atSeconds: Math.round((Date.now() - started) / 1000), mb: await rssMb() });
  const runs = await runsSince(new Date(started).toISOString());
  const report = {
    date: new Date().toISOString(),
    secondsPerPhase: seconds,
    connections,
    httpThreads: 1 + Number(threads),
    routes,
    ...results,
    background: {
      sourceChanges: churn,
      syncRuns: runs.length,
      failedRuns: runs.filter((r) => r.outcome === "failed").length,
    },
    rssMb: { start: rss[0].mb, end: rss.at(-1)!.mb, max: Math.max(...rss.map((s) => s.mb)) },
    rssSamples: rss,
  };
  // A narrowed mix is a diagnosis, not the figure: only the full mix is recorded.
  if (routes.join(",") === ALL_ROUTES.join(",")) {
    await Deno.writeTextFile(
      new URL(`results/${out}`, import.meta.url),
      JSON.stringify(report, null, 2) + "\n",
    );
  }
  console.log(JSON.stringify({ ...report, rssSamples: undefined }, null, 2));
} finally {
  await app.stop();
  emulator.process.kill("SIGTERM");
  await emulator.stop();
}
