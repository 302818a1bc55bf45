/**
 * Where to send the browser after sign-in or connecting: only paths on this site, so a crafted
 * sign-in link cannot bounce a user to another site (open redirect).
 */

import { HttpError } from "./errors.ts";

/** Where signed-in users land when no `next` was given. */
export const DEFAULT_NEXT = "/connections";

/**
 * The same-origin path `next` names, or null when it is not one. Refused: absolute URLs,
 * protocol-relative `//host`, backslashes (browsers read `/\host` as `//host`), control
 * characters, and anything that resolves to another origin.
 */
export function safeNextPath(next: string, publicUrl: string): string | null {
  if (!next.startsWith("/") || next.startsWith("//")) return null;
  // deno-lint-ignore no-control-regex
  if (/[\\\x00-\x1f\x7f]/.test(next)) return null;
  const base = new URL(publicUrl);
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return null;
  }
  if (url.origin !== base.origin) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** `next` as a safe path (DEFAULT_NEXT when absent); a 400 naming the field otherwise. */
export function requireNextPath(next: string | undefined, publicUrl: string): string {
  if (next === undefined) return DEFAULT_NEXT;
  const path = safeNextPath(next, publicUrl);
  if (path === null) {
    throw new HttpError(400, "invalid_request", "Some fields are not valid.", {
      next: "expected a same-origin path such as /connections",
    });
  }
  return path;
}
