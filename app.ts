import { Hono } from "hono";
import type { VNode } from "preact";
import type { Config } from "./lib/config.ts";
import { handleError, handleNotFound } from "./lib/http/errors.ts";
import { requestId } from "./lib/http/request_id.ts";
import { securityHeaders } from "./lib/http/security_headers.ts";
import type { Logger } from "./lib/log.ts";
import type { Manifest } from "./lib/web/manifest.ts";
import { renderPage } from "./lib/web/render.tsx";
import { serveStatic } from "./lib/web/static_files.ts";
import { healthRoutes } from "./routes/health.ts";
import { homePage } from "./routes/pages/home.tsx";

export interface AppInput {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  manifest: Manifest;
  /** Folder served under /static/ (holds build/ with the island bundles). */
  staticDir: string;
}

/** What route modules receive: the app's dependencies plus a page renderer bound to them. */
export interface AppDeps extends AppInput {
  render(body: VNode, page: { title: string }): string;
}

export type AppEnv = { Variables: { requestId: string } };

/** Builds the Hono app from its parts; tests call `createApp(...).request()` directly. */
export function createApp(input: AppInput): Hono<AppEnv> {
  const deps: AppDeps = {
    ...input,
    render: (body, page) =>
      renderPage(body, { title: page.title, demo: input.config.demo, manifest: input.manifest }),
  };
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(securityHeaders({ https: input.config.publicUrl.startsWith("https://") }));
  app.use("/static/*", serveStatic(input.staticDir));
  app.route("/", healthRoutes(input.kv));
  app.route("/", homePage(deps));
  app.notFound(handleNotFound);
  app.onError(handleError((msg, err) => input.log.error(msg, { err })));
  return app;
}
