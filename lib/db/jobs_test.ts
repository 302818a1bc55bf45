import assert from "node:assert/strict";
import { withMemoryKv } from "../../tests/support/temp_kv.ts";
import { monotonicFactory } from "ulid";
import {
  claimDueJob,
  deferJob,
  enqueueJob,
  finishJob,
  getJob,
  indexOpenJobs,
  listJobsOfUser,
  listOpenJobsOfUser,
  renewClaim,
  retryJob,
} from "./jobs.ts";

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const newId = monotonicFactory();

Deno.test("jobs: a request joins the user's waiting job of its reason, widening what it syncs", () =>
  withMemoryKv(async (kv) => {
    const a = await enqueueJob(kv, "u1", { reason: "manual", ruleIds: ["r1"] }, { now: T0, newId });
    const b = await enqueueJob(kv, "u1", { reason: "manual", ruleIds: ["r2"] }, {
      now: at(5),
      newId,
    });
    const c = await enqueueJob(kv, "u1", { reason: "schedule", full: true }, { now: at(6), newId });
    const d = await enqueueJob(kv, "u2", { reason: "manual" }, { now: at(7), newId });
    assert.equal(b.jobId, a.jobId);
    assert.equal(b.created, false);
    assert.notEqual(c.jobId, a.jobId);
    assert.notEqual(d.jobId, a.jobId);
    assert.deepEqual((await getJob(kv, a.jobId))?.ruleIds, ["r1", "r2"]);
    // "Every rule" absorbs any selection.
    await enqueueJob(kv, "u1", { reason: "manual" }, { now: at(8), newId });
    assert.equal((await getJob(kv, a.jobId))?.ruleIds, undefined);
    assert.equal((await listJobsOfUser(kv, "u1")).length, 2);
  }));

Deno.test("jobs: a full request is never swallowed: joining a waiting plain job makes it full", () =>
  withMemoryKv(async (kv) => {
    const plain = await enqueueJob(kv, "u1", { reason: "manual" }, { now: T0, newId });
    const full = await enqueueJob(kv, "u1", { reason: "manual", ruleIds: ["r1"], full: true }, {
      now: at(1),
      newId,
    });
    assert.equal(full.jobId, plain.jobId);
    assert.equal((await getJob(kv, plain.jobId))?.full, true);
    // A plain request after it joins too: the full run covers everything an incremental would.
    await enqueueJob(kv, "u1", { reason: "manual" }, { now: at(2), newId });
    const job = await getJob(kv, plain.jobId);
    assert.deepEqual({ full: job?.full, ruleIds: job?.ruleIds }, {
      full: true,
      ruleIds: undefined,
    });
    // A full request while the job already runs queues a new one (that run may have listed
    // before the user asked for a repair).
    const claimed = await claimDueJob(kv, { owner: "w", now: at(3), claimMs: 1000 });
    const later = await enqueueJob(kv, "u1", { reason: "manual", full: true }, {
      now: at(4),
      newId,
    });
    assert.equal(claimed?.job.id, plain.jobId);
    assert.equal(later.created, true);
    assert.equal((await getJob(kv, later.jobId))?.full, true);
  }));

Deno.test("jobs: a debounced job's due time slides with each request, up to its limit", () =>
  withMemoryKv(async (kv) => {
    const opts = { newId, delayMs: 300, maxDelayMs: 1000 };
    const { jobId } = await enqueueJob(kv, "u1", { reason: "push" }, { ...opts, now: T0 });
    for (const t of [100, 200, 400]) {
      await enqueueJob(kv, "u1", { reason: "push" }, { ...opts, now: at(t) });
    }
    assert.equal((await getJob(kv, jobId))?.dueAt, at(700).toISOString());
    assert.equal(await claimDueJob(kv, { owner: "w", now: at(699), claimMs: 1000 }), null);
    await enqueueJob(kv, "u1", { reason: "push" }, { ...opts, now: at(900) });
    assert.equal((await getJob(kv, jobId))?.dueAt, at(1000).toISOString());
    assert.equal(
      (await claimDueJob(kv, { owner: "w", now: at(1000), claimMs: 1000 }))?.job.id,
      jobId,
    );
  }));

