/**
 * `deno task bench scale`: the memory of one busysync process at scale. Each case starts the
 * Google emulator (its own process, seeded in bulk from a seed file, creation limits lifted) and
 * a busysync process (this file with `--serve`: the real services, scheduler and app, no
 * threads), signs each user in through the emulator's OAuth, saves one rule per source calendar
 * through the JSON API (each save enqueues a sync job, which the worker runs: the initial sync),
 * then fires one cron tick (the scheduler's own tick function, what Deno.cron calls), configured
 * so that it is every user's full reconcile. The peak RSS of the busysync process alone is read
 * from /proc (VmHWM, reset between the phases through clear_refs); the emulator is not counted.
 *
 * Cases: 10 users × 5 calendars × 2,000 events, and one user with 5 × 1,000 and 5 × 20,000.
 * Writes bench/results/scale.json.
 */
import { DEMO_CLIENT } from "../emulator/demo_seed.ts";
import { loadSecrets } from "../lib/auth/secrets.ts";
import { loadConfig } from "../lib/config.ts";
import { openKv } from "../lib/db/kv.ts";
import { MIGRATIONS, runMigrations } from "../lib/db/migrations.ts";
import { createLogger } from "../lib/log.ts";
import type { Manifest } from "../lib/web/manifest.ts";
import { buildServerStack } from "../server_stack.ts";
import { HttpSession } from "../tests/support/http_session.ts";
import { emulatorAdmin } from "./emulator_process.ts";

const DAY = 86_400_000;
const CALENDARS = 5;

export interface ScaleCase {
  name: string;
  users: number;
  eventsPerCalendar: number;
}

export const SCALE_CASES: ScaleCase[] = [
  { name: "users10_cal5_ev2000", users: 10, eventsPerCalendar: 2_000 },
  { name: "user1_cal5_ev1000", users: 1, eventsPerCalendar: 1_000 },
  { name: "user1_cal5_ev20000", users: 1, eventsPerCalendar: 20_000 },
];

if (import.meta.main && Deno.args.includes("--serve")) await serve();

/**
 * The busysync process: config from the environment, KV, migrations, services, scheduler (its
 * worker, no Deno.cron: the parent says when a tick fires, by a line "tick" on stdin) and the
 * app on loopback (for the OAuth callbacks and the JSON API). Prints `{url}`, then one JSON line
 * per tick; closing stdin stops it.
 */
async function serve() {
  const env = Deno.env.toObject();
  const config0 = loadConfig(env);
  const log = createLogger(config0.logLevel);
  const kv = await openKv(config0.kvPath);
  await runMigrations(kv, MIGRATIONS);
  const secrets = await loadSecrets(kv, config0);
  const built: { app?: { fetch: (req: Request) => Response | Promise<Response> } } = {};
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) => built.app!.fetch(req),
  );
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  const config = { ...config0, publicUrl: url };
  // No page is rendered here (only the JSON API and OAuth redirects), so no island bundles.
  const manifest: Manifest = {
    v: 1,
    sourceHash: "",
    boot: "",
    styles: "",
    islands: {},
    files: {},
  };
  const { app, scheduler } = buildServerStack({
    config,
    kv,
    log,
    manifest,
    secrets,
    root: new URL("../", import.meta.url).pathname,
  });
  built.app = app;
  scheduler.start();
  console.log(JSON.stringify({ url }));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buffer = "";
  for await (const chunk of lines) {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line === "tick") console.log(JSON.stringify(await scheduler.tick(new Date())));
    }
  }
  await Promise.all([server.shutdown(), scheduler.stop()]);
  kv.close();
  Deno.exit(0);
}

/** Events spread over the next 55 days (inside the default 60-day window), 30 minutes each. */
function seedEvents(calendar: number, count: number) {
  const base = Math.floor(Date.now() / DAY) * DAY + DAY;
  return Array.from({ length: count }, (_, i) => {
    const start = base + (i % 55) * DAY + ((i * 7 + calendar) % 40) * 900_000;
    return {
      summary: `Event ${calendar}-${i}`,
      start: { dateTime: new Date(start).toISOString() },
      end: { dateTime: new Date(start + 1_800_000).toISOString() },
    };
  });
}

const emailOf = (u: number) => `scale${u}@bench.test`;
const sourceOf = (u: number, c: number) => `scale${u}-src${c}@bench.test`;
const targetOf = (u: number, c: number) => `scale${u}-dst${c}@bench.test`;

/** A child whose first stdout line (a JSON object or a banner) is returned by `first`. */
function spawn(args: string[], env: Record<string, string>) {
  const process = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const line = async () => {
    while (!buffer.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`child exited: ${buffer}`);
      buffer += value;
    }
    const at = buffer.indexOf("\n");
    const out = buffer.slice(0, at);
    buffer = buffer.slice(at + 1);
    return out;
  };
  const stdin = process.stdin.getWriter();
  return {
    process,
    line,
    send: (text: string) => stdin.write(new TextEncoder().encode(text + "\n")),
    async stop() {
      await stdin.close();
      await lines.cancel();
      await process.status;
    },
  };
}

