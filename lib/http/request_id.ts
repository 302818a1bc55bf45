import type { MiddlewareHandler } from "hono";
import { ulid } from "ulid";

/**
 * Gives each request an id (`c.var.requestId`) echoed as `X-Request-Id`, so a log line about a
 * 500 can be matched to what the user saw. An incoming id is kept only if it looks like one.
 */
export function requestId(): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    const id = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : ulid();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
  };
}
