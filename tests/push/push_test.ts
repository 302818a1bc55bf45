/**
 * Push and the cron, end to end: the emulator POSTs real notifications to the app served over
 * HTTP, the webhook turns them into jobs, the worker runs them through the real engine.
 */
import assert from "node:assert/strict";
import { until } from "../support/poll.ts";
import { pauseSyncsOf, resumeSyncsOf } from "../../lib/admin/user_actions.ts";
import { getChannel } from "../../lib/db/channels.ts";
import { listJobsOfUser } from "../../lib/db/jobs.ts";
import { createGroup } from "../../lib/db/group_changes.ts";
import { createRule, updateRule } from "../../lib/db/rules.ts";
import { GroupInputSchema } from "../../lib/model/group.ts";
import { createLogger } from "../../lib/log.ts";
import { createScheduler } from "../../lib/scheduler/scheduler.ts";
import { createServices } from "../../lib/services.ts";
import type { CalendarProvider } from "../../lib/sync/provider.ts";
import { RuleInputSchema } from "../../lib/model/rule.ts";
import { ANN, ANN_WORK, BOB, BOB_WORK } from "../support/accounts.ts";
import {
  addEvent,
  deliveries,
  liveChannels,
  liveMirrors,
  notify,
  runs,
  startWorld,
  type World,
} from "../scheduler/support.ts";

async function withWorld(
  fn: (w: World) => Promise<void>,
  options: Parameters<typeof startWorld>[0] = {},
) {
  const w = await startWorld(options);
  try {
    await fn(w);
  } finally {
    await w.close();
  }
}

/** Runs a manual sync and waits until the channel of Ann's personal calendar is open. */
async function syncAndWatch(w: World) {
  const { jobId } = await w.h.scheduler.request(w.userId, { reason: "manual" });
  await w.h.scheduler.wait(w.userId, jobId, 10_000);
  const [channel] = await until("the channel to open", async () => {
    const live = await liveChannels(w.h);
    return live.length === 1 && live;
  });
  assert.equal(channel.calendarId, ANN);
  // Google's first message, `sync`, is acknowledged.
  await until(
    "the sync message",
    async () =>
      (await deliveries(w.h)).some((d) =>
        d.channelId === channel.id && d.resourceState === "sync" && d.outcome === "ok"
      ),
  );
  return channel;
}

/** Resolves once the user has no job waiting or running. */
async function idle(w: World) {
  await until("the jobs to finish", async () => {
    const jobs = await listJobsOfUser(w.h.kv, w.userId);
    return jobs.every((j) => j.state === "done" || j.state === "failed");
  });
}

Deno.test("push: a burst of 20 notifications syncs once, and the mirrors appear", () =>
  withWorld(async (w) => {
    const channel = await syncAndWatch(w);
    // Held back while the events are written, then delivered as fast as the app takes them.
    await w.h.admin("push/pause");
    for (let i = 0; i < 20; i++) await addEvent(w.h, ANN, `Burst ${i}`, i % 12 + 6);
    await w.h.admin("push/resume");
    await until("20 mirrors", async () => (await liveMirrors(w.h, ANN_WORK)).length === 20);
    await until(
      "20 notifications delivered",
      async () =>
        (await deliveries(w.h)).filter((d) =>
          d.channelId === channel.id && d.resourceState === "exists" && d.outcome === "ok"
        ).length === 20,
    );
    await idle(w);
    const pushRuns = (await runs(w.h, w.userId)).filter((r) => r.trigger === "push");
    assert.equal(pushRuns.length, 1);
    assert.deepEqual(pushRuns[0].rules.map((r) => [r.ruleId, r.created]), [[w.ruleId, 20]]);
    const status = await w.h.scheduler.progress(w.userId);
    assert.equal(status.push.enabled, true);
    assert.equal(status.push.channels.length, 1);
    assert.equal(status.push.channels[0].state, "active");
    assert.ok(status.push.channels[0].lastNotificationAt);
  }, {
    // A debounce well above a loaded machine's gap between two notifications of the burst.
    scheduler: { pushDebounceMs: 1_000, pushMaxDelayMs: 10_000 },
  }));

