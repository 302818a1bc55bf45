/**
 * Every documented value of every numeric setting starts busysync (the README's settings table;
 * the ranges are lib/config.ts's). BUSYSYNC_SYNC_INTERVAL_MINUTES=1440 once stopped start-up with
 * "Invalid cron schedule": config accepted it, Deno.cron did not.
 */
import assert from "node:assert/strict";
import { startDemoServer } from "./support/demo_server.ts";

const LOWEST = {
  BUSYSYNC_SYNC_INTERVAL_MINUTES: "1",
  BUSYSYNC_RECONCILE_HOURS: "1",
  BUSYSYNC_HISTORY_MAX_RUNS: "1",
  BUSYSYNC_HISTORY_MAX_DAYS: "1",
  BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE: "1",
  BUSYSYNC_GOOGLE_CREATES_PER_DAY: "1",
  BUSYSYNC_GOOGLE_QUOTA_PAUSE_HOURS: "1",
  BUSYSYNC_DELETE_GUARD_PERCENT: "0",
  BUSYSYNC_DELETE_GUARD_MIN: "0",
};

const HIGHEST = {
  BUSYSYNC_SYNC_INTERVAL_MINUTES: "1440",
  BUSYSYNC_RECONCILE_HOURS: String(24 * 30),
  BUSYSYNC_HISTORY_MAX_RUNS: "100000",
  BUSYSYNC_HISTORY_MAX_DAYS: "3650",
  BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE: "100000",
  BUSYSYNC_GOOGLE_CREATES_PER_DAY: "100000",
  BUSYSYNC_GOOGLE_QUOTA_PAUSE_HOURS: "168",
  BUSYSYNC_DELETE_GUARD_PERCENT: "100",
  BUSYSYNC_DELETE_GUARD_MIN: "100000",
};

Deno.test("start-up: the lowest and the highest documented value of every setting start and serve", async (t) => {
  for (const [name, env] of [["lowest", LOWEST], ["highest", HIGHEST]] as const) {
    await t.step(name, async () => {
      const server = await startDemoServer(env);
      try {
        const res = await fetch(`${server.url}/readyz`);
        assert.deepEqual(await res.json(), { status: "ok", kv: true });
      } finally {
        await server.stop();
      }
    });
  }
});
