import type { MiddlewareHandler } from "hono";
import { BUILD_DIR, type Manifest, ManifestSchema } from "./manifest.ts";

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json",
  txt: "text/plain; charset=utf-8",
};

/**
 * Serves files under `/static/` from `staticDir`. Hashed build outputs are cached for a year as
 * immutable; other files are revalidated. Paths that try to leave the folder, or that do not
 * percent-decode, are 404s.
 */
export function serveStatic(staticDir: string): MiddlewareHandler {
  return async function staticFiles(c, next) {
    const path = decodedPath(new URL(c.req.url).pathname.slice("/static/".length));
    if (
      path === null || !path ||
      path.split("/").some((p) => p === ".." || p === "" || p.startsWith("."))
    ) {
      return await next();
    }
    let body: Uint8Array;
    try {
      body = await Deno.readFile(`${staticDir}/${path}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) {
        return await next();
      }
      throw e;
    }
    const ext = path.slice(path.lastIndexOf(".") + 1);
    const immutable = path.startsWith("build/") && path !== "build/manifest.json";
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": TYPES[ext] ?? "application/octet-stream",
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
  };
}

/** The percent-decoded path, or null when it does not decode (`%zz`): no file has that name. */
function decodedPath(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch (e) {
    if (e instanceof URIError) return null;
    throw e;
  }
}

/** Reads the island build manifest; throws with what to run when the build is missing. */
export async function loadManifest(root: string): Promise<Manifest> {
  try {
    return ManifestSchema.parse(
      JSON.parse(await Deno.readTextFile(`${root}/${BUILD_DIR}/manifest.json`)),
    );
  } catch (e) {
    throw new Error(`island bundles missing or unreadable (${e}); run: deno task build`);
  }
}
