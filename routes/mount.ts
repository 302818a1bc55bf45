/**
 * Where every route module is mounted, and the one module that imports them: each is a Hono
 * sub-app with paths relative to its base, mounted with `route(base, subApp)`. Under `/api` the
 * JSON API is one OpenAPI app: route() merges each OpenAPI sub-app's definitions into its
 * registry with the base prefixed, the plain handlers' entries are added beside them, and the
 * document at `/api/openapi.json` is built from that registry.
 */
import type { Hono } from "hono";
import type { ErrorPage } from "../lib/http/errors.ts";
import { createApiApp } from "../lib/http/openapi.ts";
import { VERSION } from "../lib/version.ts";
import type { AppDeps, AppEnv } from "../app_context.ts";
import { adminRoutes } from "./api/admin.ts";
import { apiTokenRoutes } from "./api/api_tokens.ts";
import { authRoutes, FORM_ROUTES as AUTH_FORM_ROUTES } from "./api/auth.tsx";
import { docsRoutes } from "./api/docs.ts";
import { historyRoutes } from "./api/history.ts";
import { registerPlainRoutes } from "./api/plain_routes_openapi.ts";
import { groupRoutes } from "./api/groups.ts";
import { ruleRoutes } from "./api/rules.ts";
import { statusRoutes } from "./api/status.ts";
import { syncRoutes } from "./api/sync.ts";
import { FORM_ROUTES as USER_FORM_ROUTES, meRoutes, userRoutes } from "./api/user.ts";
import { webhookRoutes } from "./api/webhooks.ts";
import { healthRoutes } from "./health.ts";
import { metricsRoutes } from "./metrics.ts";
import { adminPage } from "./pages/admin.tsx";
import { connectionsPage } from "./pages/connections.tsx";
import { errorPage } from "./pages/error.tsx";
import { groupsPages } from "./pages/groups.tsx";
import { historyPages } from "./pages/history.tsx";
import { homePage } from "./pages/home.tsx";
import { rulesPages } from "./pages/rules.tsx";
import { settingsPage } from "./pages/settings.tsx";
import { signInPage } from "./pages/signin.tsx";

/** The JSON API's base, and the bases under it of the sub-apps with HTML form posts. */
const API = "/api";
const AUTH = "/auth";
const USER = "/user";

/** `METHOD /path` of the API routes that also take an HTML form post (app.ts's body check). */
export const FORM_ROUTES: string[] = [
  ...under(API + AUTH, AUTH_FORM_ROUTES),
  ...under(API + USER, USER_FORM_ROUTES),
];

/**
 * Mounts every route on `app` (after app.ts's middleware, before its not-found and error
 * handlers) and returns the error page those handlers answer people with.
 */
export function mountRoutes(app: Hono<AppEnv>, deps: AppDeps): ErrorPage {
  app.route("/", healthRoutes(deps.kv));
  // On the app's port only with a token: without one, /metrics is not there (a 404).
  const { token } = deps.config.metrics;
  if (token) app.route("/", metricsRoutes({ metrics: deps.metrics, token }));
  app.route("/", apiRoutes(deps));
  app.route("/", homePage(deps));
  app.route("/signin", signInPage(deps));
  app.route("/connections", connectionsPage(deps));
  app.route("/rules", rulesPages(deps));
  app.route("/groups", groupsPages(deps));
  app.route("/history", historyPages(deps));
  app.route("/admin", adminPage(deps));
  app.route("/settings", settingsPage(deps));
  return errorPage(deps);
}

/**
 * Everything under `/api`. The app carries its base itself (basePath), so its document lists
 * the paths with `/api` in front as the router serves them.
 */
function apiRoutes(deps: AppDeps) {
  const api = createApiApp<AppEnv>().basePath(API);
  api.route("/webhooks", webhookRoutes(deps.push));
  api.route(AUTH, authRoutes(deps));
  api.route("/me", meRoutes(deps));
  api.route("/me/tokens", apiTokenRoutes(deps));
  api.route(USER, userRoutes(deps));
  api.route("/status", statusRoutes(deps));
  api.route("/sync", syncRoutes(deps));
  api.route("/history", historyRoutes(deps));
  api.route("/rules", ruleRoutes(deps));
  api.route("/groups", groupRoutes(deps));
  api.route("/admin", adminRoutes(deps));
  const registry = api.openAPIRegistry;
  registerPlainRoutes(registry);
  registry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: deps.secureCookies ? "__Host-busysync_at" : "busysync_at",
    description: "The browser session (signed in at /api/auth/login). Unsafe methods also " +
      "need an Origin header equal to the public URL's.",
  });
  registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An access token from POST /api/auth/refresh; no Origin check applies.",
  });
  registry.registerComponent("securitySchemes", "apiToken", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "bsy_…",
    description: "A personal API token from POST /api/me/tokens (the settings page), sent as " +
      "`Authorization: Bearer bsy_…`; no Origin check applies. It cannot create tokens, delete " +
      "the account, refresh or end a session, add or reconnect an account, or use the owner's " +
      "routes.",
  });
  api.route(
    "/",
    docsRoutes(() =>
      api.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "busysync API",
          version: VERSION,
          description: "Mirror busy time between your Google calendars. Errors are " +
            '`{ "error": { "code", "message", "fields"? } }`.',
        },
        servers: [{ url: deps.config.publicUrl }],
      })
    ),
  );
  return api;
}

/** `METHOD /path` routes of a sub-app, as the app sees them once it is mounted at `base`. */
function under(base: string, routes: readonly string[]): string[] {
  return routes.map((route) => {
    const [method, path] = route.split(" ");
    return `${method} ${path === "/" ? base : base + path}`;
  });
}
