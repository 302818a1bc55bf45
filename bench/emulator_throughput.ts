/**
 * Throughput of the Google emulator: starts it as its own process (as benchmarks and the demo run
 * it), then drives events.insert and events.list with plain fetch from a few concurrent workers
 * and prints requests per second for each phase.
 *
 *   deno run -A bench/emulator_throughput.ts [--calls 2000] [--workers 8]
 */
import { parseArgs } from "node:util";
import { startEmulatorProcess } from "./emulator_process.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "2000" },
    workers: { type: "string", default: "8" },
  },
});
const CALLS = Number(values.calls);
const WORKERS = Number(values.workers);
const EMAIL = "bench@example.com";

/** Runs `call(i)` CALLS times across WORKERS workers and prints requests per second. */
async function phase(name: string, call: (i: number) => Promise<Response>): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (next < CALLS) {
      const res = await call(next++);
      if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  }));
  const perSecond = CALLS / ((performance.now() - started) / 1000);
  console.log(`${name.padEnd(48)} ${perSecond.toFixed(0).padStart(6)} req/s`);
}

const emulator = await startEmulatorProcess({
  users: [{
    email: EMAIL,
    name: "Bench",
    calendars: [{ id: EMAIL, summary: EMAIL, timeZone: "UTC", primary: true }],
  }],
});
const base = emulator.url;

try {
  const tokens = await (await fetch(`${base}/__emulator/tokens`, {
    method: "POST",
    body: JSON.stringify({ email: EMAIL }),
  })).json();
  const headers = {
    Authorization: `Bearer ${tokens.access_token}`,
    "content-type": "application/json",
  };
  const events = `${base}/calendar/v3/calendars/primary/events`;

  const day = 86_400_000;
  const at = (i: number) => new Date(Date.UTC(2030, 0, 1) + (i % 365) * day + (i % 9) * 3_600_000);
  await phase("events.insert", (i) =>
    fetch(events, {
      method: "POST",
      headers,
      body: JSON.stringify({
        summary: `Event ${i}`,
        start: { dateTime: at(i).toISOString() },
        end: { dateTime: new Date(at(i).getTime() + 3_600_000).toISOString() },
        extendedProperties: { private: { source: `src${i}` } },
      }),
    }));
  const window = "timeMin=2030-03-01T00:00:00Z&timeMax=2030-03-08T00:00:00Z";
  await phase(
    `events.list (1-week window of ${CALLS} events)`,
    () => fetch(`${events}?singleEvents=true&orderBy=startTime&${window}`, { headers }),
  );
  await phase(
    "events.list (first page of 250)",
    () => fetch(`${events}?maxResults=250`, { headers }),
  );
  const { nextSyncToken } = await (await fetch(`${events}?maxResults=2500`, { headers })).json();
  await phase(
    "events.list (incremental, no changes)",
    () => fetch(`${events}?syncToken=${nextSyncToken}`, { headers }),
  );
  console.log(`(${CALLS} calls per phase, ${WORKERS} concurrent workers, fetch over loopback)`);
} finally {
  await emulator.stop();
}
