/**
 * The engine over CalDAV, against real Radicale and Xandikos servers, mixed with Google (the
 * emulator): events in a CalDAV calendar become busy blocks in Google and back, through moves,
 * deletes, a recurring series with a moved and a cancelled instance, both-ways rules without
 * loops, a run that died between its writes and its ledger, a rule deleted with its blocks, and
 * a sync token the server no longer accepts.
 */
import assert from "node:assert/strict";
import { getRun } from "../../lib/db/history.ts";
import { keys } from "../../lib/db/keys.ts";
import { forgetLedger } from "../../lib/db/ledger.ts";
import { calendarKey } from "../../lib/model/calendar_ref.ts";
import { type ApiWorld, eventsIn, startApiWorld, syncNow } from "../api/support.ts";
import { ANN_WORK } from "../support/accounts.ts";
import {
  basic,
  CALDAV_TEST_SERVERS,
  type CalDavTestServer,
  makeCalendar,
  toolsMissing,
} from "../support/caldav_servers.ts";
import { needing } from "../support/infrastructure.ts";
import { connectAlice } from "./support.ts";

const HOUR = 3_600_000;

/** `20270104T090000Z` for an instant. */
function utc(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** A calendar object: one VEVENT per entry (the first the master), in UTC. */
function calendarObject(vevents: string[][]): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//busysync//scenario tests//EN",
    ...vevents.flatMap((lines) => ["BEGIN:VEVENT", ...lines, "END:VEVENT"]),
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

function vevent(uid: string, summary: string, start: Date, hours = 1, extra: string[] = []) {
  return [
    `UID:${uid}`,
    "DTSTAMP:20270101T000000Z",
    `DTSTART:${utc(start)}`,
    `DTEND:${utc(new Date(start.getTime() + hours * HOUR))}`,
    `SUMMARY:${summary}`,
    ...extra,
  ];
}

/** Tomorrow at `hour`:00 UTC (the harness clock follows real time). */
function tomorrowAt(hour: number, days = 1): Date {
  const at = new Date(Date.now() + days * 24 * HOUR);
  at.setUTCHours(hour, 0, 0, 0);
  return at;
}

interface World extends ApiWorld {
  server: CalDavTestServer;
  /** The CalDAV calendar ("Work (CalDAV)") and its connection. */
  dav: { connectionId: string; calendarId: string };
  put(name: string, ics: string): Promise<void>;
  remove(name: string): Promise<void>;
  /** The objects in the CalDAV calendar, as raw text by href. */
  objects(): Promise<string[]>;
  busyInGoogle(): Promise<{ id: string; summary?: string }[]>;
}

async function world(server: CalDavTestServer): Promise<World> {
  const w = await startApiWorld({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
  const calendarId = await makeCalendar(server.aliceHome, server.alice, "work", {
    displayName: "Work (CalDAV)",
  });
  // Neither test server names alice's address (Radicale's address set is her principal URL):
  // she gives it, as a Nextcloud user would, so invitations she declines are known as hers.
  const connectionId = await connectAlice(w.ann, server, { address: "Alice@Example.org" });
  const auth = { authorization: basic(server.alice) };
  const send = async (method: string, name: string, ics?: string) => {
    const r = await fetch(new URL(name, calendarId), {
      method,
      headers: { ...auth, ...(ics ? { "content-type": "text/calendar; charset=utf-8" } : {}) },
      body: ics,
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${name}: ${r.status} ${text.slice(0, 200)}`);
  };
  return {
    ...w,
    server,
    dav: { connectionId, calendarId },
    put: (name, ics) => send("PUT", name, ics),
    remove: (name) => send("DELETE", name),
    async objects() {
      const r = await fetch(calendarId, {
        method: "REPORT",
        headers: { ...auth, depth: "1", "content-type": "application/xml" },
        body: `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" ` +
          `xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>` +
          `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>` +
          `</C:comp-filter></C:filter></C:calendar-query>`,
      });
      const text = await r.text();
      return [...text.matchAll(/BEGIN:VCALENDAR[\s\S]*?END:VCALENDAR/g)].map((m) =>
        m[0].replace(/&#13;|\r/g, "")
      );
    },
    async busyInGoogle() {
      return (await eventsIn(w.h, ANN_WORK)).filter((e) => e.summary === "Busy");
    },
  };
}

async function rule(w: World, body: Record<string, unknown>): Promise<string> {
  const res = await w.ann.request("/api/rules", { method: "POST", json: body });
  const rule = await res.json();
  assert.equal(res.status, 201, JSON.stringify(rule));
  return rule.id;
}

/** Syncs; returns the run's requests by method. */
async function synced(w: World): Promise<Record<string, number>> {
  const run = await syncNow(w);
  assert.equal(run.outcome, "ok", JSON.stringify(run));
  return (await getRun(w.h.kv, w.annId, run.id))!.run.apiCalls.methods;
}

for (const { name, start, tools } of CALDAV_TEST_SERVERS) {
  Deno.test({
    name: needing(`caldav engine on ${name}: CalDAV and Google mirror each other`, tools),
    ignore: toolsMissing(tools),
    fn: async (t) => {
      await using server = await start();
      const w = await world(server);
      try {
        const ruleId = await rule(w, {
          name: "CalDAV work into Google",
          source: w.dav,
          target: w.cal.work,
        });

        await t.step("a new event becomes one busy block; moved, the block moves", async () => {
          await w.put("dentist.ics", calendarObject([vevent("dentist", "Dentist", tomorrowAt(9))]));
          const first = await synced(w);
          assert.equal((await w.busyInGoogle()).length, 1);
          // The nearest weeks and then the whole window come from one sync-collection report.
          assert.equal(first["caldav.report.sync"], 1, JSON.stringify(first));
          await w.put(
            "dentist.ics",
            calendarObject([vevent("dentist", "Dentist", tomorrowAt(14))]),
          );
          await synced(w);
          const blocks = await w.h.admin(
            `calendars/${encodeURIComponent(ANN_WORK)}/events`,
            undefined,
            "GET",
          ) as { items: { summary?: string; status: string; start?: { dateTime?: string } }[] };
          const live = blocks.items.filter((e) => e.status !== "cancelled" && e.summary === "Busy");
          assert.equal(live.length, 1);
          assert.equal(Date.parse(live[0].start!.dateTime!), tomorrowAt(14).getTime());
        });

        await t.step("deleted, its block goes", async () => {
          await w.remove("dentist.ics");
          await synced(w);
          assert.equal((await w.busyInGoogle()).length, 0);
        });

        await t.step(
          "a daily series with a moved and a cancelled instance: one block per live instance, " +
            "and none once the series goes",
          async () => {
            const first = tomorrowAt(8);
            const moved = new Date(first.getTime() + 24 * HOUR);
            const cancelled = new Date(first.getTime() + 2 * 24 * HOUR);
            await w.put(
              "standup.ics",
              calendarObject([
                vevent("standup", "Standup", first, 1, [
                  "RRULE:FREQ=DAILY;COUNT=4",
                  `EXDATE:${utc(cancelled)}`,
                ]),
                vevent("standup", "Standup (late)", new Date(moved.getTime() + 3 * HOUR), 1, [
                  `RECURRENCE-ID:${utc(moved)}`,
                ]),
              ]),
            );
            await synced(w);
            assert.equal((await w.busyInGoogle()).length, 3);
            // One more instance cancelled by an edit of the series: its block goes.
            await w.put(
              "standup.ics",
              calendarObject([
                vevent("standup", "Standup", first, 1, [
                  "RRULE:FREQ=DAILY;COUNT=4",
                  `EXDATE:${utc(cancelled)}`,
                  `EXDATE:${utc(new Date(first.getTime() + 3 * 24 * HOUR))}`,
                ]),
                vevent("standup", "Standup (late)", new Date(moved.getTime() + 3 * HOUR), 1, [
                  `RECURRENCE-ID:${utc(moved)}`,
                ]),
              ]),
            );
            await synced(w);
            assert.equal((await w.busyInGoogle()).length, 2);
            await w.remove("standup.ics");
            await synced(w);
            assert.equal((await w.busyInGoogle()).length, 0);
          },
        );

        await t.step(
          "a sync token the server refuses means a full listing, no duplicate",
          async () => {
            await w.put("review.ics", calendarObject([vevent("review", "Review", tomorrowAt(11))]));
            await synced(w);
            assert.equal((await w.busyInGoogle()).length, 1);
            const key = keys.cursor(w.annId, calendarKey(w.dav));
            const entry = await w.h.kv.get<{ token: string }>(key);
            assert.ok(entry.value, "the CalDAV calendar has a cursor");
            const stored = JSON.parse(entry.value.token);
            await w.h.kv.set(key, {
              ...entry.value,
              token: JSON.stringify({ ...stored, token: `${stored.token}-unknown` }),
            });
            await synced(w);
            assert.equal((await w.busyInGoogle()).length, 1);
          },
        );

        await t.step(
          "Google and CalDAV both ways: blocks in CalDAV, and no block of a block anywhere",
          async () => {
            const team = w.cal.team;
            const back = await rule(w, {
              name: "Team and CalDAV, both ways",
              source: team,
              target: w.dav,
              bidirectional: true,
            });
            await w.h.admin(`calendars/${encodeURIComponent(team.calendarId)}/events`, {
              summary: "Board meeting",
              start: { dateTime: tomorrowAt(15).toISOString() },
              end: { dateTime: tomorrowAt(16).toISOString() },
            });
            await synced(w);
            await synced(w);
            const mirrors = (await w.objects()).filter((o) => /X-BUSYSYNC/.test(o));
            assert.equal(mirrors.length, 1, mirrors.join("\n---\n"));
            assert.match(mirrors[0], /TRANSP:OPAQUE/);
            assert.match(mirrors[0], /CLASS:PRIVATE/);
            assert.doesNotMatch(mirrors[0], /Board meeting/);
            assert.doesNotMatch(mirrors[0], /ORGANIZER|ATTENDEE/);
            // "Review" went to the team calendar; "Board meeting"'s CalDAV block went nowhere.
            const inTeam = (await eventsIn(w.h, team.calendarId)).filter((e) =>
              e.summary === "Busy"
            );
            assert.equal(inTeam.length, 1);
            assert.equal((await w.busyInGoogle()).length, 1, "the work calendar has Review only");

            // A run that died after its writes and before their ledger entries: the next runs
            // find the blocks under their ids (412 on create, busysync's marker) and adopt them.
            await forgetLedger(w.h.kv, w.annId, { ruleId: back });
            const { jobId } = await w.h.scheduler.request(w.annId, {
              reason: "manual",
              full: true,
            });
            const full = await w.h.scheduler.wait(w.annId, jobId, 20_000);
            assert.equal(full.outcome, "ok", JSON.stringify(full));
            await synced(w);
            assert.equal(
              (await w.objects()).filter((o) => /X-BUSYSYNC/.test(o)).length,
              1,
              "no duplicate after a lost ledger",
            );
            assert.equal(
              (await eventsIn(w.h, team.calendarId)).filter((e) => e.summary === "Busy").length,
              1,
            );

            const del = await w.ann.request(`/api/rules/${back}`, { method: "DELETE" });
            assert.equal(del.status, 200, await del.text());
            await synced(w);
            assert.equal((await w.objects()).filter((o) => /X-BUSYSYNC/.test(o)).length, 0);
          },
        );

        await t.step("an all-day and a free event are left out, as from Google", async () => {
          const day = tomorrowAt(0, 2).toISOString().slice(0, 10).replace(/-/g, "");
          await w.put(
            "holiday.ics",
            calendarObject([[
              "UID:holiday",
              "DTSTAMP:20270101T000000Z",
              `DTSTART;VALUE=DATE:${day}`,
              "SUMMARY:Holiday",
            ]]),
          );
          await w.put(
            "focus.ics",
            calendarObject([vevent("focus", "Focus", tomorrowAt(13), 1, ["TRANSP:TRANSPARENT"])]),
          );
          await synced(w);
          assert.equal((await w.busyInGoogle()).length, 1, "still only Review");
        });

        await t.step(
          "an invitation she declined is left out; accepted, it blocks time",
          async () => {
            const invitation = (partstat: string) =>
              calendarObject([vevent("offsite", "Offsite", tomorrowAt(15), 1, [
                "ORGANIZER:mailto:boss@example.org",
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@example.org",
                `ATTENDEE;PARTSTAT=${partstat}:mailto:alice@example.org`,
              ])]);
            await w.put("offsite.ics", invitation("DECLINED"));
            await synced(w);
            assert.equal((await w.busyInGoogle()).length, 1, "still only Review");
            await w.put("offsite.ics", invitation("ACCEPTED"));
            await synced(w);
            assert.equal((await w.busyInGoogle()).length, 2, "Review and the offsite");
            await w.remove("offsite.ics");
            await synced(w);
          },
        );

        await t.step(
          "a group of a Google and a CalDAV calendar, then deleted with its blocks",
          async () => {
            const team = w.cal.team;
            const res = await w.ann.request("/api/groups", {
              method: "POST",
              json: {
                name: "Family and CalDAV",
                members: [{ calendar: team }, { calendar: w.dav }],
              },
            });
            const group = await res.json();
            assert.equal(res.status, 201, JSON.stringify(group));
            await w.h.admin(`calendars/${encodeURIComponent(team.calendarId)}/events`, {
              summary: "School play",
              start: { dateTime: tomorrowAt(17).toISOString() },
              end: { dateTime: tomorrowAt(18).toISOString() },
            });
            await synced(w);
            const teamBlocks = async () =>
              (await eventsIn(w.h, team.calendarId)).filter((e) => e.summary === "Busy");
            assert.equal((await teamBlocks()).length, 1, "Review blocks the team calendar");
            const inDav = (await w.objects()).filter((o) => /X-BUSYSYNC/.test(o));
            assert.ok(inDav.length >= 1, "School play blocks the CalDAV calendar");
            assert.ok(inDav.every((o) => !/School play/.test(o)));
            const del = await w.ann.request(`/api/groups/${group.id}`, { method: "DELETE" });
            assert.equal(del.status, 200, await del.text());
            await synced(w);
            assert.equal((await teamBlocks()).length, 0);
            assert.equal((await w.objects()).filter((o) => /X-BUSYSYNC/.test(o)).length, 0);
          },
        );

        await t.step("deleting the rule removes its blocks from Google", async () => {
          const del = await w.ann.request(`/api/rules/${ruleId}`, { method: "DELETE" });
          assert.equal(del.status, 200, await del.text());
          await synced(w);
          assert.equal((await w.busyInGoogle()).length, 0);
        });
      } finally {
        await w.h.close();
      }
    },
  });
}
