/**
 * One conditional GET of a feed through the outbound-safety fetch (lib/net/: https only,
 * resolved addresses and redirects checked, size and time capped). Feeds change rarely and
 * their publishers rate-limit, so the validators of the last answer (ETag, Last-Modified) go
 * with every request and a 304 costs no body. A failure is always thrown, never an empty text.
 */
import type { OutboundFetch } from "../net/outbound_fetch.ts";
import { OutboundRefusedError } from "../net/outbound_errors.ts";
import { FeedHttpError, FeedNotCalendarError, FeedUnreachableError } from "./feed_errors.ts";

/** What the last answer said to ask again with. */
export interface FeedValidators {
  etag?: string;
  lastModified?: string;
}

export type FeedAnswer =
  | { kind: "not_modified" }
  | { kind: "fetched"; text: string; validators: FeedValidators };

/**
 * GETs the feed at `url`, with `If-None-Match` / `If-Modified-Since` from `validators`. Throws
 * OutboundRefusedError (refused or capped), FeedUnreachableError, FeedHttpError or
 * FeedNotCalendarError (an empty answer); every message names the host only.
 */
export async function fetchFeed(
  fetch: OutboundFetch,
  url: string,
  validators?: FeedValidators,
): Promise<FeedAnswer> {
  const host = new URL(url).host;
  const headers = new Headers({ accept: "text/calendar, */*;q=0.5" });
  if (validators?.etag) headers.set("if-none-match", validators.etag);
  if (validators?.lastModified) headers.set("if-modified-since", validators.lastModified);
  let response: Response;
  try {
    response = await fetch(url, { method: "GET", headers });
  } catch (err) {
    throw hostOnly(err, host);
  }
  if (response.status === 304 && validators && (validators.etag || validators.lastModified)) {
    await response.body?.cancel();
    return { kind: "not_modified" };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) {
      throw new FeedNotCalendarError(host, `an answer ${response.status} without a body`);
    }
    throw new FeedHttpError(host, response.status);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw hostOnly(err, host);
  }
  if (text.trim() === "") throw new FeedNotCalendarError(host, "an empty answer");
  const etag = response.headers.get("etag");
  const lastModified = response.headers.get("last-modified");
  return {
    kind: "fetched",
    text,
    validators: {
      ...(etag ? { etag } : {}),
      ...(lastModified ? { lastModified } : {}),
    },
  };
}

/**
 * A failure as an error naming the host only. Deno's fetch errors quote the whole URL (with the
 * feed's secret), so they are replaced, not wrapped: a cause would carry the URL into the logs.
 */
function hostOnly(err: unknown, host: string): Error {
  if (err instanceof OutboundRefusedError) return err;
  return new FeedUnreachableError(host);
}
