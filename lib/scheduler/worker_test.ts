import assert from "node:assert/strict";
import { monotonicFactory } from "ulid";
import { listRuns } from "../db/history.ts";
import { enqueueJob, getJob } from "../db/jobs.ts";
import { createLogger } from "../log.ts";
import { recordJobFailure } from "./scheduler.ts";
import { Worker } from "./worker.ts";

const OPTIONS = {
  claimMs: 5_000,
  pollMs: 20,
  concurrency: 1,
  maxAttempts: 3,
  retryBaseMs: 1,
  busyRetryMs: 1,
};

Deno.test("worker: a job that keeps failing is retried, then fails with its cause in the history", async () => {
  const dir = await Deno.makeTempDir({ prefix: "busysync-test-" });
  const kv = await Deno.openKv(`${dir}/busysync.kv`);
  const newId = monotonicFactory();
  let runs = 0;
  const worker = new Worker({
    kv,
    log: createLogger("error", () => {}),
    clock: () => new Date(),
    owner: "w1",
    options: OPTIONS,
    execute: () => {
      runs++;
      // The first start finds another run holding the lease: not an attempt.
      if (runs === 1) return Promise.resolve({ status: "busy" });
      return Promise.reject(new Error("Google kept failing"));
    },
    // What the scheduler records: the real history, in this KV file.
    recordFailure: (job, error) =>
      recordJobFailure(kv, job, error, {
        now: new Date(),
        newId,
        retention: { maxRuns: 10, maxDays: 1 },
      }),
  });
  try {
    const { jobId } = await enqueueJob(kv, "u1", { reason: "manual" }, { now: new Date(), newId });
    worker.start();
    const deadline = Date.now() + 5_000;
    let job = await getJob(kv, jobId);
    while (job?.state !== "failed" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      job = await getJob(kv, jobId);
    }
    assert.equal(job?.state, "failed");
    assert.equal(job?.attempts, 3);
    assert.equal(runs, 4);
    assert.match(job?.error ?? "", /Google kept failing/);
    // The person's history holds one failed run, the job points at it, and it says why.
    const { items } = await listRuns(kv, "u1");
    assert.equal(items.length, 1);
    const [run] = items;
    assert.equal(job?.runId, run.id);
    assert.equal(run.outcome, "failed");
    assert.equal(run.trigger, "manual");
    assert.deepEqual(run.errors, [{
      error: "Error",
      message: "the sync job failed 3 times and was given up",
      cause: "Google kept failing",
    }]);
  } finally {
    await worker.stop();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker: every line written while a job runs carries its job id, whoever writes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "busysync-test-" });
  const kv = await Deno.openKv(`${dir}/busysync.kv`);
  const newId = monotonicFactory();
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  const worker = new Worker({
    kv,
    log,
    clock: () => new Date(),
    owner: "w1",
    options: OPTIONS,
    // As the engine would: it logs with the logger it was given, naming no job.
    execute: async () => {
      await Promise.resolve();
      log.info("engine: a line of the run");
      return { status: "ran", runId: "r1" };
    },
    recordFailure: () => Promise.resolve(undefined),
  });
  try {
    const { jobId } = await enqueueJob(kv, "u1", { reason: "manual" }, { now: new Date(), newId });
    worker.start();
    const deadline = Date.now() + 5_000;
    while ((await getJob(kv, jobId))?.state !== "done" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const line = lines.map((l) => JSON.parse(l)).find((e) => e.msg === "engine: a line of the run");
    assert.equal(line?.jobId, jobId);
    log.info("after the job");
    assert.equal(JSON.parse(lines.at(-1)!).jobId, undefined);
  } finally {
    await worker.stop();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
