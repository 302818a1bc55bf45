/**
 * One scrape, the whole process: every thread that does work (the main thread with the sync
 * worker, each HTTP thread of lib/server/http_threads.ts) counts into a registry of its own, and
 * the thread a scrape reaches asks the others for theirs over a BroadcastChannel (process-local,
 * as the sync wake-up's is) and adds them up with prom-client's aggregation (counters and
 * histograms summed). The store's gauges (store_gauges.ts) are read by the answering thread
 * alone, so they are not counted once per thread.
 */
import {
  AggregatorRegistry,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import type { Logger } from "../log.ts";

/** How long a scrape waits for the other threads before answering without the silent ones. */
const ANSWER_TIMEOUT_MS = 2_000;

/** One registry's metrics as `getMetricsAsJSON` gives them: what a thread posts. */
type RegistryJson = MetricObjectWithValues<MetricValue<string>>[];

type Message =
  | { kind: "ask"; id: string }
  | { kind: "answer"; id: string; metrics: RegistryJson };

export interface MetricsScraper {
  /** The process's metrics in Prometheus' text format, with its content type. */
  scrape(): Promise<{ text: string; contentType: string }>;
  /** Stops answering the other threads. */
  close(): void;
}

export interface ScraperInput {
  /** This thread's counters and histograms. */
  own: Registry;
  /** The store's gauges, read at each scrape by the thread that answers it. */
  store: Registry;
  /** How many other threads count into registries of their own (BUSYSYNC_HTTP_WORKERS). */
  peers: number;
  /**
   * The BroadcastChannel the threads of this server ask each other on: a name of its own per
   * server, because a channel reaches every isolate of the process, and a process may hold
   * more than one server (the test runner does).
   */
  channel: string;
  log: Logger;
}

/** Starts answering the other threads' asks (when there are any) and returns the scraper. */
export function createMetricsScraper(input: ScraperInput): MetricsScraper {
  const { own, store, peers, log } = input;
  const channel = peers > 0 ? new BroadcastChannel(input.channel) : undefined;
  const asks = new Map<string, (metrics: RegistryJson) => void>();
  if (channel) {
    channel.onmessage = async (e: MessageEvent<Message>) => {
      const message = e.data;
      if (message.kind === "answer") return asks.get(message.id)?.(message.metrics);
      try {
        const metrics = await own.getMetricsAsJSON();
        channel.postMessage({ kind: "answer", id: message.id, metrics } satisfies Message);
      } catch (err) {
        // Unanswered, the asking thread counts this one as missing; a rejection left to the
        // event loop would end this thread instead.
        log.error("metrics: could not answer another thread's scrape", { err });
      }
    };
  }

  /** The other threads' registries as JSON; a thread that does not answer in time is left out. */
  async function others(): Promise<{ metrics: RegistryJson[]; missing: number }> {
    if (!channel) return { metrics: [], missing: 0 };
    const id = crypto.randomUUID();
    const answers: RegistryJson[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      asks.set(id, (metrics) => {
        answers.push(metrics);
        if (answers.length === peers) resolve();
      });
      timer = setTimeout(resolve, ANSWER_TIMEOUT_MS);
      channel.postMessage({ kind: "ask", id } satisfies Message);
    });
    clearTimeout(timer);
    asks.delete(id);
    return { metrics: answers, missing: peers - answers.length };
  }

  return {
    async scrape() {
      const [mine, theirs] = await Promise.all([own.getMetricsAsJSON(), others()]);
      if (theirs.missing > 0) {
        log.warn("metrics: threads did not answer the scrape", { missing: theirs.missing });
      }
      const summed = AggregatorRegistry.aggregate<typeof Registry.PROMETHEUS_CONTENT_TYPE>([
        mine,
        ...theirs.metrics,
      ]);
      // A partial answer says so, instead of passing for the whole process.
      const missing = new Registry();
      new Gauge({
        name: "busysync_metrics_threads_missing",
        help: "Threads whose counters this scrape lacks: they did not answer in time.",
        registers: [missing],
      }).set(theirs.missing);
      const all = Registry.merge([summed, store, missing]);
      return { text: await all.metrics(), contentType: all.contentType };
    },
    close() {
      channel?.close();
    },
  };
}
