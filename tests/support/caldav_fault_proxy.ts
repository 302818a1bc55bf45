/**
 * A loopback proxy in front of a real CalDAV server that fails a share of the requests the way
 * networks and servers do: 503 before the server saw the request, 429 with `Retry-After: 0`, a
 * 502 after the server applied it (the write happened, the answer was lost), an answer whose body
 * breaks half-way, and a delay. It also retires sync tokens, as a server does when it prunes its
 * change log (caldav.md §3): once `invalidateSyncTokens()` is called, every token the server
 * handed out so far is answered 403 `DAV:valid-sync-token` (RFC 6578 §3.2), tokens issued later
 * work again.
 *
 * Faults are drawn from a seeded random source, so a seed repeats the same fault sequence for the
 * same request sequence.
 */

export type CalDavFault = "unavailable" | "throttled" | "lostAnswer" | "brokenBody" | "delay";

const FAULTS: readonly CalDavFault[] = [
  "unavailable",
  "throttled",
  "lostAnswer",
  "brokenBody",
  "delay",
];

export interface CalDavFaultProxy extends AsyncDisposable {
  /** The proxy's root (`http://127.0.0.1:<port>/`), to connect through instead of the server's. */
  baseUrl: string;
  /** The URL on the proxy of a URL on the server. */
  proxied(url: string): string;
  /** Fails each request with chance `rate`, drawing from `random`; undefined: no faults. */
  setFaults(faults: { rate: number; random: () => number } | undefined): void;
  /** Retires every sync token the server issued until now. */
  invalidateSyncTokens(): void;
  /** What went through: requests, faults by kind, sync tokens refused. */
  readonly stats: {
    requests: number;
    faults: Record<CalDavFault, number>;
    tokensRefused: number;
  };
  close(): Promise<void>;
}

const VALID_SYNC_TOKEN = `<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>`;

/** Starts a proxy to `serverUrl` (the server's root) on a free loopback port. */
export function startCalDavFaultProxy(serverUrl: string): CalDavFaultProxy {
  const upstream = new URL(serverUrl);
  let faults: { rate: number; random: () => number } | undefined;
  const issued = new Set<string>();
  const retired = new Set<string>();
  const stats = {
    requests: 0,
    faults: Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<CalDavFault, number>,
    tokensRefused: 0,
  };

  const draw = (): CalDavFault | undefined => {
    if (!faults || faults.random() >= faults.rate) return undefined;
    return FAULTS[Math.floor(faults.random() * FAULTS.length)];
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    stats.requests++;
    const url = new URL(req.url);
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
    const text = body ? new TextDecoder().decode(body) : "";
    const token = /<(?:\w+:)?sync-token>([^<]+)</.exec(text)?.[1];
    if (token && retired.has(token)) {
      stats.tokensRefused++;
      return new Response(VALID_SYNC_TOKEN, {
        status: 403,
        headers: { "content-type": "application/xml; charset=utf-8" },
      });
    }
    const fault = draw();
    if (fault) stats.faults[fault]++;
    if (fault === "unavailable") return new Response("upstream busy", { status: 503 });
    if (fault === "throttled") {
      return new Response("slow down", { status: 429, headers: { "retry-after": "0" } });
    }
    if (fault === "delay") await new Promise((r) => setTimeout(r, 40));
    const answer = await fetch(new URL(url.pathname + url.search, upstream), {
      method: req.method,
      headers: req.headers,
      body,
      redirect: "manual",
    });
    const bytes = new Uint8Array(await answer.arrayBuffer());
    for (const m of new TextDecoder().decode(bytes).matchAll(/<(?:\w+:)?sync-token>([^<]+)</g)) {
      issued.add(m[1]);
    }
    if (fault === "lostAnswer") return new Response("bad gateway", { status: 502 });
    // fetch decoded the body: its encoding and length no longer apply.
    const headers = new Headers(answer.headers);
    headers.delete("content-encoding");
    headers.delete("content-length");
    if (fault === "brokenBody" && bytes.length > 1) {
      // The full length announced and half of it sent: the connection ends mid-answer.
      headers.set("content-length", String(bytes.length));
      const half = bytes.slice(0, Math.floor(bytes.length / 2));
      const broken = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(half);
          controller.close();
        },
      });
      return new Response(broken, { status: answer.status, headers });
    }
    return new Response(bytes.length ? bytes : null, { status: answer.status, headers });
  });

  const baseUrl = `http://127.0.0.1:${server.addr.port}/`;
  const close = async () => {
    await server.shutdown();
  };
  return {
    baseUrl,
    proxied: (url) => {
      const u = new URL(url);
      return new URL(u.pathname + u.search, baseUrl).href;
    },
    setFaults: (next) => faults = next,
    invalidateSyncTokens: () => {
      for (const t of issued) retired.add(t);
    },
    stats,
    close,
    [Symbol.asyncDispose]: close,
  };
}
