/**
 * Starts busysync: config → KV (+ migrations) → emulator in demo mode → services → scheduler
 * (worker + cron) → app → Deno.serve, and shuts down in order on SIGINT/SIGTERM.
 */
import { Hono } from "hono";
import { loadSecrets } from "./lib/auth/secrets.ts";
import { startEmulator } from "./emulator/server.ts";
import { demoSeed } from "./emulator/demo_seed.ts";
import { type Config, ConfigError, loadConfig } from "./lib/config.ts";
import { openKv } from "./lib/db/kv.ts";
import { MIGRATIONS, runMigrations } from "./lib/db/migrations.ts";
import { handleError, handleNotFound } from "./lib/http/errors.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { logIdsFromSecret } from "./lib/log_ids.ts";
import type { MetricsScraper } from "./lib/metrics/threads.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { servedBy } from "./lib/http/served_by.ts";
import { startHttpThreads } from "./lib/server/http_threads.ts";
import { loadManifest } from "./lib/web/static_files.ts";
import { buildServerStack, type ServerStack } from "./server_stack.ts";

const ROOT = new URL(".", import.meta.url).pathname;
/** Each extra HTTP thread's entry; `deno task compile` includes it by name. */
const HTTP_THREAD = new URL("./http_thread.ts", import.meta.url);

export interface RunningServer {
  url: string;
  config: Config;
  /** Where the listener of BUSYSYNC_METRICS_ADDRESS serves /metrics, when there is one. */
  metricsUrl?: string;
  /** Resolves when the server has shut down completely. */
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** Starts the whole service for `env`; the caller owns the returned handle. */
export async function startServer(env: Record<string, string | undefined>): Promise<RunningServer> {
  let config = loadConfig(env);
  // Demo mode shows changes arriving at once: the bundled emulator pushes to plain http.
  if (config.demo && !env.BUSYSYNC_PUSH) config = { ...config, push: "on" };
  const kv = await openKv(config.kvPath);
  const applied = await runMigrations(kv, MIGRATIONS);
  // Before the logger: its hashing of ids is keyed by the instance's secret.
  const secrets = await loadSecrets(kv, config);
  const log = createLogger(config.logLevel, undefined, {
    ids: logIdsFromSecret(secrets.sessionSecret),
  });
  if (applied.length) log.info("migrations applied", { applied });

  const emulator = config.demo
    ? await startEmulator({
      port: config.emulator.port,
      admin: config.emulator.admin,
      seed: demoSeed(new Date()),
    })
    : undefined;
  if (emulator) {
    log.info("demo mode: Google emulator started", { url: emulator.url });
    // EMULATOR_PORT=0 picks a free port, so the URLs are known only now.
    config = {
      ...config,
      google: {
        ...config.google,
        apiUrl: env.GOOGLE_API_URL || emulator.url,
        issuer: env.GOOGLE_ISSUER || emulator.url,
      },
    };
  }

  const manifest = await loadManifest(ROOT);
  // The app is built once the port is known: with PORT=0 and no PUBLIC_URL the public URL (and
  // so the OAuth redirect URI) can only name the port the system picked.
  const built: { app?: ServerStack["app"] } = {};
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    // Extra HTTP threads listen on this very port; the kernel spreads connections.
    reusePort: config.httpWorkers > 0,
    onListen: () => {},
  }, servedBy("main", (req, info) => built.app!.fetch(req, info)));
  const addr = server.addr as Deno.NetAddr;
  const url = `http://${addr.hostname === "0.0.0.0" ? "localhost" : addr.hostname}:${addr.port}`;
  if (!env.PUBLIC_URL && config.port === 0) config = { ...config, publicUrl: url };
  // PORT=0: the threads must listen on the port the system picked for the main thread.
  config = { ...config, port: addr.port };
  const metricsChannel = `busysync-metrics-${crypto.randomUUID()}`;
  const { app, scheduler, metrics } = buildServerStack({
    config,
    kv,
    log,
    manifest,
    secrets,
    root: ROOT,
    metricsChannel,
  });
  built.app = app;
  let threads;
  let metricsServer;
  try {
    threads = config.httpWorkers > 0
      ? await startHttpThreads(config, log, () => scheduler.wake(), HTTP_THREAD, metricsChannel)
      : undefined;
    metricsServer = config.metrics.address && serveMetrics(config.metrics.address, metrics, log);
  } catch (err) {
    // Nothing may keep running behind a start-up that failed.
    await Promise.all([server.shutdown(), threads?.close()]);
    metrics.close();
    await emulator?.close();
    kv.close();
    throw err;
  }
  scheduler.start({ cron: true });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      log.info("shutting down");
      // The worker stops claiming and lets running syncs end (they release their leases);
      // jobs still waiting stay in KV for the next instance to start.
      await Promise.all([
        server.shutdown(),
        metricsServer?.shutdown(),
        threads?.close(),
        scheduler.stop(),
      ]);
      metrics.close();
      await emulator?.close();
      kv.close();
    })();
  const metricsAddr = metricsServer?.addr;
  return {
    url,
    config,
    ...(metricsAddr ? { metricsUrl: `http://${hostOf(metricsAddr)}:${metricsAddr.port}` } : {}),
    finished: server.finished.then(() => stopping),
    shutdown,
  };
}

/**
 * The listener of BUSYSYNC_METRICS_ADDRESS: /metrics with no token and nothing else, for a
 * Prometheus on a private network or on this host. On the main thread only: its scrape gathers
 * the other threads' counters as one on the app's port does.
 */
function serveMetrics(
  address: { hostname: string; port: number },
  metrics: MetricsScraper,
  log: Logger,
): Deno.HttpServer<Deno.NetAddr> {
  const app = new Hono();
  app.route("/", metricsRoutes({ metrics }));
  app.notFound(handleNotFound());
  app.onError(handleError((msg, err) => log.error(msg, { err })));
  return Deno.serve({ ...address, onListen: () => {} }, app.fetch);
}

/** A listening address as a URL's host: IPv6 in brackets, the wildcard as localhost. */
function hostOf(addr: Deno.NetAddr): string {
  if (addr.hostname === "0.0.0.0" || addr.hostname === "::") return "localhost";
  return addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
}

/** Serves until SIGINT/SIGTERM, then shuts down in order: `deno task start` and `busysync serve`. */
export async function serveUntilSignal(env: Record<string, string | undefined>): Promise<void> {
  const running = await startServer(env);
  // PUBLIC_URL, not the listening address: sign-in works only there (its cookies are per host,
  // and Google sends the browser back to PUBLIC_URL); other addresses redirect to it.
  console.log(`busysync is running at ${running.config.publicUrl}`);
  if (new URL(running.url).host !== new URL(running.config.publicUrl).host) {
    console.log(`(listening on ${running.url}; pages opened there move to the address above)`);
  }
  if (running.config.demo) {
    console.log("demo mode: no Google credentials set, using the bundled Google emulator");
  }
  if (running.metricsUrl) console.log(`metrics for Prometheus at ${running.metricsUrl}/metrics`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => running.shutdown());
  }
  await running.finished;
}

if (import.meta.main) {
  try {
    await serveUntilSignal(Deno.env.toObject());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`busysync: ${err.message}`);
      Deno.exit(1);
    }
    throw err;
  }
}
