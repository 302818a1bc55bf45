/**
 * One more busysync instance for the multi-process tests: the real scheduler (worker, no HTTP,
 * no cron) on the KV file named by BUSYSYNC_KV, configured by the same environment as the app.
 * It also receives triggers of its own: WORKER_TRIGGERS sync requests for WORKER_USER, each
 * printed as a JSON line `{"jobId", "at"}` (at: epoch ms just before the request). Stops
 * cleanly on SIGTERM (running jobs finish).
 *
 * Extra variables: WORKER_CLAIM_MS and WORKER_LEASE_MS (short, so that a killed instance's job
 * and lease expire soon).
 */
import { z } from "zod";
import { loadSecrets } from "../../lib/auth/secrets.ts";
import { loadConfig } from "../../lib/config.ts";
import { openKv } from "../../lib/db/kv.ts";
import { createLogger } from "../../lib/log.ts";
import { createScheduler } from "../../lib/scheduler/scheduler.ts";
import { createServices } from "../../lib/services.ts";

const env = Deno.env.toObject();
const extra = z.object({
  WORKER_USER: z.string().min(1),
  WORKER_TRIGGERS: z.coerce.number().int().min(0),
  WORKER_CLAIM_MS: z.coerce.number().int().positive(),
  WORKER_LEASE_MS: z.coerce.number().int().positive(),
}).parse(env);
const config = loadConfig(env);
const kv = await openKv(config.kvPath);
const log = createLogger("error");
const secrets = await loadSecrets(kv, config);
const services = createServices({ config, kv, log, secrets, now: () => new Date() });
const scheduler = createScheduler({
  kv,
  config,
  log,
  services,
  options: {
    claimMs: extra.WORKER_CLAIM_MS,
    leaseTtlMs: extra.WORKER_LEASE_MS,
    pollMs: 50,
    busyRetryMs: 20,
    retryBaseMs: 50,
    pushDebounceMs: 30,
  },
});
scheduler.start();
Deno.addSignalListener("SIGTERM", async () => {
  await scheduler.stop();
  kv.close();
  Deno.exit(0);
});

for (let i = 0; i < extra.WORKER_TRIGGERS; i++) {
  const at = Date.now();
  const reason = i % 3 === 0 ? "push" : "manual";
  const { jobId } = await scheduler.request(extra.WORKER_USER, { reason });
  console.log(JSON.stringify({ jobId, at }));
  // Triggers arrive spread out, some while a run is going, some between runs.
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
}