Deno.test("push: a wrong or missing channel token is refused with 403 and syncs nothing", () =>
  withWorld(async (w) => {
    const channel = await syncAndWatch(w);
    await idle(w);
    const runsBefore = (await runs(w.h, w.userId)).length;
    const jobsBefore = (await listJobsOfUser(w.h.kv, w.userId)).length;
    const base = { "X-Goog-Channel-ID": channel.id, "X-Goog-Resource-ID": channel.resourceId };
    assert.equal(await notify(w.h.url!, { ...base, "X-Goog-Channel-Token": "not-the-token" }), 403);
    assert.equal(await notify(w.h.url!, base), 403);
    // A channel we do not know: success (only its owner could stop it), and ignored.
    assert.equal(
      await notify(w.h.url!, {
        ...base,
        "X-Goog-Channel-ID": "unknown",
        "X-Goog-Channel-Token": "x",
      }),
      200,
    );
    assert.equal((await listJobsOfUser(w.h.kv, w.userId)).length, jobsBefore);
    assert.equal((await runs(w.h, w.userId)).length, runsBefore);
    // The same request with the channel's own token is accepted and leads to a sync.
    assert.equal(
      await notify(w.h.url!, { ...base, "X-Goog-Channel-Token": channel.token! }),
      200,
    );
    await until(
      "the push run",
      async () => (await runs(w.h, w.userId)).some((r) => r.trigger === "push"),
    );
  }));

Deno.test("push: a paused user's notifications are acknowledged without a sync; resuming syncs what changed", () =>
  withWorld(async (w) => {
    const channel = await syncAndWatch(w);
    await idle(w);
    const jobsBefore = (await listJobsOfUser(w.h.kv, w.userId)).length;
    await pauseSyncsOf({ kv: w.h.kv, now: () => new Date() }, w.userId);
    await addEvent(w.h, ANN, "While paused", 8);
    await until(
      "the notification acknowledged",
      async () =>
        (await deliveries(w.h)).some((d) =>
          d.channelId === channel.id && d.resourceState === "exists" && d.outcome === "ok"
        ),
    );
    assert.equal((await listJobsOfUser(w.h.kv, w.userId)).length, jobsBefore);
    assert.deepEqual(await liveMirrors(w.h, ANN_WORK), []);
    const resumed = await resumeSyncsOf({ kv: w.h.kv, syncRequests: w.h.scheduler }, w.userId);
    await w.h.scheduler.wait(w.userId, resumed!.jobId!, 10_000);
    assert.equal((await liveMirrors(w.h, ANN_WORK)).length, 1);
  }));

Deno.test("push: a channel near expiry is replaced, the new one opened before the old is stopped", () =>
  withWorld(async (w) => {
    const old = await syncAndWatch(w);
    await idle(w);
    // A second instance whose clock is an hour before the channel's expiry, and whose provider
    // records the order of watch and stop calls.
    const calls: string[] = [];
    const log = createLogger("error", () => {});
    const services = createServices({
      config: w.h.config,
      kv: w.h.kv,
      log,
      secrets: w.h.secrets,
      now: w.h.clock.now,
    });
    const recording = (p: CalendarProvider): CalendarProvider => ({
      ...p,
      watch: async (cal, ch) => {
        calls.push(`watch ${ch.id}`);
        const opened = await p.watch!(cal, ch);
        calls.push(`opened ${ch.id}`);
        return opened;
      },
      stopChannel: async (connectionId, ch) => {
        calls.push(`stop ${ch.id}`);
        await p.stopChannel!(connectionId, ch);
      },
    });
    const expiry = Number(old.expiration);
    const other = createScheduler({
      kv: w.h.kv,
      config: w.h.config,
      log,
      services: { ...services, providerFor: (u) => recording(services.providerFor(u)) },
      clock: () => new Date(expiry - 3600_000 + 1000),
      options: { webhookUrl: `${w.h.url}/api/webhooks/google` },
    });
    await other.reconcileChannels(w.userId);
    const [now] = await liveChannels(w.h);
    assert.notEqual(now.id, old.id);
    assert.deepEqual(calls, [`watch ${now.id}`, `opened ${now.id}`, `stop ${old.id}`]);
    assert.equal((await liveChannels(w.h)).length, 1);
    assert.equal((await getChannel(w.h.kv, old.id))?.state, "stopped");
    // Changes now arrive through the new channel.
    await addEvent(w.h, ANN, "After renewal");
    await until("the mirror", async () => (await liveMirrors(w.h, ANN_WORK)).length === 1);
    assert.ok(
      (await deliveries(w.h)).some((d) => d.channelId === now.id && d.resourceState === "exists"),
    );
    // A late notification of the old channel finds its tombstone: success, nothing queued.
    await idle(w);
    const jobs = (await listJobsOfUser(w.h.kv, w.userId)).length;
    const late = {
      "X-Goog-Channel-ID": old.id,
      "X-Goog-Resource-ID": old.resourceId,
      "X-Goog-Channel-Token": old.token!,
    };
    assert.equal(await notify(w.h.url!, late), 200);
    assert.equal((await listJobsOfUser(w.h.kv, w.userId)).length, jobs);
  }));

