/**
 * Sends a person who opened busysync at another address of this server (`127.0.0.1:8000` when
 * `PUBLIC_URL` is `http://localhost:8000`) to the same page at `PUBLIC_URL` before anything
 * else happens. Sign-in needs it: the browser-binding cookie and the session cookies belong to
 * the host that set them, and Google sends the browser back to `PUBLIC_URL`, so a sign-in started
 * elsewhere arrives without its cookie and reads as expired.
 */
import type { MiddlewareHandler } from "hono";

export interface CanonicalHostOptions {
  publicUrl: string;
  /** Paths machines call on any address (health checks from 127.0.0.1, Google's webhooks). */
  exemptPrefixes?: readonly string[];
}

export const DEFAULT_EXEMPT_PREFIXES = [
  "/healthz",
  "/readyz",
  "/metrics",
  "/api/webhooks/",
] as const;

/**
 * Behind a reverse proxy the Host header is the proxy's business: one that passes its upstream
 * name (nginx without `proxy_set_header Host`) would otherwise get every page redirected to the
 * address it is already serving, for ever. So a forwarded request is redirected only when the
 * proxy names the host the browser asked for (`X-Forwarded-Host`) and that is not PUBLIC_URL's.
 */
function cameThroughProxy(headers: Record<string, string>, publicHost: string): boolean {
  const forwardedHost = headers["x-forwarded-host"]?.split(",")[0].trim();
  if (forwardedHost) return forwardedHost === publicHost;
  return headers["x-forwarded-for"] !== undefined || headers["forwarded"] !== undefined;
}

/**
 * Redirects (302) a browser's page request (GET or HEAD asking for HTML, no Authorization
 * header) whose host is not `PUBLIC_URL`'s to the same path and query there. Anything else
 * passes untouched: API clients with Bearer tokens, health checks, webhooks, scripts.
 */
export function canonicalHost(options: CanonicalHostOptions): MiddlewareHandler {
  const publicOrigin = new URL(options.publicUrl);
  const exempt = options.exemptPrefixes ?? DEFAULT_EXEMPT_PREFIXES;
  return async function canonicalHostRedirect(c, next) {
    const url = new URL(c.req.url);
    if (
      url.host === publicOrigin.host ||
      cameThroughProxy(c.req.header(), publicOrigin.host) ||
      (c.req.method !== "GET" && c.req.method !== "HEAD") ||
      c.req.header("authorization") ||
      !(c.req.header("accept") ?? "").includes("text/html") ||
      exempt.some((p) => url.pathname === p || url.pathname.startsWith(p))
    ) return await next();
    // Concatenated, not resolved: a path such as `//evil.example` must stay a path here.
    return c.redirect(`${publicOrigin.origin}${url.pathname}${url.search}`, 302);
  };
}
