/**
 * How every thread that serves HTTP (main.ts, http_thread.ts) builds its parts from the config,
 * KV handle and secrets it opened: services → scheduler → app, in one order. One set of
 * services per thread, so the app's handlers and the scheduler draw on one token source, one
 * OAuth client and one retry policy with its request budget.
 */
import { createApp } from "./app.ts";
import { createPageRenderer } from "./components/render_page.tsx";
import type { AppSecrets } from "./lib/auth/secrets.ts";
import type { Config } from "./lib/config.ts";
import type { Logger } from "./lib/log.ts";
import {
  createScheduler,
  type Scheduler,
  type SchedulerOptions,
} from "./lib/scheduler/scheduler.ts";
import { createServices } from "./lib/services.ts";
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
}

/** Builds the stack; nothing starts (the caller starts the scheduler and serves the app). */
export function buildServerStack(input: ServerStackInput): ServerStack {
  const { config, kv, log, secrets } = input;
  const now = input.now ?? (() => new Date());
  const services = createServices({ config, kv, log, secrets, now });
  const scheduler = createScheduler({
    kv,
    config,
    log,
    services,
    ...(input.schedulerOptions ? { options: input.schedulerOptions } : {}),
    ...(input.onEnqueued ? { onEnqueued: input.onEnqueued } : {}),
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
    push: scheduler.push,
    render: createPageRenderer({ demo: config.demo, manifest: input.manifest }),
  });
  return { app, scheduler };
}
