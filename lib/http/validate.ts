/**
 * zod at the HTTP edge: request bodies and queries are parsed into typed values, and a bad one
 * becomes a 400 naming each offending field (`fields`), never a 500.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { type FieldErrors, HttpError } from "./errors.ts";

/** Parses the JSON body with `schema`; an absent body is parsed as `{}`. */
export async function parseJsonBody<T extends z.ZodType>(
  c: Context,
  schema: T,
): Promise<z.output<T>> {
  const text = await c.req.text();
  let json: unknown = {};
  if (text.trim()) {
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
    }
  }
  return parseWith(schema, json);
}

/** Parses the query string (single values) with `schema`. */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  return parseWith(schema, c.req.query());
}

/** Parses `value` with `schema`, or throws a 400 HttpError listing the field errors. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidRequest(parsed.error.issues);
}

/** The 400 for zod issues, naming each field at fault. */
export function invalidRequest(issues: readonly z.core.$ZodIssue[]): HttpError {
  return new HttpError(400, "invalid_request", "Some fields are not valid.", fieldErrors(issues));
}

/**
 * zod issues as field errors: the first message per dotted path, under `prefix` when given
 * ("body" for the whole value).
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], prefix?: string): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of issues) {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "body";
    fields[path] ??= issue.message;
  }
  return fields;
}

/** A plain HTML form post (answered with a redirect) rather than a script's fetch. */
export function isFormPost(c: Context): boolean {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  return type.startsWith("application/x-www-form-urlencoded") ||
    type.startsWith("multipart/form-data");
}

/** Parses a form post's fields or a JSON body with `schema`. */
export async function parseFormOrJson<T extends z.ZodType>(
  c: Context,
  schema: T,
): Promise<z.output<T>> {
  if (!isFormPost(c)) return await parseJsonBody(c, schema);
  // A malformed multipart body makes the platform's form parser throw: the client's error.
  const form = await c.req.parseBody().catch(() => {
    throw new HttpError(400, "invalid_form", "The request body is not a valid form.");
  });
  return parseWith(
    schema,
    Object.fromEntries(Object.entries(form).filter(([, v]) => typeof v === "string")),
  );
}
