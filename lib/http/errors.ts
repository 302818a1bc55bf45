import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Field-level validation messages, keyed by a dotted path ("filters.workingHours.start"). */
export type FieldErrors = Record<string, string>;

/**
 * The one error type handlers and middleware throw; `onError` turns it into
 * `{ "error": { "code", "message", "fields"? } }` with its status.
 */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly fields?: FieldErrors,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldErrors };
}

/** Builds the JSON error body every route answers with. */
export function errorBody(code: string, message: string, fields?: FieldErrors): ErrorBody {
  return { error: fields ? { code, message, fields } : { code, message } };
}

/**
 * Renders an error for a person as an HTML page (routes/pages/error.tsx); passed in because
 * lib/ renders no markup of its own.
 */
export type ErrorPage = (c: Context, status: ContentfulStatusCode, message: string) => Response;

/**
 * JSON stays for the API, for Prometheus at /metrics (a machine, as API clients are) and for
 * callers without a page renderer (unit-tested middleware).
 */
function answersJson(c: Context, page: ErrorPage | undefined): page is undefined {
  const path = new URL(c.req.url).pathname;
  return !page || path === "/api" || path.startsWith("/api/") || path === "/metrics";
}

/** Codes for the client errors hono's own middleware throws as HTTPException. */
const HONO_CODES: Record<number, string> = {
  400: "invalid_json",
  413: "too_large",
  415: "unsupported_media_type",
};

/**
 * Hono `onError`: HttpError → its status and body; a client error hono's own validators throw
 * (malformed JSON, a wrong content type) → its status in our shape; anything else → 500 with a
 * generic message (the detail is logged with the request id, never sent to the client). Outside
 * /api/ the same status and message come as `page` renders them.
 */
export function handleError(log: (msg: string, err: unknown) => void, page?: ErrorPage) {
  function answer(c: Context, status: ContentfulStatusCode, body: ErrorBody): Response {
    return answersJson(c, page) ? c.json(body, status) : page(c, status, body.error.message);
  }
  return function onError(err: Error, c: Context): Response {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
      return answer(c, err.status, errorBody(err.code, err.message, err.fields));
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = HONO_CODES[err.status] ?? "bad_request";
      return answer(c, err.status, errorBody(code, err.message || "The request is not valid."));
    }
    log(`unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}`, err);
    return answer(c, 500, errorBody("internal", "Something went wrong on our side."));
  };
}

const NO_ROUTE = "No such route.";
const NO_PAGE = "No such page.";

/** Hono `notFound`: the JSON error body under /api/, otherwise `page` for a person. */
export function handleNotFound(page?: ErrorPage) {
  return function notFound(c: Context): Response {
    return answersJson(c, page)
      ? c.json(errorBody("not_found", NO_ROUTE), 404)
      : page(c, 404, NO_PAGE);
  };
}

/**
 * The error that answers exactly as an unknown path does (handleNotFound), for a route that
 * must not reveal it exists to whoever may not use it.
 */
export function unknownPathError(path: string): HttpError {
  const api = path === "/api" || path.startsWith("/api/");
  return new HttpError(404, "not_found", api ? NO_ROUTE : NO_PAGE);
}
