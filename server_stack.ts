/**
 * How every thread that serves HTTP (main.ts, http_thread.ts) builds its parts from the config,
 * KV handle and secrets it opened: metrics → services → scheduler → app, in one order. One set
 * of services per thread, so the app's handlers and the scheduler draw on one token source, one
 * OAuth client and one retry policy with its request budget; one registry of metrics per
 * thread, which a scrape on any thread adds up with the others' (lib/metrics/threads.ts).
 */
import { createApp } from "./app.ts";
import { createPageRenderer } from "./components/render_page.tsx";
import type { AppSecrets } from "./lib/auth/secrets.ts";
import type { Config } from "./lib/config.ts";
import { reportingCommitConflicts } from "./lib/db/commit_conflicts.ts";
import type { Logger } from "./lib/log.ts";
import { createMetrics } from "./lib/metrics/instruments.ts";
import { createStoreGauges } from "./lib/metrics/store_gauges.ts";
import { createMetricsScraper, type MetricsScraper } from "./lib/metrics/threads.ts";
import {
  createScheduler,
  type Scheduler,
  type SchedulerOptions,
} from "./lib/scheduler/scheduler.ts";
import { createServices } from "./lib/services.ts";
import { createTracing } from "./lib/telemetry/tracing.ts";
import type { Manifest } from "./lib/web/manifest.ts";

export interface ServerStackInput {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  manifest: Manifest;
  secrets: AppSecrets;
  /** The repository (or compiled binary) root: static/ is under it. */
  root: string;
  /** Called after this thread enqueued a sync job, to wake the worker on another thread. */
  onEnqueued?: () => void;
  /**
   * The channel this server's threads gather metrics on (lib/metrics/threads.ts), one name for
   * all of them; needed with HTTP threads.
   */
  metricsChannel?: string;
  /**
   * The clock of sessions and tokens; tests move theirs to expire them without waiting (job
   * times stay real). Default: real time.
   */
  now?: () => Date;
  /** Tests shorten the scheduler's timings; default: the scheduler's own. */
  schedulerOptions?: Partial<SchedulerOptions>;
}

export interface ServerStack {
  app: ReturnType<typeof createApp>;
  scheduler: Scheduler;
  /** This thread's part of the process's metrics; close it when the thread stops. */
  metrics: MetricsScraper;
}

/** Builds the stack; nothing starts (the caller starts the scheduler and serves the app). */
export function buildServerStack(input: ServerStackInput): ServerStack {
  const { config, log, secrets } = input;
  const now = input.now ?? (() => new Date());
  const metrics = createMetrics();
  const kv = reportingCommitConflicts(input.kv, (reason) => metrics.kvCommitConflict(reason));
  const scraper = createMetricsScraper({
    own: metrics.registry,
    store: createStoreGauges({ kv, now }),
    peers: config.httpWorkers,
    channel: input.metricsChannel ?? `busysync-metrics-${crypto.randomUUID()}`,
    log,
  });
  const tracing = createTracing({ enabled: config.tracing });
  const services = createServices({ config, kv, log, secrets, now, metrics, tracing });
  const scheduler = createScheduler({
    kv,
    config,
    log,
    services,
    ...(input.schedulerOptions ? { options: input.schedulerOptions } : {}),
    ...(input.onEnqueued ? { onEnqueued: input.onEnqueued } : {}),
    onGivenUp: (job) => metrics.jobGivenUp(job.reason),
    tracing,
  });
  const app = createApp({
    config,
    kv,
    log,
    secrets,
    services,
    now,
    staticDir: `${input.root}static`,
    syncRequests: scheduler,
    push: {
      ...scheduler.push,
      async receive(notification) {
        const verdict = await scheduler.push.receive(notification);
        metrics.pushReceived("google", verdict);
        return verdict;
      },
    },
    render: createPageRenderer({ demo: config.demo, manifest: input.manifest }),
    metrics: scraper,
  });
  return { app, scheduler, metrics: scraper };
}
