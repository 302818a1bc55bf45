/**
 * Cross-site request forgery defences.
 *
 * `sameOriginGuard`: a state-changing request (anything but GET/HEAD/OPTIONS) must carry an
 * `Origin` equal to the public URL's. Every browser busysync supports sends Origin on such
 * requests, same-site or not, so a missing Origin means "not a browser page of ours" and is
 * refused too; the Referer is not consulted as a fallback because privacy settings strip it and
 * a request that lacks Origin is already outside what our pages send. Requests with an
 * `Authorization` header are exempt: browsers attach no such header cross-site on their own, and
 * the session middleware ignores cookies on such requests. Push notification webhooks are exempt
 * because Google sends them, authenticated by their channel token.
 *
 * `jsonBodiesOnly`: API routes read bodies only as `application/json`, a content type no
 * cross-site HTML form can send; the few routes a plain form posts to are listed.
 */
import type { MiddlewareHandler } from "hono";
import { HttpError } from "./errors.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface SameOriginOptions {
  /** The public URL; its origin is the only one accepted. */
  publicUrl: string;
  /** Paths that authenticate otherwise; default: `/api/webhooks/`. */
  exemptPrefixes?: string[];
}

/** Refuses unsafe cookie-authenticated requests from other origins with 403 `csrf`. */
export function sameOriginGuard(options: SameOriginOptions): MiddlewareHandler {
  const origin = new URL(options.publicUrl).origin;
  const exempt = options.exemptPrefixes ?? ["/api/webhooks/"];
  return async function sameOrigin(c, next) {
    if (SAFE_METHODS.has(c.req.method)) return await next();
    if (exempt.some((p) => c.req.path.startsWith(p))) return await next();
    if (c.req.header("authorization") !== undefined) return await next();
    if (c.req.header("origin") !== origin) {
      // A page opened at another address of this server (127.0.0.1 for localhost) sends that
      // origin: say which address works.
      throw new HttpError(
        403,
        "csrf",
        `This request did not come from a busysync page. Open ${origin} and try again there.`,
      );
    }
    await next();
  };
}

export interface JsonBodiesOptions {
  /** `METHOD /path` patterns (`:param` segments) that also accept an HTML form post. */
  formRoutes?: string[];
}

const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"];

/** Refuses a request body that is not JSON (415 `unsupported_media_type`). */
export function jsonBodiesOnly(options: JsonBodiesOptions = {}): MiddlewareHandler {
  const forms = (options.formRoutes ?? []).map(routeMatcher);
  return async function jsonBodies(c, next) {
    if (!hasBody(c.req.raw)) return await next();
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type === "application/json") return await next();
    if (FORM_TYPES.includes(type) && forms.some((m) => m(c.req.method, c.req.path))) {
      return await next();
    }
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Send the request body as application/json.",
    );
  };
}

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  if (length !== null) return Number(length) > 0;
  if (req.headers.has("transfer-encoding")) return true;
  // Deno.serve gives every request a body stream, even a browser's body-less DELETE (sent with
  // neither header); a body a form or a cross-site fetch sends always comes with a type.
  return req.body !== null && req.headers.has("content-type");
}

function routeMatcher(route: string): (method: string, path: string) => boolean {
  const [method, pattern] = route.split(" ");
  const re = new RegExp(`^${pattern.replace(/:[^/]+/g, "[^/]+")}$`);
  return (m, path) => m === method && re.test(path);
}
