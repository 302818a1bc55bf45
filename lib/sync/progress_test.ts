import assert from "node:assert/strict";
import { readSyncProgress } from "../db/sync_progress.ts";
import { createLogger } from "../log.ts";
import { RunProgress } from "./progress.ts";

Deno.test("progress: the time left goes by the budget, or by the writes when they are slower", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = Date.parse("2030-01-01T00:00:00Z");
  const progress = new RunProgress({
    kv,
    userId: "u1",
    runId: "r1",
    clock: () => new Date(now),
    log: createLogger("error", () => {}),
    requestsPerMinute: 500,
    live: true,
  });
  await progress.planned(1000);
  // 1,000 writes at 500 a minute: two minutes.
  assert.equal(progress.remainingSeconds(now), 120);
  for (let i = 0; i < 100; i++) {
    now += 1000; // one write a second, slower than the budget
    await progress.wrote();
  }
  // 900 left at about one a second (the first write starts the clock: 100 in 99 s).
  const left = progress.remainingSeconds(now)!;
  assert.ok(left >= 880 && left <= 900, String(left));
  const stored = await readSyncProgress(kv, "u1", new Date(now));
  assert.equal(stored?.planned, 1000);
  assert.ok(stored!.written >= 99);
  await progress.finish();
  assert.equal(await readSyncProgress(kv, "u1", new Date(now)), null);
});

Deno.test("progress: a run with nothing to write stores nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const progress = new RunProgress({
    kv,
    userId: "u1",
    runId: "r1",
    clock: () => new Date(),
    log: createLogger("error", () => {}),
    live: true,
  });
  await progress.listed(40);
  await progress.planned(0);
  assert.equal(await readSyncProgress(kv, "u1", new Date()), null);
});
