/**
 * `GET /metrics`: the process's metrics for Prometheus (lib/metrics/). On the app's port it is
 * mounted only with BUSYSYNC_METRICS_TOKEN and wants that token as a Bearer token; a missing or
 * wrong one is answered 401 (the path's existence is no secret: busysync is open source, and a
 * 401 tells an operator with a mistyped token what is wrong where a 404 would not). The listener
 * of BUSYSYNC_METRICS_ADDRESS serves it with no token: it is reachable only where it listens.
 */
import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { sha256Hex } from "../lib/auth/tokens.ts";
import { HttpError } from "../lib/http/errors.ts";
import type { MetricsScraper } from "../lib/metrics/threads.ts";

export interface MetricsRouteOptions {
  metrics: Pick<MetricsScraper, "scrape">;
  /** The Bearer token a scrape must carry; absent: none is asked for. */
  token?: string;
}

export function metricsRoutes(options: MetricsRouteOptions): Hono {
  const { metrics, token } = options;
  const expected = token === undefined ? undefined : sha256Hex(token);
  return new Hono().get("/metrics", async (c) => {
    if (expected !== undefined) {
      const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
      // Digests compared in constant time: nothing about the token leaks through timing.
      const same = given !== undefined &&
        timingSafeEqual(
          new TextEncoder().encode(await sha256Hex(given)),
          new TextEncoder().encode(await expected),
        );
      if (!same) {
        throw new HttpError(
          401,
          "unauthorized",
          "Scraping /metrics needs Authorization: Bearer with BUSYSYNC_METRICS_TOKEN.",
          undefined,
          { "WWW-Authenticate": 'Bearer realm="busysync metrics"' },
        );
      }
    }
    const { text, contentType } = await metrics.scrape();
    return c.body(text, 200, { "content-type": contentType, "cache-control": "no-store" });
  });
}
