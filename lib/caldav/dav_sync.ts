/**
 * RFC 6578 sync-collection on a calendar: what changed since a token (everything, from no
 * token), with calendar data where the server includes it. Written on davRequest rather than
 * tsdav's `smartCollectionSync`, which throws a plain Error for an invalid token and silently
 * falls back to a full fetch when it misreads the report set (notes §5).
 */
import { CalDavError, SyncTokenInvalidError } from "./dav_errors.ts";
import { readObjectProps } from "./dav_object_props.ts";
import type { DavClient } from "./dav_transport.ts";
import {
  davXmlRequest,
  escapeXml,
  isMultistatus,
  type Multistatus,
  NS,
  type OtherAnswer,
  sameCollection,
} from "./dav_xml.ts";

/** Where a listing stopped: the token, and the collection it belongs to. */
export interface SyncCursor {
  calendarUrl: string;
  token: string;
}

/** A changed (or, from no token, existing) object. */
export interface SyncChange {
  /** Absolute URL. */
  href: string;
  etag?: string;
  /** Undefined where the server leaves data out of the report (Xandikos): multiget it. */
  calendarData?: string;
}

export interface SyncResult {
  changed: SyncChange[];
  /**
   * Hrefs gone since the token. From no token Radicale also lists objects deleted long ago:
   * a caller ignores hrefs it never saw.
   */
  deleted: string[];
  cursor: SyncCursor;
  /** The server cut the report short (507) at least once and it was continued from its token. */
  truncated: boolean;
  /** Requests this listing took. */
  requests: number;
}

/** Truncated reports continued past this many requests are taken as a server loop. */
const MAX_PAGES = 1000;

/**
 * Lists the changes of `calendarUrl` since `cursor` (everything when undefined), continuing
 * truncated reports (507) with the token each returns, so the result is whole.
 *
 * Throws SyncTokenInvalidError (a full listing is needed) when: the cursor belongs to another
 * collection (Cyrus accepts a foreign token, notes §2, so this is checked here, before any
 * request); the server answers 403 `valid-sync-token` (or SabreDAV 1.8's 400); or it answers 500 to a
 * non-empty token twice running. That last rule exists for Xandikos 0.2.8, which answers 500
 * when it cannot look the token up (its git store no longer has that commit, notes §2); one
 * retry keeps a passing server error from costing a full listing, and a server that is broken
 * for every request fails its full listing next, loudly. Other answers throw CalDavError.
 */
export async function syncCollection(
  client: DavClient,
  calendarUrl: string,
  cursor?: SyncCursor,
): Promise<SyncResult> {
  if (cursor && !sameCollection(cursor.calendarUrl, calendarUrl)) {
    throw new SyncTokenInvalidError(calendarUrl, "other_collection");
  }
  const changed = new Map<string, SyncChange>();
  const deleted = new Set<string>();
  let token = cursor?.token ?? "";
  let truncated = false;
  let requests = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { answer, sent } = await report(client, calendarUrl, token);
    requests += sent;
    let more = false;
    for (const response of answer.responses) {
      if (sameCollection(response.href, calendarUrl)) {
        // RFC 6578 §3.6: a 507 on the collection itself means "truncated, ask again".
        if (response.status === 507) more = true;
        continue;
      }
      if (response.status === 404 || response.status === 410) {
        changed.delete(response.href);
        deleted.add(response.href);
      } else if (response.status >= 200 && response.status < 300) {
        deleted.delete(response.href);
        changed.set(response.href, { href: response.href, ...readObjectProps(response) });
      } else {
        throw new CalDavError(response.status, response.href, `sync listed ${response.status}`);
      }
    }
    if (!answer.syncToken) {
      throw new CalDavError(207, calendarUrl, "sync-collection answered without a sync-token");
    }
    if (more && answer.syncToken === token) {
      throw new CalDavError(507, calendarUrl, "truncated sync-collection returned the same token");
    }
    token = answer.syncToken;
    truncated ||= more;
    if (!more) {
      return {
        changed: [...changed.values()],
        deleted: [...deleted],
        cursor: { calendarUrl, token },
        truncated,
        requests,
      };
    }
  }
  throw new CalDavError(507, calendarUrl, `sync-collection still truncated after ${MAX_PAGES}`);
}

/** One sync-collection request (two when a non-empty token meets a 500), its multistatus. */
async function report(
  client: DavClient,
  calendarUrl: string,
  token: string,
): Promise<{ answer: Multistatus; sent: number }> {
  let sent = 0;
  for (;;) {
    sent++;
    const answer = await davXmlRequest(client, "caldav.report.sync", calendarUrl, {
      method: "REPORT",
      depth: "0",
      body: `<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection ${NS}>
  <d:sync-token>${escapeXml(token)}</d:sync-token>
  <d:sync-level>1</d:sync-level>
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
</d:sync-collection>`,
    });
    if (isMultistatus(answer)) return { answer, sent };
    if (invalidToken(answer)) {
      throw new SyncTokenInvalidError(calendarUrl, "valid-sync-token", answer.status);
    }
    if (answer.status === 500 && token !== "") {
      if (sent < 2) continue;
      throw new SyncTokenInvalidError(calendarUrl, "server_error", 500);
    }
    throw new CalDavError(
      answer.status,
      calendarUrl,
      `sync-collection answered ${answer.status}: ${answer.body.slice(0, 300)}`,
    );
  }
}

/**
 * 403 `valid-sync-token` is the RFC's answer (Radicale, Cyrus, SabreDAV); SabreDAV 1.8 said 400
 * "Invalid or unknown sync token" (tine20/tine20#5654).
 */
function invalidToken(answer: OtherAnswer): boolean {
  return [400, 403].includes(answer.status) &&
    /valid-sync-token|invalid or unknown sync token/i.test(answer.body);
}
