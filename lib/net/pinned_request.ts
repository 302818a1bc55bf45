/**
 * One HTTP request sent to an address the outbound check approved, not to whatever the name
 * resolves to a moment later: a DNS server that answers a public address to the check and a
 * private one to the connection (rebinding) would otherwise steer the request past the check.
 *
 * Deno's fetch takes no resolver (and its `tcp` proxy transport sends the request line in proxy
 * form, which Radicale answers 403), so requests go through `node:http` and `node:https` with a
 * `lookup` answering the checked address; TLS still verifies the certificate against the name
 * (SNI and hostname check), and gzip and deflate answers are decoded, as fetch would.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { Readable } from "node:stream";

/** Certificates to trust instead of the system's (a test's own authority). */
export interface PinnedTls {
  caCerts?: string[];
}

/** Statuses whose answers have no body (a Response refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Sends `init` to `url` over a connection to `address`. Resolves with the answer as fetch
 * would (the body streamed, redirects not followed); rejects with a TypeError when no answer
 * came, as fetch does, and with the signal's reason when it was aborted.
 */
export async function pinnedRequest(
  url: URL,
  address: string,
  init: RequestInit & { signal: AbortSignal },
  tls: PinnedTls = {},
): Promise<Response> {
  return await nodePinned(url, address, init, tls);
}

async function nodePinned(
  url: URL,
  address: string,
  init: RequestInit & { signal: AbortSignal },
  tls: PinnedTls,
): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  const payload = init.body == null
    ? undefined
    : new Uint8Array(await new Request(url, { method: "POST", body: init.body }).arrayBuffer());
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const literal = /^[\d.]+$/.test(host) || host.includes(":");
  const family = address.includes(":") ? 6 : 4;
  return await new Promise<Response>((resolve, reject) => {
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    const req = send({
      host,
      port: Number(url.port || (url.protocol === "http:" ? 80 : 443)),
      path: url.pathname + url.search,
      method,
      headers: {
        "accept-encoding": "gzip, deflate",
        ...Object.fromEntries(new Headers(init.headers)),
      },
      // SNI carries names only; a literal address is checked against the certificate as is.
      ...(literal || url.protocol === "http:" ? {} : { servername: host }),
      lookup: ((_name, options, callback) =>
        options.all
          ? callback(null, [{ address, family }])
          : callback(null, address, family)) as LookupFunction,
      ...(tls.caCerts ? { ca: tls.caCerts } : {}),
      // Always: node:https would otherwise obey NODE_TLS_REJECT_UNAUTHORIZED=0 in the
      // environment, which Deno's fetch ignores, and send passwords to anyone in the middle.
      rejectUnauthorized: true,
      signal: init.signal,
      agent: false,
    }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of [value].flat()) {
          if (v !== undefined) {
            headers.append(name, String(v));
          }
        }
      }
      const status = res.statusCode ?? 502;
      const empty = NULL_BODY.has(status) || method === "HEAD";
      if (empty) {
        res.resume();
      }
      let body = empty ? null : Readable.toWeb(res) as ReadableStream<BufferSource>;
      // Decoded as fetch decodes: after it, the size cap counts what is really read.
      const encoding = headers.get("content-encoding")?.trim().toLowerCase();
      const format = encoding === "gzip" || encoding === "x-gzip"
        ? "gzip"
        : encoding === "deflate"
        ? "deflate"
        : undefined;
      if (body && format) {
        body = body.pipeThrough(new DecompressionStream(format));
        headers.delete("content-encoding");
        headers.delete("content-length");
      }
      resolve(new Response(body, { status, statusText: res.statusMessage ?? "", headers }));
    });
    req.on("error", (err: Error) => {
      if (init.signal.aborted) reject(init.signal.reason);
      else reject(new TypeError(`no answer from ${url.host}: ${err.message}`, { cause: err }));
    });
    req.end(payload);
  });
}
