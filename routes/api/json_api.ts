/**
 * The JSON API as one OpenAPI app: the resource sub-apps (each validating with its zod route
 * definitions), the plain sign-in and account routes' entries, and the document built from all
 * of them with its interactive reference.
 */
import { createApiApp } from "../../lib/http/openapi.ts";
import { VERSION } from "../../lib/version.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { docsRoutes } from "./docs.ts";
import { historyRoutes } from "./history.ts";
import { registerPlainRoutes } from "./plain_routes_openapi.ts";
import { ruleRoutes } from "./rules.ts";
import { statusRoutes } from "./status.ts";
import { syncRoutes } from "./sync.ts";

export function jsonApiRoutes(deps: AppDeps) {
  const api = createApiApp<AppEnv>();
  api.route("/", statusRoutes(deps));
  api.route("/", syncRoutes(deps));
  api.route("/", historyRoutes(deps));
  api.route("/", ruleRoutes(deps));
  registerPlainRoutes(api.openAPIRegistry);
  const registry = api.openAPIRegistry;
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
