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

/** Codes for the client errors hono's own middleware throws as HTTPException. */
const HONO_CODES: Record<number, string> = {
  400: "invalid_json",
  413: "too_large",
  415: "unsupported_media_type",
};

/**
 * Hono `onError`: HttpError → its status and body; a client error hono's own validators throw
 * (malformed JSON, a wrong content type) → its status in our shape; anything else → 500 with a
 * generic message (the detail is logged with the request id, never sent to the client).
 */
export function handleError(log: (msg: string, err: unknown) => void) {
  return function onError(err: Error, c: Context): Response {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
      return c.json(errorBody(err.code, err.message, err.fields), err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = HONO_CODES[err.status] ?? "bad_request";
      return c.json(errorBody(code, err.message || "The request is not valid."), err.status);
    }
    log(`unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}`, err);
    return c.json(errorBody("internal", "Something went wrong on our side."), 500);
  };
}

/** Hono `notFound`: JSON for API paths, the same body shape everywhere. */
export function handleNotFound(c: Context): Response {
  return c.json(errorBody("not_found", "No such route."), 404);
}
