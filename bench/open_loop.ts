/**
 * An open-loop load generator: requests go out on a schedule whatever the server does, which is
 * how real clients arrive, and each latency counts from when its request was due (so a stall is
 * charged to every request it delayed: no coordinated omission). autocannon's `overallRate`
 * instead sends each connection's quota for the second back to back and then pauses, a
 * saturating burst every second.
 *
 * `connections` virtual clients each keep one connection (their own HttpClient) and send every
 * `connections / rate` seconds from a random phase, cycling through `paths`.
 */

export interface OpenLoopOptions {
  url: string;
  paths: readonly string[];
  /** Asked before each request: a long run's session cookies change as they are refreshed. */
  headers: () => Record<string, string>;
  connections: number;
  /** Requests per second, all connections together. */
  rate: number;
  seconds: number;
}

export interface OpenLoopResult {
  requests: number;
  throughputRps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  non2xx: number;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const periodMs = (1000 * options.connections) / options.rate;
  const start = performance.now() + 100;
  const end = start + options.seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const sleepUntil = (t: number) =>
    new Promise((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));

  await Promise.all(Array.from({ length: options.connections }, async (_, client) => {
    const http = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
    let due = start + Math.random() * periodMs;
    let next = client;
    try {
      while (due < end) {
        await sleepUntil(due);
        const path = options.paths[next++ % options.paths.length];
        try {
          const res = await fetch(`${options.url}${path}`, {
            headers: options.headers(),
            client: http,
            redirect: "manual",
          });
          await res.arrayBuffer();
          if (res.status < 200 || res.status >= 300) non2xx++;
          latencies.push(performance.now() - due);
        } catch {
          errors++;
        }
        due += periodMs;
      }
    } finally {
      http.close();
    }
  }));

  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 10) /
    10;
  return {
    requests: latencies.length + errors,
    throughputRps: Math.round((latencies.length + errors) / options.seconds * 10) / 10,
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
    errors,
    non2xx,
  };
}
