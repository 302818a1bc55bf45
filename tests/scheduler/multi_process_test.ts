/**
 * Several instances on one KV file, as real child processes: single flight per user, no lost
 * trigger, and a killed worker's job finished by another instance once its claim expires.
 */
import assert from "node:assert/strict";
import { until } from "../support/poll.ts";
import { getJob, type Job } from "../../lib/db/jobs.ts";
import { ANN, ANN_WORK } from "../support/accounts.ts";
import { addEvent, liveMirrors, runs, startWorld, type World } from "./support.ts";

const SCRIPT = new URL("./worker_process.ts", import.meta.url).pathname;
const DENO = Deno.execPath();

interface Instance {
  child: Deno.ChildProcess;
  /** The triggers it printed so far. */
  triggers: { jobId: string; at: number }[];
  done: Promise<void>;
}

/** Starts an instance (worker_process.ts) on the world's KV file and emulator. */
function startInstance(
  w: World,
  opts: { triggers: number; claimMs?: number; leaseMs?: number },
): Instance {
  const { config } = w.h;
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", SCRIPT],
    env: {
      NO_COLOR: "1",
      PUBLIC_URL: config.publicUrl,
      GOOGLE_CLIENT_ID: config.google.clientId,
      GOOGLE_CLIENT_SECRET: config.google.clientSecret,
      GOOGLE_ISSUER: config.google.issuer,
      GOOGLE_API_URL: config.google.apiUrl,
      BUSYSYNC_ENCRYPTION_KEY: config.encryptionKeys!.join(","),
      BUSYSYNC_KV: w.h.kvPath,
      BUSYSYNC_PUSH: "off",
      WORKER_USER: w.userId,
      WORKER_TRIGGERS: String(opts.triggers),
      WORKER_CLAIM_MS: String(opts.claimMs ?? 5_000),
      WORKER_LEASE_MS: String(opts.leaseMs ?? 5_000),
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const triggers: Instance["triggers"] = [];
  const done = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim()) triggers.push(JSON.parse(line));
    }
  })();
  return { child, triggers, done };
}

async function stopInstance(instance: Instance, signal: Deno.Signal = "SIGTERM") {
  instance.child.kill(signal);
  await instance.child.status;
  await instance.done;
}

Deno.test("instances: two processes on one KV never sync a user twice at once and lose no trigger", async () => {
  const w = await startWorld({ worker: false, realTime: true, env: { BUSYSYNC_PUSH: "off" } });
  const instances: Instance[] = [];
  try {
    for (let i = 0; i < 3; i++) await addEvent(w.h, ANN, `Event ${i}`, 8 + i);
    instances.push(startInstance(w, { triggers: 12 }), startInstance(w, { triggers: 12 }));
    await until(
      "every trigger",
      () => instances.every((i) => i.triggers.length === 12),
      30_000,
    );
    const triggers = instances.flatMap((i) => i.triggers);
    const jobs = await until("every job to finish", async () => {
      const all = await Promise.all(triggers.map((t) => getJob(w.h.kv, t.jobId)));
      return all.every((j) => j?.state === "done") && (all as Job[]);
    }, 30_000);
    await Promise.all(instances.map((i) => stopInstance(i)));
    const history = await runs(w.h, w.userId);
    const byId = new Map(history.map((r) => [r.id, r]));
    // Single flight: runs of the user never overlap, across both processes.
    const ordered = [...history].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    for (let i = 1; i < ordered.length; i++) {
      assert.ok(
        ordered[i - 1].endedAt <= ordered[i].startedAt,
        `run ${ordered[i].id} started before ${ordered[i - 1].id} ended`,
      );
    }
    // Nothing lost: every trigger's job ran in a run that started after the trigger.
    triggers.forEach((t, i) => {
      const run = byId.get(jobs[i].runId!);
      assert.ok(run, `job ${t.jobId} has no run`);
      assert.ok(Date.parse(run.startedAt) >= t.at, `job ${t.jobId} ran before its trigger`);
    });
    // Both instances did some of the work.
    assert.equal(new Set(jobs.map((j) => j.claimedBy)).size, 2);
    assert.equal((await liveMirrors(w.h, ANN_WORK)).length, 3);
  } finally {
    await Promise.all(instances.map((i) => stopInstance(i, "SIGKILL").catch(() => {})));
    await w.close();
  }
});

Deno.test("instances: a job whose worker was killed mid-run is finished by another instance", async () => {
  const w = await startWorld({ worker: false, realTime: true, env: { BUSYSYNC_PUSH: "off" } });
  let killed: Instance | undefined;
  try {
    await addEvent(w.h, ANN, "Dentist");
    // The killed instance's listing hangs at Google, so it dies holding the job and the lease
    // (the emulator holds that request for 5 s; closing the world waits for it).
    await w.h.admin("faults", { method: "events.list", fault: "delay", delayMs: 5_000, times: 1 });
    killed = startInstance(w, { triggers: 1, claimMs: 1_000, leaseMs: 1_000 });
    const { jobId } = await until("the trigger", () => killed!.triggers[0]);
    const running = await until("the job to run", async () => {
      const job = await getJob(w.h.kv, jobId);
      return job?.state === "running" && job;
    });
    await until("the listing to hang", async () => {
      // A `times` fault leaves the list once it fired.
      const { faults } = await w.h.admin("faults", undefined, "GET") as { faults: unknown[] };
      return faults.length === 0;
    });
    await stopInstance(killed, "SIGKILL");
    // Another instance: this process's worker.
    w.h.scheduler.start();
    const run = await w.h.scheduler.wait(w.userId, jobId, 15_000);
    const job = (await getJob(w.h.kv, jobId))!;
    assert.equal(job.state, "done");
    assert.equal(job.attempts, 2);
    assert.notEqual(job.claimedBy, running.claimedBy);
    assert.equal(run.outcome, "ok");
    assert.deepEqual((await runs(w.h, w.userId)).map((r) => r.id), [run.id]);
    assert.equal((await liveMirrors(w.h, ANN_WORK)).length, 1);
  } finally {
    if (killed) await stopInstance(killed, "SIGKILL").catch(() => {});
    await w.close();
  }
});
