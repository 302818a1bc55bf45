/**
 * Every CalDAV request goes through `davFetch`: it adds the account's Basic credentials, counts
 * the request on the meter under its CalDAV method name, and turns the two answers that mean the
 * same on every server into typed errors (401: wrong password; no answer: unreachable). The
 * `fetch` is injected so the caller decides the outbound safety rules, time-outs and size caps.
 */
import type { ApiMeter } from "../sync/provider.ts";
import { encodeBase64 } from "../encoding.ts";
import { CalDavAuthError, CalDavError, CalDavUnreachableError } from "./dav_errors.ts";

/**
 * The fetch a client is given: the global one, or the outbound-safety fetch that checks every
 * address and redirect hop. Only this narrow shape is used, so either fits.
 */
export type DavFetch = (url: string, init: RequestInit) => Promise<Response>;

/** What a CalDAV call needs: how to fetch, who to be, and where to count requests. */
export interface DavClient {
  fetch: DavFetch;
  username: string;
  password: string;
  meter?: ApiMeter;
}

/**
 * The names requests are counted under, one per kind of request (a run's history reports them
 * like Google's "events.insert").
 */
export type DavMethodName =
  | "caldav.propfind"
  | "caldav.report.sync"
  | "caldav.report.multiget"
  | "caldav.report.query"
  | "caldav.get"
  | "caldav.put"
  | "caldav.delete";

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Sends one request with the client's credentials and counts it as `name`. Resolves with any
 * answer but 401; throws CalDavAuthError on 401 and CalDavUnreachableError when fetch got no
 * answer (fetch's TypeError), CalDavError when the body cannot be read. Other errors of the
 * injected fetch (a refused address) pass as they are.
 */
export async function davFetch(
  client: DavClient,
  name: DavMethodName,
  url: string,
  init: RequestInit,
): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = encodeBase64(new TextEncoder().encode(`${client.username}:${client.password}`));
  headers.set("authorization", `Basic ${token}`);
  client.meter?.count(name);
  let response: Response;
  try {
    response = await client.fetch(url, { ...init, headers });
  } catch (e) {
    if (e instanceof TypeError) throw new CalDavUnreachableError(url, { cause: e });
    throw e;
  }
  if (response.status === 401) {
    await response.body?.cancel();
    throw new CalDavAuthError(url);
  }
  // Read here, so a body that breaks while it is read (a bad gzip stream, a cut connection)
  // is a CalDavError naming the server, not a TypeError from deep inside a caller.
  let body: ArrayBuffer;
  try {
    body = await response.arrayBuffer();
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    throw new CalDavError(
      response.status,
      url,
      `${new URL(url).host} answered with a body busysync could not read (${e.message})`,
      { cause: e },
    );
  }
  // A 204 (Xandikos' answer to a PUT) may carry no body, not even an empty one.
  const read = new Response(NULL_BODY.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(read, "url", { value: response.url });
  return read;
}

/** The URL an answer came from after redirects (a constructed Response has none: the request's). */
export function answeredUrl(response: Response, requested: string): string {
  return response.url || requested;
}