/** Peak RSS (VmHWM) and current RSS of a process, in MB. */
async function memoryOf(pid: number): Promise<{ hwm: number; rss: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { hwm: kb("VmHWM") / 1024, rss: kb("VmRSS") / 1024 };
}

/**
 * Resets the process's peak RSS to its current RSS (Linux clear_refs, "5"), so each phase has a
 * peak of its own; where that is refused, the sampled maximum of VmRSS stands instead.
 */
async function resetPeak(pid: number): Promise<boolean> {
  try {
    await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * A browser of its own address: sign-in is rate limited per client address (10 per 5 minutes),
 * and ten people signing in from one loopback address would trip it; the app trusts one proxy
 * hop here (BUSYSYNC_TRUST_PROXY), so each session names its address in X-Forwarded-For.
 */
class AddressedSession extends HttpSession {
  constructor(url: string, readonly address: string) {
    super(url);
  }

  override call(target: string, init: RequestInit = {}): Promise<Response> {
    if (!target.startsWith(this.url)) return super.call(target, init);
    const headers = new Headers(init.headers);
    headers.set("x-forwarded-for", this.address);
    return super.call(target, { ...init, headers });
  }
}

async function pollUntil(what: string, timeoutMs: number, done: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`scale bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface PhaseMemory {
  wallMs: number;
  peakRssMb: number;
  /** The highest VmRSS sampled every 100 ms (a check on VmHWM). */
  sampledMaxRssMb: number;
  endRssMb: number;
}

/** Runs one case end to end and returns its figures. */
async function runCase(c: ScaleCase, log: (line: string) => void) {
  const seed = {
    clients: [DEMO_CLIENT],
    users: Array.from({ length: c.users }, (_, u) => ({
      email: emailOf(u),
      name: `Scale ${u}`,
      calendars: [
        { id: emailOf(u), summary: emailOf(u), timeZone: "UTC", primary: true },
        ...Array.from({ length: CALENDARS }, (_, i) => ({
          id: sourceOf(u, i),
          summary: sourceOf(u, i),
          timeZone: "UTC",
          events: seedEvents(i, c.eventsPerCalendar),
        })),
        ...Array.from({ length: CALENDARS }, (_, i) => ({
          id: targetOf(u, i),
          summary: targetOf(u, i),
          timeZone: "UTC",
        })),
      ],
    })),
  };
  const dir = await Deno.makeTempDir({ prefix: "busysync-scale-" });
  const seedFile = `${dir}/seed.json`;
  await Deno.writeTextFile(seedFile, JSON.stringify(seed));
  const emulator = spawn(["run", "-A", new URL("../emulator/main.ts", import.meta.url).pathname], {
    EMULATOR_PORT: "0",
    EMULATOR_ADMIN: "1",
    EMULATOR_SEED: seedFile,
    NO_COLOR: "1",
  });
  let app: ReturnType<typeof spawn> | undefined;
  try {
    let banner = "";
    while (!/listening on (\S+)/.test(banner)) banner = await emulator.line();
    const google = /listening on (\S+)/.exec(banner)![1];
    const admin = emulatorAdmin(google);
    await admin("POST", "usage-limits", { createsPerDay: null });

    app = spawn(["run", "-A", new URL(import.meta.url).pathname, "--serve"], {
      BUSYSYNC_KV: `${dir}/busysync.kv`,
      BUSYSYNC_LOG_LEVEL: "error",
      GOOGLE_CLIENT_ID: DEMO_CLIENT.clientId,
      GOOGLE_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
      GOOGLE_API_URL: google,
      GOOGLE_ISSUER: google,
      BUSYSYNC_ENCRYPTION_KEY: btoa(
        String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))),
      ),
      BUSYSYNC_PUSH: "off",
      BUSYSYNC_TRUST_PROXY: "1",
      // The budgets Google's limits call for would make this an hour-long run; lifted here.
      BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE: "100000",
      BUSYSYNC_GOOGLE_CREATES_PER_DAY: "100000",
      // An interval as long as the reconcile period makes every tick each user's reconcile.
      BUSYSYNC_SYNC_INTERVAL_MINUTES: "60",
      BUSYSYNC_RECONCILE_HOURS: "1",
      BUSYSYNC_HISTORY_MAX_RUNS: "50",
    });
    const pid = app.process.pid;
    const { url } = JSON.parse(await app.line());

    const sessions: HttpSession[] = [];
    for (let u = 0; u < c.users; u++) {
      const session = new AddressedSession(url, `192.0.2.${u + 1}`);
      await session.signIn(emailOf(u));
      await session.connect(emailOf(u));
      sessions.push(session);
    }
    const idleMb = (await memoryOf(pid)).rss;

    const lastRuns = async () =>
      await Promise.all(sessions.map(async (s) => {
        const status = await s.json("/api/status");
        return {
          idle: !status.sync.running && status.sync.waiting.length === 0,
          lastRun: status.lastRun as { id: string; outcome: string; full?: boolean } | null,
        };
      }));
    const phase = async (
      name: string,
      start: () => Promise<void>,
      done: () => Promise<boolean>,
    ) => {
      const reset = await resetPeak(pid);
      let sampled = 0;
      const sampler = setInterval(async () => {
        sampled = Math.max(sampled, (await memoryOf(pid).catch(() => ({ rss: 0 }))).rss);
      }, 100);
      const started = performance.now();
      await start();
      await pollUntil(name, 30 * 60_000, done);
      const wallMs = Math.round(performance.now() - started);
      clearInterval(sampler);
      const mem = await memoryOf(pid);
      const figures: PhaseMemory = {
        wallMs,
        peakRssMb: round(reset ? mem.hwm : Math.max(sampled, mem.rss)),
        sampledMaxRssMb: round(Math.max(sampled, mem.rss)),
        endRssMb: round(mem.rss),
      };
      log(`${c.name} ${name}: ${JSON.stringify(figures)}`);
      return figures;
    };

    // Initial sync: each saved rule enqueues its sync; done once every rule's mirrors exist.
    const expected = CALENDARS * c.eventsPerCalendar;
    /** Mirrors the runs so far made, from the history: every source event should have one. */
    const createdSoFar = async () =>
      (await Promise.all(sessions.map(async (s) => {
        const { items } = await s.json("/api/history?limit=100");
        return (items as { rules: { created: number }[] }[])
          .reduce((n, run) => n + run.rules.reduce((m, r) => m + r.created, 0), 0);
      }))).reduce((a, b) => a + b, 0);
    const initial = await phase("initial", async () => {
      for (let u = 0; u < c.users; u++) {
        const { items } = await sessions[u].json("/api/user/calendars");
        const ref = (calendarId: string) => ({
          connectionId: items.find((x: { calendarId: string }) => x.calendarId === calendarId)
            .connectionId,
          calendarId,
        });
        for (let i = 0; i < CALENDARS; i++) {
          await sessions[u].json("/api/rules", "POST", {
            name: `Scale ${i}`,
            source: ref(sourceOf(u, i)),
            target: ref(targetOf(u, i)),
          });
        }
      }
    }, async () => {
      const runs = await lastRuns();
      return runs.every((r) => r.idle && r.lastRun !== null) &&
        await createdSoFar() >= c.users * expected;
    });
    const afterInitial = await lastRuns();
    const createdAfterInitial = await createdSoFar();
    const before = new Map(afterInitial.map((r, u) => [u, r.lastRun?.id]));
    let tick: unknown;
    const reconcile = await phase("reconcile", async () => {
      await app!.send("tick");
      tick = JSON.parse(await app!.line());
    }, async () => {
      const runs = await lastRuns();
      return runs.every((r, u) => r.idle && r.lastRun && r.lastRun.id !== before.get(u));
    });
    const outcomes = (await lastRuns()).map((r) => r.lastRun?.outcome);
    return {
      users: c.users,
      calendarsPerUser: CALENDARS,
      eventsPerCalendar: c.eventsPerCalendar,
      sourceEvents: c.users * expected,
      idleRssMb: round(idleMb),
      initial,
      reconcile,
      tick,
      mirrorsCreated: {
        initial: createdAfterInitial,
        reconcile: await createdSoFar() - createdAfterInitial,
      },
      lastOutcomes: outcomes,
      peakRssMb: Math.max(initial.peakRssMb, reconcile.peakRssMb),
    };
  } finally {
    await app?.stop();
    emulator.process.kill("SIGTERM");
    await emulator.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Runs every case (or those named in `only`) and returns the figures for scale.json. */
export async function runScaleBench(log: (line: string) => void = console.log) {
  const only = Deno.env.get("SCALE_CASES")?.split(",");
  const cases: Record<string, unknown> = {};
  for (const c of SCALE_CASES) {
    if (only && !only.includes(c.name)) continue;
    cases[c.name] = await runCase(c, log);
  }
  return {
    setup: {
      process: "busysync alone (the emulator runs in its own process, not counted)",
      peak: "VmHWM of the busysync process, reset between phases via /proc/<pid>/clear_refs",
      initial: "each rule saved through the API enqueues its sync job; the worker runs them",
      reconcile: "one scheduler tick (what Deno.cron calls) that is every user's full reconcile",
      deno: Deno.version.deno,
      cpus: navigator.hardwareConcurrency,
      at: new Date().toISOString(),
    },
    cases,
  };
}
