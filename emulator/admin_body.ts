/** How the admin API reads request bodies. */
import type { Context } from "hono";
import { z } from "zod";
import { badRequest } from "./google_errors.ts";

/** Parses the JSON body (an absent body counts as `{}`) with `schema`; 400 with zod's message. */
export async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const text = await c.req.text();
  let json: unknown = {};
  try {
    if (text.trim()) json = JSON.parse(text);
  } catch {
    throw badRequest("parseError", "Parse Error");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw badRequest("invalid", z.prettifyError(parsed.error));
  return parsed.data;
}
