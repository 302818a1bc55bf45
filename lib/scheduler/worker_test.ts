import assert from "node:assert/strict";
import { monotonicFactory } from "ulid";
import { enqueueJob, getJob, type Job } from "../db/jobs.ts";
import { createLogger } from "../log.ts";
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
  const kv = await Deno.openKv(":memory:");
  const failures: { job: Job; error: unknown }[] = [];
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
    recordFailure: (job, error) => {
      failures.push({ job, error });
      return Promise.resolve("run-with-the-cause");
    },
  });
  try {
    const { jobId } = await enqueueJob(kv, "u1", { reason: "manual" }, {
      now: new Date(),
      newId: monotonicFactory(),
    });
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
    assert.equal(job?.runId, "run-with-the-cause");
    assert.match(job?.error ?? "", /Google kept failing/);
    assert.equal(failures.length, 1);
  } finally {
    await worker.stop();
    kv.close();
  }
});
