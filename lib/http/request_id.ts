import type { MiddlewareHandler } from "hono";
import { monotonicFactory } from "ulid";
import type { Logger } from "../log.ts";

export interface RequestIdOptions {
  /** Every line it writes while the request is handled carries the id as `requestId`. */
  log: Logger;
}

/**
 * Gives each request an id (`c.var.requestId`) echoed as `X-Request-Id`, so a log line about a
 * 500 can be matched to what the user saw, and so can every other line about the request. An
 * incoming id is kept only if it looks like one.
 */
export function requestId(
  options: RequestIdOptions,
): MiddlewareHandler<{ Variables: { requestId: string } }> {
  // ulid() finds its random source anew and draws 16 random bytes one call each, per id; a
  // monotonic generator draws once per millisecond and counts up within it.
  const newId = monotonicFactory();
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    const id = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : newId();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await options.log.within({ requestId: id }, next);
  };
}
