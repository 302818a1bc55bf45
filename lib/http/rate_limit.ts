/**
 * Per-client-address rate limits for the requests an attacker would repeat: starting OAuth
 * flows and OAuth callbacks. Counts live in KV (lib/db/rate_limits.ts), so every process on
 * the store shares them.
 *
 * Fixed windows, not sliding: the limits guard against floods and guessing, where a burst of up
 * to twice the limit across a window boundary does no harm, and a fixed window gives an exact
 * Retry-After (the window's end) with one KV key per client and window.
 */
import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import { takeFromWindow } from "../db/rate_limits.ts";
import { HttpError } from "./errors.ts";

/** The limits busysync applies; see the README's "Sign-in and sessions". */
export const RATE_LIMITS = {
  /** Sign-in and connect flows started. */
  oauthStart: { limit: 10, windowMs: 5 * 60_000 },
  /**
   * CalDAV connects: each tries a password at a server the person named, so the limit keeps
   * busysync from being used to guess passwords.
   */
  caldavConnect: { limit: 10, windowMs: 5 * 60_000 },
  /** OAuth callbacks (each costs a token exchange with Google). */
  oauthCallback: { limit: 20, windowMs: 5 * 60_000 },
  /** Syncs a user asks for ("Sync now", confirming a held rule): each costs Google requests. */
  syncTrigger: { limit: 6, windowMs: 60_000 },
} as const;

export interface RateLimitOptions {
  kv: Deno.Kv;
  bucket: keyof typeof RATE_LIMITS;
  now: () => Date;
  /** BUSYSYNC_TRUST_PROXY: believe the proxy's X-Forwarded-For. */
  trustProxy: boolean;
  /** Who is counted; default the client address (per-user limits pass the user's id). */
  key?: (c: Context) => string;
}

/** Answers 429 `rate_limited` with `Retry-After` once a client used up its window. */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const { limit, windowMs } = RATE_LIMITS[options.bucket];
  return async function rateLimited(c, next) {
    const now = options.now();
    const decision = await takeFromWindow(options.kv, {
      bucket: options.bucket,
      client: options.key?.(c) ?? clientAddress(c, options.trustProxy),
      windowMs,
      limit,
      now,
    });
    if (!decision.allowed) {
      const seconds = Math.max(1, Math.ceil((decision.windowEnd - now.getTime()) / 1000));
      throw new HttpError(
        429,
        "rate_limited",
        `Too many attempts from your ${options.key ? "account" : "address"}; ` +
          `try again in ${seconds} seconds.`,
        undefined,
        { "Retry-After": String(seconds) },
      );
    }
    await next();
  };
}

const ConnInfoSchema = z.object({ remoteAddr: z.object({ hostname: z.string().min(1) }) });

/**
 * The address a request came from: the TCP peer (Deno.serve's `info.remoteAddr`, which hono
 * passes as `c.env`), or with `trustProxy` the last `X-Forwarded-For` entry, the one our own
 * proxy appended (entries before it are whatever the client claimed). IPv6 addresses count per
 * /64, the block one subscriber typically gets, so one client cannot rotate through addresses.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").map((s) => s.trim())
      .filter(Boolean).at(-1);
    if (forwarded) return addressKey(forwarded);
  }
  const info = ConnInfoSchema.safeParse(c.env);
  return info.success ? addressKey(info.data.remoteAddr.hostname) : "unknown";
}

function addressKey(address: string): string {
  const bare = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (!bare.includes(":")) return bare;
  const groups = ipv6Groups(bare);
  // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2); counting
  // those per /64 would put every IPv4 client in one bucket, so they count as the IPv4 address.
  if (groups.slice(0, 6).join(":") === "0:0:0:0:0:ffff") {
    const [hi, lo] = groups.slice(6).map((g) => parseInt(g, 16));
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
  }
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, `::` expanded and a trailing dotted quad as two groups. */
function ipv6Groups(address: string): string[] {
  const quad = address.match(/^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  const hex = quad
    ? `${quad[1]}${((+quad[2] << 8) | +quad[3]).toString(16)}:${
      ((+quad[4] << 8) | +quad[5]).toString(16)
    }`
    : address;
  const [head, tail = ""] = hex.split("::");
  const left = head ? head.split(":") : [];
  const right = hex.includes("::") && tail ? tail.split(":") : [];
  const groups = hex.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}
