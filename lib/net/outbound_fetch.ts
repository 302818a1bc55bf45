/**
 * The fetch for addresses a person typed (a CalDAV server, later an ICS feed). It refuses plain
 * http and every private, loopback and link-local address unless the instance allows them
 * (BUSYSYNC_OUTBOUND_ALLOW), checks each redirect hop the same way, never carries credentials
 * to another origin, and caps time and size.
 *
 * The check resolves the host before the request and refuses when any address it has is
 * blocked; the request then goes to the checked address itself (pinned_request.ts), so a DNS
 * server that answers differently the second time (rebinding) cannot steer it elsewhere.
 */
import { blockedBecause, type Cidr } from "./address_ranges.ts";
import { OutboundRefusedError } from "./outbound_errors.ts";
import { pinnedRequest, type PinnedTls } from "./pinned_request.ts";

export interface OutboundPolicy {
  /** Ranges that may be reached although private (a CalDAV server on the LAN); over http too. */
  allow: readonly Cidr[];
  /** Plain http to any address (else only to an allowed range). */
  allowHttp: boolean;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export interface OutboundDeps {
  /** Every address of `host` (A and AAAA); Deno.resolveDns by default, a test's own server. */
  resolve?: (host: string) => Promise<string[]>;
  /** Certificates to trust instead of the system's (a test's own authority). */
  tls?: PinnedTls;
}

export type OutboundFetch = (url: string, init: RequestInit) => Promise<Response>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

async function resolveDns(host: string): Promise<string[]> {
  const settle = async (type: "A" | "AAAA") => {
    try {
      return await Deno.resolveDns(host, type);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
  };
  const [a, aaaa] = await Promise.all([settle("A"), settle("AAAA")]);
  return [...a, ...aaaa];
}

export function createOutboundFetch(
  policy: OutboundPolicy,
  deps: OutboundDeps = {},
): OutboundFetch {
  const resolve = deps.resolve ?? resolveDns;

  /**
   * Refuses `url` unless its scheme and every address of its host may be reached; returns the
   * address to connect to.
   */
  async function check(url: URL): Promise<string> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new OutboundRefusedError("scheme", host, `busysync fetches only https addresses.`);
    }
    if (url.username || url.password) {
      throw new OutboundRefusedError(
        "scheme",
        host,
        "Give the user name and password in their own fields, not inside the address.",
      );
    }
    const literal = /^[\d.]+$/.test(host) || host.includes(":");
    let addresses: string[];
    try {
      addresses = literal ? [host] : await resolve(host);
    } catch {
      addresses = [];
    }
    if (!addresses.length) {
      throw new OutboundRefusedError(
        "unresolvable",
        host,
        `${host} has no address busysync can find.`,
      );
    }
    const allowedAll = addresses.every((a) =>
      policy.allow.length > 0 && blockedBecause(a, policy.allow) === undefined &&
      blockedBecause(a, []) !== undefined
    );
    for (const address of addresses) {
      const why = blockedBecause(address, policy.allow);
      if (why) {
        throw new OutboundRefusedError(
          "private_address",
          host,
          `busysync does not connect to ${host}: it is ${why} (${address}). An instance that ` +
            "must reach such a server lists its range in BUSYSYNC_OUTBOUND_ALLOW.",
        );
      }
    }
    if (url.protocol === "http:" && !policy.allowHttp && !allowedAll) {
      throw new OutboundRefusedError(
        "scheme",
        host,
        `${host} was given with plain http; busysync sends passwords only over https.`,
      );
    }
    return addresses[0];
  }

  return async (input, init) => {
    let url = new URL(input);
    const signals = [AbortSignal.timeout(policy.timeoutMs), ...(init.signal ? [init.signal] : [])];
    const signal = AbortSignal.any(signals);
    const origin = url.origin;
    let request: RequestInit = { ...init, redirect: "manual", signal };
    for (let hop = 0;; hop++) {
      const address = await check(url);
      let response: Response;
      try {
        response = await pinnedRequest(url, address, { ...request, signal }, deps.tls);
      } catch (err) {
        if (signal.aborted && !init.signal?.aborted) {
          throw new OutboundRefusedError(
            "timeout",
            url.hostname,
            `${url.hostname} did not answer within ${Math.round(policy.timeoutMs / 1000)} s.`,
          );
        }
        throw err;
      }
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || !location) return capped(response, url.href);
      await response.body?.cancel();
      if (hop >= policy.maxRedirects) {
        throw new OutboundRefusedError(
          "too_many_redirects",
          url.hostname,
          `${url.hostname} redirected more than ${policy.maxRedirects} times.`,
        );
      }
      const next = new URL(location, url);
      const headers = new Headers(request.headers);
      // Credentials are for the origin the person named, never for one a redirect names.
      if (next.origin !== origin) { for (const h of CREDENTIAL_HEADERS) headers.delete(h); }
      const method = response.status === 303 ? "GET" : request.method;
      request = {
        ...request,
        method,
        headers,
        ...(response.status === 303 ? { body: undefined } : {}),
      };
      url = next;
    }
  };

  /** The response with its body cut off, as an error, past `maxBytes`. */
  function capped(response: Response, url: string): Response {
    const host = new URL(url).hostname;
    if (!response.body) return response;
    let seen = 0;
    const limit = policy.maxBytes;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > limit) {
            controller.error(
              new OutboundRefusedError(
                "too_large",
                host,
                `${host} answered with more than ${Math.round(limit / 1_048_576)} MB.`,
              ),
            );
            return;
          }
          controller.enqueue(chunk);
        },
      }),
    );
    const out = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    // Where the answer came from after redirects: discovery resolves the hrefs against it.
    Object.defineProperty(out, "url", { value: response.url || url });
    return out;
  }
}
