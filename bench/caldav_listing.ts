/**
 * What a CalDAV listing costs through lib/caldav/: on a fresh Radicale and Xandikos (the test
 * servers of tests/support/caldav_servers.ts), 1,000 events are PUT four at a time, then listed
 * as the provider can (sync-collection from no token, plus multiget where the report carries
 * no data; or plus one calendar-query of all events instead), then synced again with nothing
 * changed. Requests (from the meter) and wall ms,
 * medians of `--runs` fresh servers, go to bench/results/caldav_listing.json.
 *
 *   deno run -A bench/caldav_listing.ts [--runs 3] [--events 1000]
 */
import { parseArgs } from "node:util";
import { multigetObjects } from "../lib/caldav/dav_multiget.ts";
import { createObject } from "../lib/caldav/dav_objects.ts";
import { listEventObjects } from "../lib/caldav/dav_query.ts";
import { syncCollection } from "../lib/caldav/dav_sync.ts";
import {
  type CalDavTestServer,
  makeCalendar,
  startRadicale,
  startXandikos,
} from "../tests/support/caldav_servers.ts";
import { aClient, aMeter, anEventIcs } from "../tests/caldav/support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "3" }, events: { type: "string", default: "1000" } },
});
const runs = Number(values.runs);
const events = Number(values.events);
const PARALLEL = 4;
// Shaped like a mirror with a long marker value (~1.7 KB, as measured in the notes, §6).
const FILLER = "x".repeat(900);

interface Figures {
  requests: number;
  ms: number;
}
interface Run {
  startupMs: number;
  puts: Figures;
  fullListing: Figures & { listed: number; multigot: number };
  /** The same listing, with one calendar-query for the data instead of multigets. */
  fullListingByQuery: Figures & { listed: number };
  idleSync: Figures;
}

async function measure<T>(
  meter: ReturnType<typeof aMeter>,
  work: () => Promise<T>,
): Promise<Figures & { value: T }> {
  meter.counts.clear();
  const started = performance.now();
  const value = await work();
  const ms = Math.round(performance.now() - started);
  const requests = [...meter.counts.values()].reduce((a, b) => a + b, 0);
  return { requests, ms, value };
}

async function runOnce(server: CalDavTestServer): Promise<Run> {
  const meter = aMeter();
  const client = aClient(server.alice, meter);
  const cal = await makeCalendar(server.aliceHome, server.alice, "bench");
  const puts = await measure(meter, async () => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < events; i = next++) {
        const uid = `bench-${i}`;
        const ics = anEventIcs({ uid, day: 1 + (i % 28), marker: "1" })
          .replace("X-BUSYSYNC:1", `X-BUSYSYNC:1\r\nX-BUSYSYNC-NOTE:${FILLER}`);
        await createObject(client, `${cal}${uid}.ics`, ics);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  });
  const full = await measure(meter, async () => {
    const listing = await syncCollection(client, cal);
    const missing = listing.changed.filter((c) => c.calendarData === undefined);
    const got = await multigetObjects(client, cal, missing.map((c) => c.href));
    const listed = listing.changed.length - missing.length + got.objects.length;
    return { listing, listed, multigot: got.objects.length };
  });
  if (full.value.listed !== events) {
    throw new Error(`listed ${full.value.listed} of ${events} events on ${server.name}`);
  }
  const byQuery = await measure(meter, async () => {
    const listing = await syncCollection(client, cal);
    const missing = listing.changed.some((c) => c.calendarData === undefined);
    return missing ? (await listEventObjects(client, cal)).length : listing.changed.length;
  });
  if (byQuery.value !== events) {
    throw new Error(`the query listed ${byQuery.value} of ${events} events on ${server.name}`);
  }
  const idle = await measure(meter, () => syncCollection(client, cal, full.value.listing.cursor));
  if (idle.value.changed.length || idle.value.deleted.length) {
    throw new Error(`an idle sync on ${server.name} listed changes`);
  }
  return {
    startupMs: server.startupMs,
    puts: { requests: puts.requests, ms: puts.ms },
    fullListing: {
      requests: full.requests,
      ms: full.ms,
      listed: full.value.listed,
      multigot: full.value.multigot,
    },
    fullListingByQuery: { requests: byQuery.requests, ms: byQuery.ms, listed: byQuery.value },
    idleSync: { requests: idle.requests, ms: idle.ms },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2);
}

const result: Record<string, unknown> = {
  when: new Date().toISOString(),
  events,
  parallelPuts: PARALLEL,
  runs,
};
for (const start of [startRadicale, startXandikos]) {
  const all: Run[] = [];
  let name = "";
  for (let i = 0; i < runs; i++) {
    await using server = await start();
    name = server.name;
    console.log(`${name} run ${i + 1}/${runs}`);
    all.push(await runOnce(server));
  }
  const pick = (f: (r: Run) => number) => median(all.map(f));
  result[name] = {
    startupMs: pick((r) => r.startupMs),
    puts: { requests: pick((r) => r.puts.requests), ms: pick((r) => r.puts.ms) },
    fullListing: {
      requests: pick((r) => r.fullListing.requests),
      ms: pick((r) => r.fullListing.ms),
      multigot: pick((r) => r.fullListing.multigot),
    },
    fullListingByQuery: {
      requests: pick((r) => r.fullListingByQuery.requests),
      ms: pick((r) => r.fullListingByQuery.ms),
    },
    idleSync: { requests: pick((r) => r.idleSync.requests), ms: pick((r) => r.idleSync.ms) },
    runs: all,
  };
}
const out = new URL("results/caldav_listing.json", import.meta.url);
await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
console.log(
  JSON.stringify(result, (k, v) => (k === "runs" && Array.isArray(v) ? undefined : v), 2),
);