Deno.test("push: disabling the rule stops its channel in the emulator", () =>
  withWorld(async (w) => {
    const channel = await syncAndWatch(w);
    await updateRule(w.h.kv, w.userId, w.ruleId, { enabled: false }, { now: w.h.clock.now() });
    const { jobId } = await w.h.scheduler.request(w.userId, { reason: "rule_saved" });
    await w.h.scheduler.wait(w.userId, jobId, 10_000);
    await until("the channel to stop", async () => (await liveChannels(w.h)).length === 0);
    // Its record is a tombstone once the stop returned.
    await until(
      "the tombstone",
      async () => (await getChannel(w.h.kv, channel.id))?.state === "stopped",
    );
    assert.deepEqual((await w.h.scheduler.progress(w.userId)).push.channels, []);
  }));

Deno.test("push: every member of a group is watched, and a change in one syncs the group", () =>
  withWorld(async (w) => {
    const now = () => ({ now: w.h.clock.now() });
    await updateRule(w.h.kv, w.userId, w.ruleId, { enabled: false }, now());
    const { group } = await createGroup(
      w.h.kv,
      w.userId,
      GroupInputSchema.parse({
        name: "Both",
        members: [{ calendar: w.personal }, { calendar: w.work }],
      }),
      now(),
    );
    const { jobId } = await w.h.scheduler.request(w.userId, { reason: "rule_saved" });
    await w.h.scheduler.wait(w.userId, jobId, 10_000);
    const live = await until("both channels", async () => {
      const open = await liveChannels(w.h);
      return open.length === 2 && open;
    });
    assert.deepEqual(live.map((c) => c.calendarId).sort(), [ANN, ANN_WORK].sort());
    await addEvent(w.h, ANN_WORK, "Standup", 8);
    await until("the block in personal", async () => (await liveMirrors(w.h, ANN)).length === 1);
    await idle(w);
    const pushRun = (await runs(w.h, w.userId)).find((r) => r.trigger === "push");
    assert.deepEqual(pushRun?.rules.map((r) => [r.ruleId, r.kind]), [[group.id, "group"]]);
  }));

Deno.test("cron: a tick called twice enqueues one schedule job per user with an enabled rule", () =>
  withWorld(async (w) => {
    const bob = w.h.client("192.0.2.2");
    await bob.signIn(BOB);
    await bob.connect(BOB);
    await bob.connect(BOB_WORK);
    const bobId = (await (await bob.request("/api/me")).json()).id as string;
    const conn = new Map((await bob.connections()).map((c) => [c.email, c.id]));
    await createRule(
      w.h.kv,
      bobId,
      RuleInputSchema.parse({
        name: "Bob's",
        source: { connectionId: conn.get(BOB)!, calendarId: BOB },
        target: { connectionId: conn.get(BOB_WORK)!, calendarId: BOB_WORK },
        enabled: false,
      }),
      { now: w.h.clock.now() },
    );
    const now = new Date();
    const first = await w.h.scheduler.tick(now);
    // The same tick again, as another instance's cron would fire it (Ann's job may be running).
    const second = await w.h.scheduler.tick(new Date(now.getTime() + 1000));
    assert.equal(first.tickId, second.tickId);
    assert.equal(first.created, 1);
    assert.equal(second.created, 0);
    const jobs = await listJobsOfUser(w.h.kv, w.userId);
    assert.deepEqual(jobs.map((j) => j.reason), ["schedule"]);
    assert.deepEqual(await listJobsOfUser(w.h.kv, bobId), []);
    await w.h.scheduler.wait(w.userId, jobs[0].id, 10_000);
    assert.deepEqual((await runs(w.h, w.userId)).map((r) => r.trigger), ["schedule"]);
    const status = await w.h.scheduler.progress(w.userId);
    assert.ok(Date.parse(status.nextScheduledRun!) > now.getTime());
  }));
