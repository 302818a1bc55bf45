import { Hono } from "hono";
import { compress } from "hono/compress";
import type { AppDeps, AppEnv, AppInput } from "./app_context.ts";
import { sessionAuth } from "./lib/http/auth_middleware.ts";
import { canonicalHost } from "./lib/http/canonical_host.ts";
import { jsonBodiesOnly, sameOriginGuard } from "./lib/http/csrf.ts";
import { handleError, handleNotFound } from "./lib/http/errors.ts";
import { requestId } from "./lib/http/request_id.ts";
import { securityHeaders } from "./lib/http/security_headers.ts";
import { requestSpan } from "./lib/telemetry/request_span.ts";
import { serveStatic } from "./lib/web/static_files.ts";
import { FORM_ROUTES, mountRoutes } from "./routes/mount.ts";

/**
 * The app's middleware, the routes (mounted by routes/mount.ts) and its not-found and error
 * handlers, over the parts it is given; it builds none of them (server_stack.ts does, for
 * main.ts and http_thread.ts). Tests call `createApp(...).request()` directly.
 */
export function createApp(input: AppInput): Hono<AppEnv> {
  const now = input.now ?? (() => new Date());
  const { config, services } = input;
  const secureCookies = config.publicUrl.startsWith("https://");
  const deps: AppDeps = {
    ...input,
    now,
    keyring: input.secrets.keyring,
    google: services.google,
    tokens: services.tokens,
    providerFor: services.providerFor,
    outboundFetch: services.outboundFetch,
    syncDeps: services.syncDeps,
    sessions: services.sessions,
    secureCookies,
  };
  const app = new Hono<AppEnv>();
  app.use(requestId({ log: input.log }));
  app.use(requestSpan({ tracing: services.tracing }));
  // Deno.serve sends bodies as they are: pages, bundles and JSON go out gzip'd from here
  // (server-sent events are left alone by compress's content-type filter).
  app.use(compress());
  // Google's authorization endpoint is on the issuer's host (accounts.google.com).
  const issuerOrigin = new URL(config.google.issuer).origin;
  app.use(securityHeaders({ https: secureCookies, formTargets: [issuerOrigin] }));
  // Before any page or sign-in: cookies are per host, and Google returns to PUBLIC_URL's.
  app.use(canonicalHost({ publicUrl: config.publicUrl }));
  app.use("/static/*", serveStatic(input.staticDir));
  // CSRF runs before the session middleware: it decides from headers alone, so no cross-site
  // request ever reaches a refresh-token rotation.
  app.use(sameOriginGuard({ publicUrl: config.publicUrl }));
  app.use("/api/*", jsonBodiesOnly({ formRoutes: FORM_ROUTES }));
  app.use(sessionAuth({ sessions: deps.sessions, secureCookies }));
  const pageForError = mountRoutes(app, deps);
  app.notFound(handleNotFound(pageForError));
  app.onError(handleError((msg, err) => input.log.error(msg, { err }), pageForError));
  return app;
}
