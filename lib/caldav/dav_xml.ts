/**
 * WebDAV XML requests (PROPFIND, REPORT) and the zod edge for their answers. Bodies are written
 * here as XML text; the answer is parsed by tsdav's `davRequest` (xml-js underneath: namespace
 * prefixes dropped, names camel-cased, each `<response>` with the props of its 2xx propstats)
 * and then checked with zod, because tsdav types it all as `any`. davRequest keeps the statuses
 * its high-level helpers hide, which is why it is used and they are not (notes §5).
 */
import { davRequest } from "tsdav";
import { z } from "zod";
import { CalDavError } from "./dav_errors.ts";
import { answeredUrl, type DavClient, davFetch, type DavMethodName } from "./dav_transport.ts";

/** One `<response>` of a multistatus, its href made absolute against the answering URL. */
export interface DavResponse {
  href: string;
  /** The response's own status, or the answer's when it has none (then props tell). */
  status: number;
  /** Props of the 2xx propstats, by camel-cased local name (`getetag`, `calendarData`). */
  props: Record<string, unknown>;
  /** `<error>` children by local name (`validSyncToken`, `noUidConflict`). */
  error: Record<string, unknown>;
}

/** A 207 answer. */
export interface Multistatus {
  /** Where it came from, after redirects (hrefs are resolved against it). */
  url: string;
  responses: DavResponse[];
  /** The multistatus-level `<sync-token>` of a sync-collection answer. */
  syncToken?: string;
}

/** Any other answer: its status and (the start of) its body, for the caller to read. */
export interface OtherAnswer {
  url: string;
  status: number;
  body: string;
}

export const NS = `xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" ` +
  `xmlns:cs="http://calendarserver.org/ns/" xmlns:a="http://apple.com/ns/ical/"`;

/**
 * Sends an XML request and returns either its multistatus (207) or, for any other status but
 * 401 (CalDavAuthError, from davFetch), the status and body. Throws CalDavError when a 207 cannot
 * be read as a multistatus.
 */
export async function davXmlRequest(
  client: DavClient,
  name: DavMethodName,
  url: string,
  request: { method: "PROPFIND" | "REPORT"; depth: "0" | "1"; body: string },
): Promise<Multistatus | OtherAnswer> {
  let answered: { url: string; status: number } | undefined;
  const raw = await davRequest({
    url,
    init: { method: request.method, headers: { depth: request.depth }, body: request.body },
    convertIncoming: false,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await davFetch(client, name, String(input), init ?? {});
      answered = { url: answeredUrl(response, url), status: response.status };
      return response;
    },
  });
  if (!answered) throw new CalDavError(undefined, url, "tsdav sent no request");
  if (answered.status !== 207) {
    const body = raw[0]?.raw;
    return { ...answered, body: typeof body === "string" ? body : JSON.stringify(body ?? "") };
  }
  return readMultistatus(answered.url, raw);
}

/** Whether an answer is a multistatus. */
export function isMultistatus(answer: Multistatus | OtherAnswer): answer is Multistatus {
  return "responses" in answer;
}

/** The text of a parsed element: a string, a number or boolean tsdav converted, or CDATA. */
export const xmlText = z.union([
  z.string(),
  z.number().transform(String),
  z.boolean().transform(String),
  z.object({ _cdata: z.string() }).transform((o) => o._cdata),
  z.object({ _text: z.string() }).transform((o) => o._text),
]);

/**
 * An element that may be empty (`<displayname/>` parses as `{}`, or with only its `_attributes`
 * when it declares a namespace): its text, or undefined.
 */
export const optionalText = z.union([
  xmlText,
  z.object({ _attributes: z.unknown().optional() }).strict().transform(() => undefined),
]).optional();

/** An element that may occur once or many times (xml-js gives an object or an array). */
export function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([z.array(item), item.transform((one) => [one])]);
}

/** The `<href>` text inside a parsed element such as `current-user-principal`. */
export const hrefHolder = z.object({ href: xmlText });

/** Escapes text for an XML element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** The path of an absolute URL, as hrefs in a request body are written. */
export function hrefPath(url: string): string {
  return new URL(url).pathname;
}

/** Whether two URLs name the same collection (a trailing slash aside). */
export function sameCollection(a: string, b: string): boolean {
  const strip = (u: string) => new URL(u).href.replace(/\/$/, "");
  return strip(a) === strip(b);
}

const rawResponse = z.object({
  href: xmlText.optional(),
  status: z.number(),
  props: z.record(z.string(), z.unknown()).optional(),
  error: z.record(z.string(), z.unknown()).optional(),
  raw: z.unknown(),
});

const rawSyncToken = z.object({
  multistatus: z.object({ syncToken: xmlText.optional() }).passthrough(),
}).passthrough();

function readMultistatus(url: string, raw: unknown): Multistatus {
  const parsed = z.array(rawResponse).safeParse(raw);
  if (!parsed.success) {
    throw new CalDavError(207, url, `unreadable multistatus: ${parsed.error.message}`);
  }
  const responses: DavResponse[] = [];
  let syncToken: string | undefined;
  for (const item of parsed.data) {
    const token = rawSyncToken.safeParse(item.raw);
    if (token.success) syncToken = token.data.multistatus.syncToken;
    // An empty multistatus parses as one response without an href: nothing in it.
    if (item.href === undefined) continue;
    responses.push({
      href: new URL(item.href, url).href,
      status: item.status,
      props: item.props ?? {},
      error: item.error ?? {},
    });
  }
  return { url, responses, syncToken };
}
