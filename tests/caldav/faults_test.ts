/**
 * CalDAV through faults: a loopback proxy in front of a real Radicale fails every fifth request,
 * half of those after the server has applied it (a lost answer: the write happened, busysync
 * never heard). Syncs both ways still converge to exactly one busy block per event, with no
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
import { anEventIcs, connectAlice } from "./support.ts";

const HOUR = 3_600_000;

Deno.test({
  name: needing(
    "caldav faults: a proxy failing every fifth request, syncs converge",
    RADICALE_TOOLS,
  ),
  ignore: toolsMissing(RADICALE_TOOLS),
  fn: async () => {
    await using server = await startRadicale();
    const upstream = new URL(server.baseUrl);
    let n = 0;
    let faults = true;
    const injected = { before: 0, after: 0 };
    const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      const target = new URL(url.pathname + url.search, upstream);
      const fault = faults && ++n % 5 === 0;
      if (fault && n % 10 !== 0) {
        injected.before++;
        return new Response("upstream busy", { status: 503 });
      }
      const body = req.body ? await req.arrayBuffer() : undefined;
      const answer = await fetch(target, {
        method: req.method,
        headers: req.headers,
        body,
        redirect: "manual",
      });
      const bytes = await answer.arrayBuffer();
      if (fault) {
        injected.after++;
        return new Response("bad gateway", { status: 502 });
      }
      // fetch decoded the body: its encoding and length no longer apply.
      const headers = new Headers(answer.headers);
      headers.delete("content-encoding");
      headers.delete("content-length");
      return new Response(bytes, { status: answer.status, headers });
    });
    const proxied = { ...server, baseUrl: `http://127.0.0.1:${proxy.addr.port}/` };
    const w = await startApiWorld({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
    try {
      const direct = await makeCalendar(server.aliceHome, server.alice, "work");
      const calendarId = new URL(new URL(direct).pathname, proxied.baseUrl).href;
      const connectionId = await connectAlice(w.ann, proxied);
      const dav = { connectionId, calendarId };
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
      faults = false;
      outcomes.push((await syncNow(w)).outcome, (await syncNow(w)).outcome);
      assert.ok(injected.before > 0 && injected.after > 0, JSON.stringify(injected));
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
      await proxy.shutdown();
    }
  },
});
