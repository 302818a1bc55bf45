/**
 * The API's own description: `GET /api/openapi.json` (OpenAPI 3.1, generated from the routes'
 * zod schemas) and `GET /api/docs`, an interactive reference (Swagger UI) whose files this app
 * serves itself from the `swagger-ui-dist` package: the CSP allows only our own origin, and a
 * self-hosted instance may have no internet. Swagger UI fits that CSP as it is: its styles are
 * a stylesheet plus style properties set from script (which CSP does not restrict), it needs
 * no eval, and its start-up code is a file of ours below rather than an inline script.
 */
import { Hono } from "hono";
import absolutePath from "swagger-ui-dist/absolute-path.js";
import type { AppEnv } from "../../app_context.ts";

/** The package's folder: its dist files are read from there (also inside a compiled binary). */
const SWAGGER_DIR: string = absolutePath();
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

/** Starts Swagger UI on the document; sends cookies so "Try it out" acts as the signed-in user. */
const INIT_JS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#reference",
    deepLinking: true,
    withCredentials: true,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>busysync API reference</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<noscript>
<p>The interactive reference needs JavaScript. The API is described in
<a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>
</noscript>
<div id="reference"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

/** Serves the document (built once, on first request) and the reference page with its files. */
export function docsRoutes(document: () => unknown): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let built: unknown;
  app.get("/openapi.json", (c) => c.json(built ??= document()));
  app.get("/docs", (c) => c.html(PAGE));
  app.get("/docs/:file{init\\.js|swagger-ui\\.css|swagger-ui-bundle\\.js}", async (c) => {
    const file = c.req.param("file");
    if (file === "init.js") {
      return c.body(INIT_JS, 200, { "content-type": "text/javascript; charset=utf-8" });
    }
    const body = await Deno.readFile(`${SWAGGER_DIR}/${file}`);
    return c.body(body, 200, {
      "content-type": ASSETS[file],
      // The files change only with the package version, which a restart brings.
      "cache-control": "public, max-age=86400",
    });
  });
  return app;
}
