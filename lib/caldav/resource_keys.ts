/**
 * The key busysync knows a CalDAV resource by: its event id, and its mirrors' series id. A
 * resource's name is the key when it is plain (`[A-Za-z0-9._-]`, as busysync's own mirrors
 * and most clients' UUID names are), without `.ics`. Any other name becomes `~` and a hash of
 * the href, which cannot be mistaken for a plain name.
 */
import { createHash } from "node:crypto";
import { encodeBase32Hex } from "../encoding.ts";

const PLAIN = /^[A-Za-z0-9._-]{1,200}$/;

/** The key of the resource at `href` (absolute URL). */
export function resourceKeyOf(href: string): string {
  const path = new URL(href).pathname;
  const name = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)).replace(/\.ics$/i, "");
  if (PLAIN.test(name) && !name.startsWith(".")) return name;
  const digest = createHash("sha256").update(href).digest();
  return `~${encodeBase32Hex(digest).slice(0, 32).toLowerCase()}`;
}

/**
 * The href a plain key names in `calendarUrl` (`{key}.ics`, how busysync names its mirrors);
 * a hashed key names no href of its own, so it is looked up where it was read.
 */
export function hrefOfKey(calendarUrl: string, key: string): string {
  return new URL(`${encodeURIComponent(key)}.ics`, calendarUrl).href;
}
