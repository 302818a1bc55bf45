/**
 * A feed's address as a person pastes it, and the forms busysync may show of it. Feed addresses
 * usually carry their secret in the path or query (a calendar "private address", a TripIt or
 * Todoist token), so outside the sealed copy only the scheme and host are ever shown or logged.
 */
import { createHash } from "node:crypto";

/** Why an address cannot be a feed's. */
export class FeedUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FeedUrlError";
  }
}

/**
 * The address to fetch: `webcal://` and `webcals://` (what "subscribe" links use) are read as
 * https, as every calendar app does; `https://` and `http://` are kept (the outbound fetch then
 * decides whether http may pass). Throws FeedUrlError for anything else.
 */
export function normalizeFeedUrl(input: string): string {
  const trimmed = input.trim();
  const webcal = /^webcals?:\/\//i.exec(trimmed);
  const text = webcal ? "https://" + trimmed.slice(webcal[0].length) : trimmed;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FeedUrlError("That is not a web address; paste the feed's whole address.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new FeedUrlError("A feed's address starts with https:// or webcal://.");
  }
  // A fragment never reaches the server; dropping it keeps one feed one connection.
  url.hash = "";
  return url.href;
}

/** What busysync shows of a feed's address: its scheme and host, never its path or query. */
export function maskFeedUrl(url: string): string {
  const { protocol, host } = new URL(url);
  return `${protocol}//${host}/…`;
}

/**
 * The feed's identity among a user's connections (adding the same address again renews it): a
 * hash, because connection keys are stored in plain and the address is a secret.
 */
export function feedSubOf(url: string): string {
  return "sha256:" + createHash("sha256").update(url).digest("hex");
}
