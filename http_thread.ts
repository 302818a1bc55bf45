/**
 * The entry of one extra HTTP thread (lib/server/http_threads.ts starts it): a composition root
 * of its own isolate, it opens its own KV handle, builds the stack as the main thread does
 * (server_stack.ts) and serves on the shared port until told to stop. Its scheduler is never
 * started: it only enqueues jobs, which the main thread's worker runs.
 */
/// <reference lib="deno.worker" />
import { loadSecrets } from "./lib/auth/secrets.ts";
import { openKv } from "./lib/db/kv.ts";
import { servedBy } from "./lib/http/served_by.ts";
import { createLogger } from "./lib/log.ts";
import { logIdsFromSecret } from "./lib/log_ids.ts";
import {
  type HttpThreadReply,
  type HttpThreadStart,
  WAKE_CHANNEL,
} from "./lib/server/http_threads.ts";
import { loadManifest } from "./lib/web/static_files.ts";
import { buildServerStack } from "./server_stack.ts";

const ROOT = new URL(".", import.meta.url).pathname;

const reply = (message: HttpThreadReply) => self.postMessage(message);

self.onmessage = async (e: MessageEvent<HttpThreadStart>) => {
  if (e.data.kind !== "start") return;
  const { config, metricsChannel } = e.data;
  try {
    const kv = await openKv(config.kvPath);
    const secrets = await loadSecrets(kv, config);
    // Keyed as on the main thread (one session secret), so one user has one hash on both.
    const log = createLogger(config.logLevel, undefined, {
      ids: logIdsFromSecret(secrets.sessionSecret),
    });
    const wake = new BroadcastChannel(WAKE_CHANNEL);
    const { app, metrics } = buildServerStack({
      config,
      kv,
      log,
      manifest: await loadManifest(ROOT),
      secrets,
      root: ROOT,
      onEnqueued: () => wake.postMessage("wake"),
      metricsChannel,
    });
    const server = Deno.serve({
      port: config.port,
      hostname: config.host,
      reusePort: true,
      onListen: () => {},
    }, servedBy(self.name, (req, info) => app.fetch(req, info)));
    self.onmessage = async (stop: MessageEvent<{ kind: string }>) => {
      if (stop.data.kind !== "stop") return;
      await server.shutdown();
      metrics.close();
      wake.close();
      kv.close();
      reply({ kind: "stopped" });
    };
    reply({ kind: "listening" });
  } catch (err) {
    reply({ kind: "failed", message: err instanceof Error ? err.message : String(err) });
  }
};
