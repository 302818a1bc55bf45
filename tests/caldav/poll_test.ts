/**
 * The CalDAV poll: CalDAV has no push, so every BUSYSYNC_CALDAV_POLL_MINUTES a tick queues a
 * "poll" sync of just the rules and groups that read a CalDAV calendar, once per tick whichever
 * instance's cron fires, and the run it makes picks up a change on the server.
 */
import assert from "node:assert/strict";
import { listJobsOfUser } from "../../lib/db/jobs.ts";
import { aRule, eventsIn, startApiWorld, syncNow } from "../api/support.ts";
import { ANN_WORK } from "../support/accounts.ts";
import {
  basic,
  makeCalendar,
  RADICALE_TOOLS,
  startRadicale,
  toolsMissing,
} from "../support/caldav_servers.ts";
import { needing } from "../support/infrastructure.ts";
import { anEventIcs, connectAlice } from "./support.ts";

Deno.test({
  name: needing("caldav poll: one poll job per tick for the rules reading CalDAV", RADICALE_TOOLS),
  ignore: toolsMissing(RADICALE_TOOLS),
  fn: async () => {
    await using server = await startRadicale();
    const w = await startApiWorld({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
    try {
      const calendarId = await makeCalendar(server.aliceHome, server.alice, "work");
      const dav = { connectionId: await connectAlice(w.ann, server), calendarId };
      const post = async (body: unknown) =>
        await (await w.ann.request("/api/rules", { method: "POST", json: body })).json();
      const fromDav = await post({ name: "CalDAV into work", source: dav, target: w.cal.work });
      await post(aRule(w.cal, { name: "Google only", target: w.cal.team }));
      assert.equal((await syncNow(w)).outcome, "ok");

      const start = new Date(Date.now() + 26 * 3_600_000);
      const put = await fetch(new URL("poll.ics", calendarId), {
        method: "PUT",
        headers: { authorization: basic(server.alice), "content-type": "text/calendar" },
        body: anEventIcs({ uid: "poll", summary: "Found by the poll", start }),
      });
      await put.body?.cancel();
      assert.equal(put.status, 201);

      const now = w.h.clock.now();
      const first = await w.h.scheduler.pollTick(now);
      const again = await w.h.scheduler.pollTick(now);
      assert.equal(first.created, 1);
      assert.equal(again.created, 0, "the same tick queues nobody twice");
      const job = (await listJobsOfUser(w.h.kv, w.annId)).find((j) => j.reason === "poll");
      assert.ok(job, "a poll job");
      assert.deepEqual(job.ruleIds, [fromDav.id], "only the rule reading CalDAV");
      const run = await w.h.scheduler.wait(w.annId, job.id, 20_000);
      assert.equal(run.outcome, "ok");
      const busy = (await eventsIn(w.h, ANN_WORK)).filter((e) => e.summary === "Busy");
      assert.equal(busy.length, 1, "the poll's run mirrored the new CalDAV event");
    } finally {
      await w.h.close();
    }
  },
});
