/**
 * Push latency: with push on, how long from a change in a source calendar (an event created in
 * the emulator) until its mirror exists in the target, over 100 changes made one after another
 * (each waits for its mirror, so every figure is one notification → debounced job → run). Then
 * throughput: 200 changes whose notifications are held back and released at once, timed from
 * the first to the last notification the app acknowledged.
 *
 * The real pieces: the app served over HTTP with the default scheduler options (debounce
 * included), the emulator delivering real notifications, the real engine and a KV file. The
 * emulator runs in this process (it is what the test harness starts), so it shares the CPU
 * with the app: the figures are an upper bound for a lone instance.
 */
import { listRuns } from "../lib/db/history.ts";
import { createRule } from "../lib/db/rules.ts";
import { DEFAULT_SCHEDULER_OPTIONS } from "../lib/scheduler/scheduler.ts";
import { RuleInputSchema } from "../lib/model/rule.ts";
import { ANN, ANN_WORK, type Harness, startHarness } from "../tests/support/accounts.ts";
import { until } from "../tests/support/poll.ts";

const CHANGES = 100;
const BURST = 200;
/** Polled this often: the latencies it measures are a few milliseconds. */
const POLL_MS = 2;

export interface PushLatencyResult {
  setup: Record<string, unknown>;
  changes: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  mean_ms: number;
  notificationsPerSecond: number;
  burst: { notifications: number; spanMs: number; syncRuns: number };
}

interface RawEvent {
  status: string;
  extendedProperties?: { private?: Record<string, string> };
}

async function mirrorCount(h: Harness): Promise<number> {
  const { items } = await h.admin(
    `calendars/${encodeURIComponent(ANN_WORK)}/events`,
    undefined,
    "GET",
  ) as { items: RawEvent[] };
  return items.filter((e) =>
    e.status !== "cancelled" && e.extendedProperties?.private?.busysync === "1"
  ).length;
}

function addEvent(h: Harness, i: number) {
  const start = Date.now() + 86_400_000 + i * 3_600_000;
  return h.admin(`calendars/${encodeURIComponent(ANN)}/events`, {
    summary: `Change ${i}`,
    start: { dateTime: new Date(start).toISOString() },
    end: { dateTime: new Date(start + 1_800_000).toISOString() },
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

export async function runPushLatencyBench(): Promise<PushLatencyResult> {
  const h = await startHarness({ BUSYSYNC_PUSH: "on" }, { serve: true, realTime: true });
  try {
    const ann = h.client();
    await ann.signIn(ANN);
    await ann.connect(ANN);
    await ann.connect(ANN_WORK);
    const userId = (await (await ann.request("/api/me")).json()).id as string;
    const conn = new Map((await ann.connections()).map((c) => [c.email, c.id]));
    await createRule(
      h.kv,
      userId,
      RuleInputSchema.parse({
        name: "Personal into work",
        source: { connectionId: conn.get(ANN)!, calendarId: ANN },
        target: { connectionId: conn.get(ANN_WORK)!, calendarId: ANN_WORK },
      }),
      { now: new Date() },
    );
    // The first run lists the calendar and opens the channel.
    const { jobId } = await h.scheduler.request(userId, { reason: "manual" });
    await h.scheduler.wait(userId, jobId, 30_000);
    await until(
      "push bench: the channel",
      async () => (await h.scheduler.progress(userId)).push.channels.length === 1,
      10_000,
      POLL_MS,
    );

    const latencies: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const t0 = performance.now();
      await addEvent(h, i);
      await until(
        "push bench: the mirror",
        async () => (await mirrorCount(h)) === i + 1,
        30_000,
        POLL_MS,
      );
      latencies.push(performance.now() - t0);
    }
    const sorted = [...latencies].sort((a, b) => a - b);

    const runsBefore = await countPushRuns(h, userId);
    await h.admin("push/pause");
    for (let i = 0; i < BURST; i++) await addEvent(h, CHANGES + i);
    const seen = (await deliveries(h)).length;
    await h.admin("push/resume");
    await until(
      "push bench: the burst",
      async () => (await deliveries(h)).length - seen >= BURST,
      60_000,
      POLL_MS,
    );
    const burst = (await deliveries(h)).slice(seen).filter((d) => d.outcome === "ok");
    const spanMs = Date.parse(burst.at(-1)!.at) - Date.parse(burst[0].at);
    await until(
      "push bench: every mirror",
      async () => (await mirrorCount(h)) === CHANGES + BURST,
      60_000,
      POLL_MS,
    );

    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      setup: {
        changes: CHANGES,
        burst: BURST,
        pushDebounceMs: DEFAULT_SCHEDULER_OPTIONS.pushDebounceMs,
        pushMaxDelayMs: DEFAULT_SCHEDULER_OPTIONS.pushMaxDelayMs,
        emulator: "same process as the app (shares its CPU)",
        deno: Deno.version.deno,
        cpus: navigator.hardwareConcurrency,
        at: new Date().toISOString(),
      },
      changes: CHANGES,
      p50_ms: round(percentile(sorted, 50)),
      p95_ms: round(percentile(sorted, 95)),
      max_ms: round(sorted.at(-1)!),
      mean_ms: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
      notificationsPerSecond: Math.round((burst.length - 1) / (spanMs / 1000)),
      burst: {
        notifications: burst.length,
        spanMs,
        syncRuns: (await countPushRuns(h, userId)) - runsBefore,
      },
    };
  } finally {
    await h.close();
  }
}

async function deliveries(h: Harness) {
  return ((await h.admin("push/deliveries", undefined, "GET")) as {
    deliveries: { outcome: string; at: string; resourceState: string }[];
  }).deliveries.filter((d) => d.resourceState === "exists");
}

async function countPushRuns(h: Harness, userId: string): Promise<number> {
  return (await listRuns(h.kv, userId, { limit: 1000 })).items
    .filter((r) => r.trigger === "push").length;
}
