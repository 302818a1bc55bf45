/**
 * Names the thread that answered each request, with the time it took to the response headers,
 * as `Server-Timing: app;dur=<ms>;desc="<thread>"` ("main", or "http-1"… for the
 * BUSYSYNC_HTTP_WORKERS threads). Browser dev tools show it beside the request, so a slow page
 * can be traced to a thread that is busy; the threads test uses it to see the threads serve.
 */
export function servedBy(
  thread: string,
  handler: (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>,
): (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response> {
  return async function timedHandler(req, info) {
    const started = performance.now();
    const res = await handler(req, info);
    const timing = `app;dur=${(performance.now() - started).toFixed(1)};desc="${thread}"`;
    try {
      res.headers.append("Server-Timing", timing);
      return res;
    } catch {
      // Headers of a Response.redirect() or a fetched response are immutable: copy them.
      const headers = new Headers(res.headers);
      headers.append("Server-Timing", timing);
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    }
  };
}
