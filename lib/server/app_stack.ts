/**
 * What serves HTTP, built the same way on the main thread and on each extra HTTP thread: the
 * services, a scheduler (started only on the main thread) and the Hono app over them.
 */
import { createApp } from "../../app.ts";
import type { AppSecrets } from "../auth/secrets.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { createScheduler, type Scheduler } from "../scheduler/scheduler.ts";
import { createServices } from "../services.ts";
import type { Manifest } from "../web/manifest.ts";

export interface AppStackInput {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  manifest: Manifest;
  secrets: AppSecrets;
  /** The repository (or compiled binary) root: static/ is under it. */
  root: string;
  /** Called after this thread enqueued a sync job, to wake the worker on another thread. */
  onEnqueued?: () => void;
}

export interface AppStack {
  app: ReturnType<typeof createApp>;
  scheduler: Scheduler;
}

export function buildAppStack(input: AppStackInput): AppStack {
  const { config, kv, log, secrets } = input;
  // One set of services, so the app and the worker share one retry policy and request budget.
  const services = createServices({ config, kv, log, secrets, now: () => new Date() });
  const scheduler = createScheduler({
    kv,
    config,
    log,
    services,
    ...(input.onEnqueued ? { onEnqueued: input.onEnqueued } : {}),
  });
  const app = createApp({
    config,
    kv,
    log,
    manifest: input.manifest,
    secrets,
    staticDir: `${input.root}static`,
    googlePolicy: services.policy,
    syncRequests: scheduler,
    push: scheduler.push,
  });
  return { app, scheduler };
}
