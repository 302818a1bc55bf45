/**
 * What busysync's sync costs over CalDAV, end to end (engine, provider, real server): on a
 * fresh Radicale and Xandikos, 1,000 events are PUT into a calendar, a rule mirrors it into a
 * Google calendar (the emulator), and the first sync (a full listing and 1,000 busy blocks) and a
 * second one with nothing changed are timed, with the CalDAV requests each made (the Google
 * writes are the emulator's and not the point here). Then the other way: 1,000 Google events
 * become 1,000 busy blocks in the CalDAV calendar (each a conditional PUT read back). Medians of
 * `--runs` fresh servers, alternating the servers, go to bench/results/caldav_sync.json.
 *
 *   deno run -A bench/caldav_sync.ts [--runs 3] [--events 1000]
 */
import { parseArgs } from "node:util";
import { getRun } from "../lib/db/history.ts";
import { createRule } from "../lib/db/rules.ts";
import { RuleInputSchema } from "../lib/model/rule.ts";
import { startApiWorld } from "../tests/api/support.ts";
import {
  basic,
  type CalDavTestServer,
  makeCalendar,
  startRadicale,
  startXandikos,
} from "../tests/support/caldav_servers.ts";
import { anEventIcs, connectAlice } from "../tests/caldav/support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "3" }, events: { type: "string", default: "1000" } },
});
const runs = Number(values.runs);
const events = Number(values.events);

interface Figures {
  ms: number;
  caldavRequests: number;
  methods: Record<string, number>;
}

/** Which way the 1,000 events go: out of the CalDAV calendar, or into it as busy blocks. */
type Direction = "fromCalDav" | "intoCalDav";

async function once(
  server: CalDavTestServer,
  direction: Direction,
): Promise<{ first: Figures; idle: Figures }> {
  const w = await startApiWorld({
    BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32",
    BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE: "100000",
    BUSYSYNC_GOOGLE_CREATES_PER_DAY: "100000",
  });
  try {
    const calendarId = await makeCalendar(server.aliceHome, server.alice, "bench");
    const base = Date.now() + 3_600_000;
    const addToGoogle = async (i: number) => {
      const start = base + i * 3 * 3_600_000;
      await w.h.admin(`calendars/${encodeURIComponent(w.cal.team.calendarId)}/events`, {
        summary: `Event ${i}`,
        start: { dateTime: new Date(start).toISOString() },
        end: { dateTime: new Date(start + 3_600_000).toISOString() },
      });
    };
    const put = async (i: number) => {
      const start = new Date(base + i * 3 * 3_600_000);
      const res = await fetch(new URL(`e${i}.ics`, calendarId), {
        method: "PUT",
        headers: { authorization: basic(server.alice), "content-type": "text/calendar" },
        body: anEventIcs({ uid: `e${i}`, summary: `Event ${i}`, start }),
      });
      await res.body?.cancel();
      if (res.status !== 201) throw new Error(`PUT e${i}: ${res.status}`);
    };
    const add = direction === "fromCalDav" ? put : addToGoogle;
    for (let i = 0; i < events; i += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, events - i) }, (_, k) => add(i + k)),
      );
    }
    const connectionId = await connectAlice(w.ann, server);
    const dav = { connectionId, calendarId };
    // Stored directly, so no sync starts before the measured one.
    await createRule(
      w.h.kv,
      w.annId,
      RuleInputSchema.parse({
        name: "Bench",
        source: direction === "fromCalDav" ? dav : w.cal.team,
        target: direction === "fromCalDav" ? w.cal.work : dav,
        // Long enough for every event (they are 3 h apart).
        window: { daysBack: 1, daysAhead: Math.ceil(events / 8) + 2 },
      }),
      { now: w.h.clock.now() },
    );
    const measure = async (): Promise<Figures> => {
      const t0 = performance.now();
      // Writing 1,000 blocks into a CalDAV server takes longer than syncNow's 20 s.
      const { jobId } = await w.h.scheduler.request(w.annId, { reason: "manual" });
      const run = await w.h.scheduler.wait(w.annId, jobId, 600_000);
      const ms = performance.now() - t0;
      if (run.outcome !== "ok") throw new Error(`run ${run.outcome}`);
      const stored = await getRun(w.h.kv, w.annId, run.id);
      const methods = stored!.run.apiCalls.methods;
      const caldav = Object.fromEntries(
        Object.entries(methods).filter(([m]) => m.startsWith("caldav.")),
      );
      return {
        ms: Math.round(ms),
        caldavRequests: Object.values(caldav).reduce((a, b) => a + b, 0),
        methods,
      };
    };
    const first = await measure();
    const idle = await measure();
    return { first, idle };
  } finally {
    await w.h.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results: Record<string, { first: Figures; idle: Figures }[]> = {};
for (let r = 0; r < runs; r++) {
  for (const [name, start] of [["radicale", startRadicale], ["xandikos", startXandikos]] as const) {
    for (const direction of ["fromCalDav", "intoCalDav"] as const) {
      await using server = await start();
      const key = direction === "fromCalDav" ? name : `${name} (busy blocks into CalDAV)`;
      (results[key] ??= []).push(await once(server, direction));
      console.log(key, JSON.stringify(results[key].at(-1)));
    }
  }
}
const summary = Object.fromEntries(
  Object.entries(results).map(([name, list]) => [name, {
    runs: list.length,
    firstSyncMs: median(list.map((r) => r.first.ms)),
    firstSyncCalDavRequests: median(list.map((r) => r.first.caldavRequests)),
    idleSyncMs: median(list.map((r) => r.idle.ms)),
    idleSyncCalDavRequests: median(list.map((r) => r.idle.caldavRequests)),
    lastRun: list.at(-1),
  }]),
);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/caldav_sync.json", import.meta.url),
  JSON.stringify({ events, at: new Date().toISOString(), summary }, null, 2) + "\n",
);
console.log(JSON.stringify(summary, null, 2));
