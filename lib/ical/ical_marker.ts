/**
 * busysync's private properties (lib/sync/marker.ts: `busysync`, `busysyncRule`, ...) as
 * iCalendar X- properties (`X-BUSYSYNC`, `X-BUSYSYNC-RULE`, ...) of a VEVENT. Servers keep X-
 * properties but rewrite their values as TEXT: Radicale cut a value at its first unescaped `,`,
 * Xandikos escaped `;` `,` `\`, Cyrus turned `\e` into a space (caldav.md §2, §4). So every value
 * written stays within `[A-Za-z0-9._:/@-]`, which no server touched; any other value is written
 * as `b64.` + base64url (whose alphabet is inside that set).
 */
import ICAL from "ical.js";
import { decodeBase64, encodeBase64 } from "../encoding.ts";

/** What every marker property's name starts with; busysync's own keys all start "busysync". */
const KEY_PREFIX = "busysync";
const NAME_PREFIX = "X-BUSYSYNC";

/** Characters every measured server stored unchanged in an X- property value. */
const SAFE_VALUE = /^[A-Za-z0-9._:/@-]+$/;
/**
 * Marks an encoded value. A raw value starting with it is encoded too, so a value read with the
 * prefix is always an encoded one and raw values can never be mistaken for encoded ones.
 */
const ENCODED_PREFIX = "b64.";

/** A key busysync can name as a property: "busysync" and capitalised words (`busysyncGen`). */
const KEY = /^busysync(?:[A-Z][a-z0-9]*)*$/;
/** A marker property name, as ical.js reports it (lowercase). */
const NAME = /^x-busysync((?:-[a-z][a-z0-9]*)*)$/;

/**
 * The X- property name of a private-property key: `busysyncRule` → `X-BUSYSYNC-RULE`. Throws a
 * RangeError for a key that has no such name (busysync writes only its own marker keys).
 */
export function markerPropertyName(key: string): string {
  if (!KEY.test(key)) throw new RangeError(`"${key}" cannot be written as an X-BUSYSYNC property`);
  const words = key.slice(KEY_PREFIX.length).match(/[A-Z][a-z0-9]*/g) ?? [];
  return [NAME_PREFIX, ...words.map((w) => w.toUpperCase())].join("-");
}

/** The private-property key of an X- property name (any case); undefined for other names. */
export function privatePropKey(name: string): string | undefined {
  const match = NAME.exec(name.toLowerCase());
  if (!match) return undefined;
  const words = match[1].split("-").filter((w) => w !== "");
  return KEY_PREFIX + words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/** A value as busysync writes it: itself when safe, else `b64.` + base64url of its UTF-8. */
export function encodeMarkerValue(value: string): string {
  if (SAFE_VALUE.test(value) && !value.startsWith(ENCODED_PREFIX)) return value;
  const base64 = encodeBase64(new TextEncoder().encode(value));
  return ENCODED_PREFIX + base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The value encodeMarkerValue was given, from what a server returned. A server's TEXT escaping
 * (`\,` `\;` `\\`) and whitespace from refolding are undone first: a written value never holds a
 * backslash or whitespace, so removing them cannot change it. Undefined when an encoded value
 * does not decode (a server damaged it), so the marker reads as absent rather than as another.
 */
export function decodeMarkerValue(stored: string): string | undefined {
  const raw = stored.replace(/\\(.)/gs, "$1").replace(/\s+/g, "");
  if (!raw.startsWith(ENCODED_PREFIX)) return raw;
  const base64 = raw.slice(ENCODED_PREFIX.length).replaceAll("-", "+").replaceAll("_", "/");
  if (!/^[A-Za-z0-9+/]*$/.test(base64)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(decodeBase64(base64));
  } catch (e) {
    // atob's DOMException and TextDecoder's TypeError both mean the stored value is damaged.
    if (e instanceof DOMException || e instanceof TypeError) return undefined;
    throw e;
  }
}

/** Adds `props` to a VEVENT as X-BUSYSYNC properties; throws like markerPropertyName. */
export function writeMarkerProperties(
  vevent: ICAL.Component,
  props: Record<string, string>,
): void {
  for (const [key, value] of Object.entries(props)) {
    vevent.addPropertyWithValue(markerPropertyName(key).toLowerCase(), encodeMarkerValue(value));
  }
}

/**
 * The private properties a VEVENT carries as X-BUSYSYNC properties (the first of each name);
 * undefined when it has none. A damaged value is left out.
 */
export function readMarkerProperties(
  vevent: ICAL.Component,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const prop of vevent.getAllProperties()) {
    const key = privatePropKey(prop.name);
    if (key === undefined || (out && Object.hasOwn(out, key))) continue;
    const value = prop.getFirstValue();
    const decoded = typeof value === "string" ? decodeMarkerValue(value) : undefined;
    if (decoded !== undefined) (out ??= {})[key] = decoded;
  }
  return out;
}
