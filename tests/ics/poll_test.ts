/**
 * The feed poll: feeds have no push, so every BUSYSYNC_ICS_POLL_MINUTES a tick queues a "poll"
 * sync of just the rules and groups that read a feed, once per tick, on its own numbering
 * beside the CalDAV poll, and the run it makes picks up a change of the feed.
 */
import assert from "node:assert/strict";
import { listJobsOfUser } from "../../lib/db/jobs.ts";
import { aRule, eventsIn, startApiWorld, syncNow } from "../api/support.ts";
import { ANN_WORK } from "../support/accounts.ts";
import { daysAhead, feed, startFeedServer, vevent } from "./support.ts";

Deno.test("ics poll: one poll job per tick for the rules reading a feed, and its run picks up the change", async () => {
  await using server = await startFeedServer();
  const w = await startApiWorld({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
  try {
    const added = await (await w.ann.request("/api/user/connections/ics", {
      method: "POST",
      json: { url: server.url, name: "Rota" },
    })).json();
    const source = { connectionId: added.connection.id, calendarId: "feed" };
    const post = async (body: unknown) =>
      await (await w.ann.request("/api/rules", { method: "POST", json: body })).json();
    const fromFeed = await post({ name: "Rota into work", source, target: w.cal.work });
    await post(aRule(w.cal, { name: "Google only", target: w.cal.team }));
    assert.equal((await syncNow(w)).outcome, "ok");

    await server.write(feed([vevent("shift@rota", "Late shift", daysAhead(1, 16))]));
    const now = w.h.clock.now();
    assert.equal((await w.h.scheduler.pollTick(now)).created, 0, "the CalDAV poll has no one");
    const first = await w.h.scheduler.pollTick(now, "ics");
    const again = await w.h.scheduler.pollTick(now, "ics");
    assert.equal(first.created, 1);
    assert.equal(again.created, 0, "the same tick queues nobody twice");
    const job = (await listJobsOfUser(w.h.kv, w.annId)).find((j) => j.reason === "poll");
    assert.ok(job, "a poll job");
    assert.deepEqual(job.ruleIds, [fromFeed.id], "only the rule reading the feed");
    const run = await w.h.scheduler.wait(w.annId, job.id, 20_000);
    assert.equal(run.outcome, "ok");
    const busy = (await eventsIn(w.h, ANN_WORK)).filter((e) => e.summary === "Busy");
    assert.equal(busy.length, 1, "the poll's run mirrored the feed's new event");
  } finally {
    await w.h.close();
  }
});
