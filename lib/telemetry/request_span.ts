import type { MiddlewareHandler } from "hono";
import type { Tracing } from "./tracing.ts";

/**
 * One span per HTTP request, named `<METHOD> <route template>` (`GET /api/rules/:id`) once
 * routing has found the handler, with the method, the route, the status and the request id
 * that the request's log lines carry. Never the URL, its query, a header or who asked: those
 * hold OAuth codes, calendar ids and addresses. Mount it after `requestId()`.
 */
export function requestSpan(
  opts: { tracing: Tracing },
): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return function requestSpanMiddleware(c, next) {
    const method = c.req.method;
    return opts.tracing.requestSpan(method, async (span) => {
      await next();
      // The handler that answered (hono dispatches in order and leaves the index at the last);
      // a template, never the path itself. A request no route took ends at a wildcard.
      const route = c.req.routePath || "*";
      const status = c.res.status;
      span.rename(`${method} ${route}`);
      span.setAttributes({
        "http.request.method": method,
        "http.route": route,
        "http.response.status_code": status,
        "busysync.request_id": c.var.requestId,
      });
      if (status >= 500) span.fail(c.error);
    });
  };
}
