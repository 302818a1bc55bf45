/**
 * The JSON API's route definitions are zod schemas (@hono/zod-openapi): the same schemas
 * validate each request and generate /api/openapi.json, so the document cannot drift from what
 * the routes accept. A request that fails them becomes our error shape: 400 naming each field,
 * unless the sub-app maps its issues otherwise.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Env } from "hono";
import type { HttpError } from "./errors.ts";
import { invalidRequest } from "./validate.ts";

/** How a sub-app turns the issues of a failed validation into the error it throws. */
export type ValidationErrors = (issues: readonly z.core.$ZodIssue[]) => HttpError;

/**
 * A sub-app of the JSON API whose failed validations throw HttpError (onError answers): by
 * default 400 naming each field (invalidRequest), or what `toError` makes of the issues.
 */
export function createApiApp<E extends Env>(
  toError: ValidationErrors = invalidRequest,
): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw toError(result.error.issues);
    },
  });
}

/**
 * `schema` as a named component of the document. A copy: zod 4 gives `.openapi()` only to
 * schemas made after @hono/zod-openapi was loaded, and lib/ defines its schemas with plain zod.
 */
export function named<T extends z.ZodType>(schema: T, id: string): T {
  return (schema.clone() as T).openapi(id) as T;
}

/**
 * The session cookie, a session's Bearer access token, or a personal API token (the schemes of
 * the document).
 */
export const SIGNED_IN: Record<string, string[]>[] = [
  { session: [] },
  { bearer: [] },
  { apiToken: [] },
];
/** What only a session may do (an API token gets 403 `token_not_allowed`). */
export const SESSION_ONLY: Record<string, string[]>[] = [{ session: [] }, { bearer: [] }];

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().openapi({ example: "invalid_request" }),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional().openapi({
      description: "Per-field messages keyed by dotted path, e.g. `filters.workingHours.start`.",
    }),
  }),
}).openapi("Error");

const ERROR_DESCRIPTIONS = {
  400: "Malformed JSON, or invalid fields (`fields` names each).",
  401: "Not signed in (no session cookie, no valid Bearer token).",
  403: "`token_not_allowed`: an API token cannot do this; a signed-in session can.",
  404: "No such resource for the signed-in user (other users' ids included).",
  409: "Conflict: the resource changed since it was read (If-Match), or its state forbids this.",
  410: "Gone: too late for this (an undo after its window, or after the blocks were removed).",
  415: "The body is not application/json.",
  422: "Well-formed but not acceptable: a cycle, a self-target, an unknown or unwritable calendar.",
  429: "Rate limited; `Retry-After` says when to try again.",
  502: "The calendar service answered in a way busysync could not use; `message` says how.",
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

interface ErrorResponse {
  description: string;
  content: { "application/json": { schema: typeof ErrorSchema } };
}

/** Response entries for the error statuses a route can answer. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, ErrorResponse> {
  const out = {} as Record<S, ErrorResponse>;
  for (const status of statuses) {
    out[status] = {
      description: ERROR_DESCRIPTIONS[status],
      content: { "application/json": { schema: ErrorSchema } },
    };
  }
  return out;
}

/** A JSON response entry. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}

/** `?name=true|false` (default false), as a boolean. */
export function flag(description: string) {
  return z.enum(["true", "false"]).default("false").transform((v) => v === "true").openapi({
    description,
  });
}

/** A path parameter `{name}`: any short string; ids that do not exist answer 404. */
export function idParam<N extends string>(name: N, description: string) {
  const param = z.string().min(1).max(128).openapi({ param: { name, in: "path" }, description });
  return z.object({ [name]: param } as Record<N, typeof param>);
}
