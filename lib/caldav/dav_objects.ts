/**
 * Calendar object resources, one request each: GET, PUT with `If-None-Match: *` (create) or
 * `If-Match` (update), DELETE. Written on fetch rather than tsdav's `updateCalendarObject`,
 * which sends no `If-Match` when it has no ETag and so overwrites blindly (notes §4). Any 2xx is
 * success: Radicale answers 201 to an update and 200 to a DELETE, the others 204.
 */
import {
  AlreadyExistsError,
  CalDavError,
  CalDavForbiddenError,
  PreconditionFailedError,
  UidConflictError,
} from "./dav_errors.ts";
import { answeredUrl, type DavClient, davFetch } from "./dav_transport.ts";

/** An object as GET returns it. */
export interface DavObject {
  url: string;
  /** Undefined when the server sent none (then the next listing tells). */
  etag?: string;
  body: string;
}

/** What a PUT left: the new ETag, when the server says it (SabreDAV may not, notes §4). */
export interface PutResult {
  etag?: string;
}

/**
 * The ETag without its weak marker: Cyrus calls the same entity `W/"…"` when it compresses the
 * GET (notes §2), and the ETag of a PUT is strong, so the two compare equal only this way.
 */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, "");
}

/** Whether two ETags name the same version, `W/` aside. */
export function etagsEqual(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && normalizeEtag(a) === normalizeEtag(b);
}

/** GETs an object; undefined when it does not exist (404, 410). Throws CalDavError otherwise. */
export async function getObject(client: DavClient, url: string): Promise<DavObject | undefined> {
  const response = await davFetch(client, "caldav.get", url, {
    method: "GET",
    headers: { accept: "text/calendar" },
  });
  const body = await response.text();
  if (response.status === 404 || response.status === 410) return undefined;
  if (!response.ok) throw unexpected(response, url, body);
  return { url: answeredUrl(response, url), etag: etagOf(response), body };
}

/**
 * Creates `url` holding `ics`, only if the name is free (`If-None-Match: *`). Throws
 * AlreadyExistsError when the name is taken, UidConflictError when another resource has the
 * UID, CalDavForbiddenError when the calendar is read-only.
 */
export async function createObject(
  client: DavClient,
  url: string,
  ics: string,
): Promise<PutResult> {
  const response = await put(client, url, ics, { "if-none-match": "*" });
  if (response.status === 412) throw new AlreadyExistsError(url);
  return { etag: etagOf(response) };
}

/**
 * Replaces `url` with `ics` if it is still at `etag` (`If-Match`; `"*"` means "if it exists").
 * Throws PreconditionFailedError when it changed or is gone, UidConflictError and
 * CalDavForbiddenError as createObject does.
 */
export async function updateObject(
  client: DavClient,
  url: string,
  ics: string,
  etag: string,
): Promise<PutResult> {
  const response = await put(client, url, ics, { "if-match": etag });
  if (response.status === 412) throw new PreconditionFailedError(url);
  return { etag: etagOf(response) };
}

/**
 * Deletes `url`, only if still at `etag` when one is given. "already_gone" for 404/410; throws
 * PreconditionFailedError when it changed since, CalDavForbiddenError when read-only.
 */
export async function deleteObject(
  client: DavClient,
  url: string,
  etag?: string,
): Promise<"deleted" | "already_gone"> {
  const response = await davFetch(client, "caldav.delete", url, {
    method: "DELETE",
    headers: etag === undefined ? {} : { "if-match": etag },
  });
  const body = await response.text();
  if (response.status === 404 || response.status === 410) return "already_gone";
  if (response.status === 412) throw new PreconditionFailedError(url);
  if (response.status === 403) throw new CalDavForbiddenError(url, excerpt(body));
  if (!response.ok) throw unexpected(response, url, body);
  return "deleted";
}

/**
 * A PUT whose 2xx (not 207) or 412 answer is returned for the caller to read; every other
 * answer becomes its typed error here. Xandikos answers a UID clash with a 207 holding a 412, so
 * a 207 is read before a 412 is taken as the precondition.
 */
async function put(
  client: DavClient,
  url: string,
  ics: string,
  condition: Record<string, string>,
): Promise<Response> {
  const response = await davFetch(client, "caldav.put", url, {
    method: "PUT",
    headers: { "content-type": "text/calendar; charset=utf-8", ...condition },
    body: ics,
  });
  const body = await response.text();
  const clash = uidConflict(response.status, body);
  if (clash) throw new UidConflictError(url, response.status, clash.href);
  if (response.status === 412 || (response.ok && response.status !== 207)) return response;
  if (response.status === 403) throw new CalDavForbiddenError(url, excerpt(body));
  throw unexpected(response, url, body);
}

/**
 * Whether an answer to a PUT says "another resource has this UID" (RFC 4791 §5.3.2.1
 * `no-uid-conflict`, or RFC 6638 `unique-scheduling-object-resource`), with the other resource's
 * href when named. Matched on the element name, whatever the prefix.
 */
function uidConflict(status: number, body: string): { href?: string } | undefined {
  if (![207, 403, 409, 412].includes(status)) return undefined;
  const match = body.match(
    /<(?:[\w-]+:)?(no-uid-conflict|unique-scheduling-object-resource)\b[^>]*?(\/>|>([\s\S]*?)<\/(?:[\w-]+:)?\1>)/,
  );
  if (!match) return undefined;
  const href = match[3]?.match(/<(?:[\w-]+:)?href[^>]*>([^<]+)</)?.[1]?.trim();
  return { href };
}

function etagOf(response: Response): string | undefined {
  return response.headers.get("etag") ?? undefined;
}

function unexpected(response: Response, url: string, body: string): CalDavError {
  return new CalDavError(
    response.status,
    url,
    `${url} answered ${response.status}: ${excerpt(body)}`,
  );
}

function excerpt(body: string): string {
  return body.replace(/\s+/g, " ").trim().slice(0, 300);
}
