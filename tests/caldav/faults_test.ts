/**
 * CalDAV through faults: a loopback proxy in front of a real Radicale fails 30% of the
 * requests (tests/support/caldav_fault_proxy.ts), some after the server has applied them (a lost
 * answer: the write happened, busysync never heard), some with an answer cut off half-way. Syncs both ways still converge to exactly one busy block per event, with no
 * duplicate and nothing left over, once the faults stop or are retried through.
 */
import assert from "node:assert/strict";
import { eventsIn, startApiWorld, syncNow } from "../api/support.ts";
import { ANN_WORK } from "../support/accounts.ts";
import {
  basic,
  makeCalendar,
  RADICALE_TOOLS,
  startRadicale,
  toolsMissing,
} from "../support/caldav_servers.ts";
import { needing } from "../support/infrastructure.ts";
import { startCalDavFaultProxy } from "../support/caldav_fault_proxy.ts";
import { createRandom } from "../reliability/random.ts";
import { anEventIcs, connectAlice } from "./support.ts";

const HOUR = 3_600_000;

Deno.test({
  name: needing(
    "caldav faults: a proxy failing 30% of the requests, syncs converge",
    RADICALE_TOOLS,
  ),
  ignore: toolsMissing(RADICALE_TOOLS),
  fn: async () => {
    await using server = await startRadicale();
    await using proxy = startCalDavFaultProxy(server.baseUrl);
    const proxied = { ...server, baseUrl: proxy.baseUrl };
    const w = await startApiWorld({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
    try {
      const direct = await makeCalendar(server.aliceHome, server.alice, "work");
      const calendarId = new URL(new URL(direct).pathname, proxied.baseUrl).href;
      const connectionId = await connectAlice(w.ann, proxied);
      const dav = { connectionId, calendarId };
      // Connecting makes no retries (a person sees the answer): faults start after it.
      const random = createRandom(20261203);
      proxy.setFaults({ rate: 0.3, random: () => random.next() });
      for (
        const [name, source, target] of [
          ["CalDAV into work", dav, w.cal.work],
          ["Team into CalDAV", w.cal.team, dav],
        ] as const
      ) {
        const res = await w.ann.request("/api/rules", {
          method: "POST",
          json: { name, source, target },
        });
        assert.equal(res.status, 201, await res.text());
      }
      const base = Date.now() + 24 * HOUR;
      for (let i = 0; i < 10; i++) {
        const start = new Date(base + i * 2 * HOUR);
        const put = await fetch(new URL(`own${i}.ics`, direct), {
          method: "PUT",
          headers: { authorization: basic(server.alice), "content-type": "text/calendar" },
          body: anEventIcs({ uid: `own${i}`, summary: `Own ${i}`, start }),
        });
        await put.body?.cancel();
        assert.equal(put.status, 201);
        await w.h.admin(`calendars/${encodeURIComponent(w.cal.team.calendarId)}/events`, {
          summary: `Team ${i}`,
          start: { dateTime: new Date(start.getTime() + HOUR).toISOString() },
          end: { dateTime: new Date(start.getTime() + 2 * HOUR).toISOString() },
        });
      }
      const outcomes: string[] = [];
      for (let round = 0; round < 6; round++) outcomes.push((await syncNow(w)).outcome);
      proxy.setFaults(undefined);
      outcomes.push((await syncNow(w)).outcome, (await syncNow(w)).outcome);
      const injected = proxy.stats.faults;
      assert.ok(injected.lostAnswer > 0 && injected.brokenBody > 0, JSON.stringify(injected));
      assert.equal(outcomes.at(-1), "ok", outcomes.join(", "));

      const inWork = (await eventsIn(w.h, ANN_WORK)).filter((e) => e.summary === "Busy");
      assert.equal(inWork.length, 10, "one block per CalDAV event in Google");
      const listing = await fetch(direct, {
        method: "PROPFIND",
        headers: { authorization: basic(server.alice), depth: "1" },
      });
      const names = [...(await listing.text()).matchAll(/<href>([^<]+\.ics)<\/href>/g)]
        .map((m) => m[1].split("/").at(-1)!);
      const mirrors = names.filter((name) => !name.startsWith("own"));
      assert.equal(mirrors.length, 10, `one block per team event in CalDAV: ${names.join(" ")}`);
      assert.equal(new Set(mirrors).size, mirrors.length, "no duplicate");
    } finally {
      await w.h.close();
    }
  },
});
