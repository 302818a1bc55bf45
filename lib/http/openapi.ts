/**
 * The JSON API's route definitions are zod schemas (@hono/zod-openapi): the same schemas
 * validate each request and generate /api/openapi.json, so the document cannot drift from what
 * the routes accept. A request that fails them becomes our error shape: 400 naming each field,
 * or 422 for a rule that is well-formed but targets its own source.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Env } from "hono";
import { isSelfTargetIssue } from "../model/rule.ts";
import { HttpError } from "./errors.ts";
import { invalidRequest } from "./validate.ts";

/** A sub-app of the JSON API whose failed validations throw HttpError (onError answers). */
export function createApiApp<E extends Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });
}

/** 422 for the self-target refusal (the only issue left once every field is valid), else 400. */
export function validationError(issues: readonly z.core.$ZodIssue[]): HttpError {
  const self = issues.find(isSelfTargetIssue);
  if (self && issues.length === 1) {
    return new HttpError(422, "self_target", "A calendar cannot be its own target.", {
      target: self.message,
    });
  }
  return invalidRequest(issues);
}

/**
 * `schema` as a named component of the document. A copy: zod 4 gives `.openapi()` only to
 * schemas made after @hono/zod-openapi was loaded, and lib/ defines its schemas with plain zod.
 */
export function named<T extends z.ZodType>(schema: T, id: string): T {
  return (schema.clone() as T).openapi(id) as T;
}

/** Either the browser session cookie or a Bearer access token (the schemes of the document). */
export const SIGNED_IN: Record<string, string[]>[] = [{ session: [] }, { bearer: [] }];

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
  404: "No such resource for the signed-in user (other users' ids included).",
  409: "Conflict: the resource changed since it was read (If-Match), or its state forbids this.",
  415: "The body is not application/json.",
  422: "Well-formed but not acceptable: a cycle, a self-target, an unknown or unwritable calendar.",
  429: "Rate limited; `Retry-After` says when to try again.",
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