Deno.test("jobs: one claim per job; a request after the claim makes a new job", () =>
  withMemoryKv(async (kv) => {
    const { jobId } = await enqueueJob(kv, "u1", { reason: "manual" }, { now: T0, newId });
    const [first, second] = await Promise.all([
      claimDueJob(kv, { owner: "a", now: at(1), claimMs: 1000 }),
      claimDueJob(kv, { owner: "b", now: at(1), claimMs: 1000 }),
    ]);
    assert.equal([first, second].filter(Boolean).length, 1);
    const claimed = (first ?? second)!;
    assert.equal(claimed.job.id, jobId);
    assert.equal(claimed.job.attempts, 1);
    const next = await enqueueJob(kv, "u1", { reason: "manual" }, { now: at(2), newId });
    assert.equal(next.created, true);
    assert.ok(await finishJob(kv, claimed, { now: at(3), runId: "run1" }));
    const done = await getJob(kv, jobId);
    assert.equal(done?.state, "done");
    assert.equal(done?.runId, "run1");
  }));

Deno.test("jobs: a claim that is not renewed expires and another worker takes the job", () =>
  withMemoryKv(async (kv) => {
    await enqueueJob(kv, "u1", { reason: "manual" }, { now: T0, newId });
    const a = await claimDueJob(kv, { owner: "a", now: T0, claimMs: 1000 });
    assert.ok(a);
    const renewed = await renewClaim(kv, a, { now: at(900), claimMs: 1000 });
    assert.ok(renewed);
    assert.equal(await claimDueJob(kv, { owner: "b", now: at(1500), claimMs: 1000 }), null);
    const b = await claimDueJob(kv, { owner: "b", now: at(1900), claimMs: 1000 });
    assert.equal(b?.job.claimedBy, "b");
    assert.equal(b?.job.attempts, 2);
    // The first worker's claim is fenced out: it can neither renew nor finish.
    assert.equal(await renewClaim(kv, renewed, { now: at(2000), claimMs: 1000 }), null);
    assert.equal(await finishJob(kv, renewed, { now: at(2000), runId: "stale" }), false);
  }));

Deno.test("jobs: retried with backoff, deferred without counting, failed with its cause", () =>
  withMemoryKv(async (kv) => {
    const { jobId } = await enqueueJob(kv, "u1", { reason: "manual" }, { now: T0, newId });
    const a = (await claimDueJob(kv, { owner: "a", now: T0, claimMs: 1000 }))!;
    await retryJob(kv, a, { dueAt: at(5000), error: "boom" });
    assert.equal(await claimDueJob(kv, { owner: "a", now: at(4999), claimMs: 1000 }), null);
    const b = (await claimDueJob(kv, { owner: "a", now: at(5000), claimMs: 1000 }))!;
    assert.equal(b.job.attempts, 2);
    await deferJob(kv, b, { dueAt: at(5100) });
    const c = (await claimDueJob(kv, { owner: "a", now: at(5100), claimMs: 1000 }))!;
    assert.equal(c.job.attempts, 2);
    await finishJob(kv, c, { now: at(5200), runId: "run-failed", error: "boom again" });
    const failed = await getJob(kv, jobId);
    assert.equal(failed?.state, "failed");
    assert.equal(failed?.error, "boom again");
    assert.equal(await claimDueJob(kv, { owner: "a", now: at(99_999), claimMs: 1000 }), null);
  }));

Deno.test("jobs: a cron tick enqueues a user once, even when it fires twice", () =>
  withMemoryKv(async (kv) => {
    const tick = { id: 42, keepMs: 60_000 };
    const first = await enqueueJob(kv, "u1", { reason: "schedule" }, { now: T0, newId, tick });
    const claimed = await claimDueJob(kv, { owner: "a", now: at(1), claimMs: 1000 });
    assert.ok(claimed);
    const again = await enqueueJob(kv, "u1", { reason: "schedule" }, { now: at(2), newId, tick });
    assert.equal(again.jobId, first.jobId);
    assert.equal(again.created, false);
    assert.equal((await listJobsOfUser(kv, "u1")).length, 1);
  }));

