/**
 * A feed into a CalDAV server (a real Radicale): a rule from the feed writes busy blocks into a
 * CalDAV calendar, follows a move and a removal there, and a group of the feed, the CalDAV
 * calendar and a Google calendar blocks the feed's time in both writable members while
 * nothing is ever written into the feed.
 */
import assert from "node:assert/strict";
import { type ApiWorld, eventsIn, startApiWorld, syncNow } from "../api/support.ts";
import { ANN_WORK } from "../support/accounts.ts";
import {
  basic,
  type CalDavTestServer,
  makeCalendar,
  RADICALE_TOOLS,
  startRadicale,
  toolsMissing,
} from "../support/caldav_servers.ts";
import { needing } from "../support/infrastructure.ts";
import { connectAlice } from "../caldav/support.ts";
import { daysAhead, feed, type FeedServer, startFeedServer, utc, vevent } from "./support.ts";

/** The DTSTARTs of the busy blocks in the CalDAV calendar, sorted. */
async function blocksIn(dav: CalDavTestServer, calendarUrl: string): Promise<string[]> {
  const r = await fetch(calendarUrl, {
    method: "REPORT",
    headers: { authorization: basic(dav.alice), depth: "1", "content-type": "application/xml" },
    body: `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" ` +
      `xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>` +
      `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>` +
      `</C:comp-filter></C:filter></C:calendar-query>`,
  });
  const text = await r.text();
  return [...text.matchAll(/DTSTART[^:\r\n]*:(\d{8}T\d{6}Z)/g)].map((m) => m[1]).sort();
}

async function addFeed(w: ApiWorld, server: FeedServer) {
  const res = await w.ann.request("/api/user/connections/ics", {
    method: "POST",
    json: { url: server.url, name: "Course" },
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return { connectionId: body.connection.id as string, calendarId: "feed" };
}

async function created(w: ApiWorld, path: string, json: unknown) {
  const res = await w.ann.request(path, { method: "POST", json });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

Deno.test({
  name: needing(
    "ics feeds into CalDAV: a rule and a group fill a Radicale calendar",
    RADICALE_TOOLS,
  ),
  ignore: toolsMissing(RADICALE_TOOLS),
  fn: async (t) => {
    await using dav = await startRadicale();
    await using server = await startFeedServer();
    const w = await startApiWorld({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
    try {
      const calendarUrl = await makeCalendar(dav.aliceHome, dav.alice, "work", {
        displayName: "Work (CalDAV)",
      });
      const target = { connectionId: await connectAlice(w.ann, dav), calendarId: calendarUrl };
      const lecture = daysAhead(1, 10);
      const seminar = daysAhead(2, 14);
      await server.write(feed([
        vevent("lecture@course", "Lecture", lecture, 2),
        vevent("seminar@course", "Seminar", seminar, 1, ["RRULE:FREQ=DAILY;COUNT=2"]),
      ]));
      const source = await addFeed(w, server);
      const rule = await created(w, "/api/rules", { name: "Course into work", source, target });

      await t.step("the feed's events and instances become busy blocks in CalDAV", async () => {
        assert.equal((await syncNow(w)).outcome, "ok");
        const day = 24 * 3_600_000;
        assert.deepEqual(
          await blocksIn(dav, calendarUrl),
          [lecture, seminar, new Date(seminar.getTime() + day)].map(utc).sort(),
        );
      });

      await t.step("a moved and a removed event are followed there", async () => {
        const later = daysAhead(1, 15);
        await server.write(feed([vevent("lecture@course", "Lecture", later, 2)]));
        assert.equal((await syncNow(w)).outcome, "ok");
        assert.deepEqual(await blocksIn(dav, calendarUrl), [utc(later)]);
      });

      await t.step("a group of the feed, CalDAV and Google blocks the feed in both", async () => {
        const res = await w.ann.request(`/api/rules/${rule.id}`, { method: "DELETE" });
        await res.body?.cancel();
        assert.ok(res.status < 300, `deleting the rule answered ${res.status}`);
        await syncNow(w);
        assert.deepEqual(await blocksIn(dav, calendarUrl), [], "the rule took its block along");
        await created(w, "/api/groups", {
          name: "Course, work and Google",
          members: [{ calendar: source }, { calendar: target }, { calendar: w.cal.work }],
        });
        assert.equal((await syncNow(w)).outcome, "ok");
        const later = daysAhead(1, 15);
        assert.deepEqual(await blocksIn(dav, calendarUrl), [utc(later)]);
        const busy = (await eventsIn(w.h, ANN_WORK)).filter((e) => e.summary === "Busy");
        // The feed's lecture, and nothing from CalDAV (its only event is a block, not copied).
        assert.equal(busy.length, 1);
      });
    } finally {
      await w.h.close();
    }
  },
});
