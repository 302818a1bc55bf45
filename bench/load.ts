/**
 * Load: the demo app (bundled emulator, temp KV) in a child process on loopback, one user signed
 * in through the emulator's OAuth with both demo accounts connected and a rule, then npm
 * autocannon drives dashboard pages and API routes at 100 connections for `--seconds` (default
 * 60) while a sync is triggered every few seconds. Reports throughput, p50/p99 latency, errors
 * and the server's RSS at start and end to bench/results/load.json.
 *
 *   deno task load [--seconds 60] [--connections 100] [--routes /a,/b] [--profile FILE]
 *
 * The server is a child so the generator does not share its event loop (which would inflate the
 * latencies) and so its RSS is the server's alone. `--serve` is the child's mode.
 */
import autocannon from "autocannon";
import { startServer } from "../main.ts";
import { startCpuProfile, topSelfTime } from "./cpu_profile.ts";

const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";
/** POST /api/sync allows 6 per minute per user: one every 10 s stays clear of the limit. */
const SYNC_EVERY_MS = 10_000;
const ALL_ROUTES = [
  "/",
  "/rules",
  "/history",
  "/api/status",
  "/api/rules",
  "/api/history",
  "/api/me",
];

/** `--name value` from the command line, or `fallback`. */
function flag(name: string, fallback: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 && Deno.args[at + 1] !== undefined ? Deno.args[at + 1] : fallback;
}

if (Deno.args.includes("--serve")) {
  const dir = await Deno.makeTempDir({ prefix: "busysync-load-" });
  const server = await startServer({
    PORT: "0",
    HOST: "127.0.0.1",
    EMULATOR_PORT: "0",
    BUSYSYNC_KV: `${dir}/load.kv`,
    BUSYSYNC_LOG_LEVEL: "error",
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
/** `--routes /a,/b` narrows the mix, to find which route is slow. */
const ROUTES = flag("routes", ALL_ROUTES.join(",")).split(",");
if (!(seconds > 0) || !(connections > 0)) throw new Error("--seconds and --connections: > 0");

/** `--profile FILE` writes the server's V8 CPU profile of the run (and prints its hot spots). */
const profileFile = Deno.args.includes("--profile") ? flag("profile", "load.cpuprofile") : null;
const INSPECTOR = "127.0.0.1:9239";

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    ...(profileFile ? [`--inspect=${INSPECTOR}`] : []),
    new URL(import.meta.url).pathname,
    "--serve",
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const stdin = child.stdin.getWriter();
const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
const { url } = JSON.parse((await lines.read()).value!);

/** Resident set size of the server process, in MB, from /proc. */
async function rssMb(): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024 * 10) / 10;
}

/** A cookie jar for the one user: the session cookies are all autocannon needs. */
const jar = new Map<string, string>();
async function call(target: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (target.startsWith(url)) {
    headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    if (init.method && init.method !== "GET") headers.set("origin", url);
  }
  const res = await fetch(target, { ...init, headers, redirect: "manual" });
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return res;
}

/** Follows an OAuth walk: Google's consent as `email` (login_hint), then the app's callback. */
async function completeAtGoogle(authUrl: string, email: string) {
  const auth = new URL(authUrl);
  auth.searchParams.set("login_hint", email);
  const google = await call(auth.href);
  await google.body?.cancel();
  const back = await call(google.headers.get("location")!);
  await back.body?.cancel();
  if (back.status !== 302 && back.status !== 303) throw new Error(`callback: ${back.status}`);
}

async function json(target: string, method = "GET", body?: unknown) {
  const res = await call(`${url}${target}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${target}: ${res.status} ${await res.text()}`);
  return await res.json();
}

try {
  const login = await call(`${url}/api/auth/login`);
  await login.body?.cancel();
  await completeAtGoogle(login.headers.get("location")!, PERSONAL);
  for (const email of [PERSONAL, WORK]) {
    await completeAtGoogle((await json("/api/user/calendars/connect", "POST", {})).url, email);
  }
  const { items } = await json("/api/user/calendars");
  const ref = (calendarId: string) => ({
    connectionId: items.find((c: { calendarId: string }) => c.calendarId === calendarId)
      .connectionId,
    calendarId,
  });
  await json("/api/rules", "POST", { name: "Load", source: ref(PERSONAL), target: ref(WORK) });

  const rssStart = await rssMb();
  const syncs = { triggered: 0, rateLimited: 0, failed: 0 };
  const trigger = async () => {
    const res = await call(`${url}/api/sync`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await res.body?.cancel();
    if (res.status === 202 || res.status === 200) syncs.triggered++;
    else if (res.status === 429) syncs.rateLimited++;
    else syncs.failed++;
  };
  await trigger();
  const timer = setInterval(trigger, SYNC_EVERY_MS);
  const profiler = profileFile ? await startCpuProfile(INSPECTOR) : null;
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { cookie },
    requests: ROUTES.map((path) => ({ method: "GET", path })),
  });
  clearInterval(timer);
  if (profiler) {
    const profile = await profiler.stop();
    await Deno.writeTextFile(profileFile!, JSON.stringify(profile));
    console.error(topSelfTime(profile).join("\n"));
  }
  const rssEnd = await rssMb();

  const report = {
    date: new Date().toISOString(),
    seconds,
    connections,
    routes: ROUTES,
    requests: result.requests.total,
    throughputRps: result.requests.average,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99 },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    syncs,
    rssMb: { start: rssStart, end: rssEnd },
  };
  // A narrowed mix is a diagnosis, not the figure: only the full mix is recorded.
  if (ROUTES.join(",") === ALL_ROUTES.join(",")) {
    await Deno.writeTextFile(
      new URL("results/load.json", import.meta.url),
      JSON.stringify(report, null, 2) + "\n",
    );
  }
  console.log(JSON.stringify(report, null, 2));
} finally {
  await stdin.close();
  await lines.cancel();
  await child.status;
}