Deno.test("jobs: a user's open jobs are the waiting and running ones, however many ran today", () =>
  withMemoryKv(async (kv) => {
    for (let i = 0; i < 30; i++) {
      await enqueueJob(kv, "u1", { reason: "manual" }, { now: at(i * 10), newId });
      const claimed = await claimDueJob(kv, { owner: "a", now: at(i * 10 + 1), claimMs: 1000 });
      assert.ok(claimed);
      await finishJob(kv, claimed, { now: at(i * 10 + 2), runId: `run-${i}` });
    }
    const waiting = await enqueueJob(kv, "u1", { reason: "push" }, { now: at(400), newId });
    await enqueueJob(kv, "u1", { reason: "schedule" }, { now: at(401), newId });
    const claimed = await claimDueJob(kv, { owner: "a", now: at(402), claimMs: 1000 });
    assert.ok(claimed);
    // A long run renews its claim; it stays an open job throughout.
    const running = await renewClaim(kv, claimed, { now: at(403), claimMs: 1000 });
    assert.ok(running);
    assert.equal((await listJobsOfUser(kv, "u1")).length, 32);
    const open = await listOpenJobsOfUser(kv, "u1");
    assert.deepEqual(open.map((j) => j.state).sort(), ["running", "waiting"]);
    assert.ok(
      open.some((j) => j.id === waiting.jobId) && open.some((j) => j.id === running.job.id),
    );
    assert.deepEqual(await listOpenJobsOfUser(kv, "u2"), []);
  }));

Deno.test("jobs: migration 0002 indexes the unfinished jobs of a store that had no open index", () =>
  withMemoryKv(async (kv) => {
    const open = await enqueueJob(kv, "u1", { reason: "manual" }, { now: T0, newId });
    const done = await enqueueJob(kv, "u1", { reason: "schedule" }, { now: at(1), newId });
    const claimed = await claimDueJob(kv, { owner: "a", now: at(2), claimMs: 1000 });
    assert.equal(claimed?.job.id, open.jobId);
    await finishJob(kv, claimed!, { now: at(3), runId: "r" });
    // What an older store holds: jobs, but no open index.
    for await (const entry of kv.list({ prefix: ["jobs_open_by_user"] })) {
      await kv.delete(entry.key);
    }
    assert.deepEqual(await listOpenJobsOfUser(kv, "u1"), []);
    await indexOpenJobs(kv);
    await indexOpenJobs(kv);
    assert.deepEqual((await listOpenJobsOfUser(kv, "u1")).map((j) => j.id), [done.jobId]);
  }));

Deno.test("jobs: a deferred job takes its waiting slot back, so requests join it again", () =>
  withMemoryKv(async (kv) => {
    const a = await enqueueJob(kv, "u1", { reason: "push" }, { now: T0, newId });
    const claimed = await claimDueJob(kv, { owner: "w", now: at(1), claimMs: 1000 });
    assert.equal(claimed?.job.id, a.jobId);
    const deferred = await deferJob(kv, claimed!, { dueAt: at(500) });
    assert.ok(deferred);
    const joined = await enqueueJob(kv, "u1", { reason: "push" }, { now: at(2), newId });
    assert.deepEqual(joined, { jobId: a.jobId, created: false });

    const again = await claimDueJob(kv, { owner: "w", now: at(600), claimMs: 1000 });
    assert.equal(again?.job.id, a.jobId);
    // A request while it runs makes a new job, which keeps the slot when the first is deferred.
    const b = await enqueueJob(kv, "u1", { reason: "push" }, { now: at(601), newId });
    assert.notEqual(b.jobId, a.jobId);
    assert.ok(await deferJob(kv, again!, { dueAt: at(700) }));
    const later = await enqueueJob(kv, "u1", { reason: "push" }, { now: at(602), newId });
    assert.equal(later.jobId, b.jobId);
    assert.equal((await listOpenJobsOfUser(kv, "u1")).length, 2);
  }));

Deno.test("jobs: a job waiting out a retry backoff is not joined: a new request runs on time", () =>
  withMemoryKv(async (kv) => {
    const a = await enqueueJob(kv, "u1", { reason: "manual" }, { now: T0, newId });
    const claimed = await claimDueJob(kv, { owner: "w", now: at(1), claimMs: 1000 });
    assert.equal(claimed?.job.id, a.jobId);
    assert.ok(await retryJob(kv, claimed!, { dueAt: at(60_000), error: "boom" }));
    const next = await enqueueJob(kv, "u1", { reason: "manual" }, { now: at(2), newId });
    assert.notEqual(next.jobId, a.jobId);
    assert.equal((await getJob(kv, next.jobId))?.dueAt, at(2).toISOString());
    assert.equal((await listOpenJobsOfUser(kv, "u1")).length, 2);
  }));
