/**
 * Push-notification channels (notes §6): what events.watch opens and channels.stop ends. A channel
 * belongs to one OAuth client (Google makes channel ids unique per project, and a client is the
 * emulator's project) and one user, watches one calendar, and lives until it is stopped or its
 * expiration passes on the emulator's clock. Nothing runs on a timer: an expired channel is
 * dropped the next time anything looks at it, which is all "expired channels stop delivering"
 * needs, and it keeps tests with a frozen clock deterministic.
 */
import {
  badRequest,
  channelIdNotUnique,
  channelNotFound,
  channelOwnedByOtherUser,
} from "./google_errors.ts";

/** `params.ttl`'s default: 7 days (notes §6, settings/watch reference). */
export const DEFAULT_TTL_SECONDS = 604_800;

export interface Channel {
  id: string;
  resourceId: string;
  resourceUri: string;
  /** The calendar's real id (never the alias `primary`). */
  calendarId: string;
  /** The user who opened it, lower-cased. */
  email: string;
  clientId: string;
  address: string;
  token?: string;
  /** Unix ms. */
  expiration: number;
  /** Set when stopped, expired or cleared; queued deliveries check it before every attempt. */
  ended: boolean;
  /** Number of the last message queued for it; the `sync` message is 1 (notes §6). */
  messageNumber: number;
  /** Messages the receiver accepted / that failed for good (push.ts). */
  deliveries: { ok: number; failed: number };
}

export interface ChannelRequest {
  id: string;
  resourceId: string;
  resourceUri: string;
  calendarId: string;
  email: string;
  clientId: string;
  address: string;
  token?: string;
  /** Requested expiration (Unix ms), if the body has one. */
  expiration?: number;
  /** `params.ttl` in seconds, if the body has one. */
  ttlSeconds?: number;
}

/**
 * An opaque id for the watched resource, stable for one calendar and one set of list parameters
 * (notes §6: "resourceId (stable)"). SHA-1 in base64url, 27 characters, because Google's look like
 * that (e.g. `R6UYSjrlMC-1EVvMMHNoFKl1jDg`, google-api-nodejs-client#1402); the format is a guess.
 */
export async function resourceIdFor(calendarId: string, query: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(`${calendarId}?${query}`),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export class ChannelRegistry {
  /** Keyed by client and channel id: ids are unique per project, not globally. */
  readonly #channels = new Map<string, Channel>();
  readonly #now: () => number;
  readonly #maxTtlMs: number;

  /** `maxTtlSeconds`: the longest lifetime granted; Google documents none (notes §6). */
  constructor(opts: { now: () => number; maxTtlSeconds: number }) {
    this.#now = opts.now;
    this.#maxTtlMs = opts.maxTtlSeconds * 1000;
  }

  /**
   * Opens a channel expiring at the requested time (the earlier of `expiration` and now + ttl;
   * now + 7 days when neither is given), shortened to the maximum lifetime as Google may do
   * (notes §6). Throws 400 channelIdNotUnique when the client has a live channel with this id,
   * and 400 invalid when the requested expiration has already passed.
   */
  open(req: ChannelRequest): Channel {
    const now = this.#now();
    const key = keyOf(req.clientId, req.id);
    const existing = this.#channels.get(key);
    if (existing && this.isLive(existing)) throw channelIdNotUnique(req.id);
    const requested = Math.min(
      req.expiration ?? Infinity,
      req.ttlSeconds === undefined ? Infinity : now + req.ttlSeconds * 1000,
    );
    const wanted = Number.isFinite(requested) ? requested : now + DEFAULT_TTL_SECONDS * 1000;
    if (wanted <= now) {
      throw badRequest("invalid", "Channel expiration is in the past.", {
        type: "body",
        name: "expiration",
      });
    }
    const channel: Channel = {
      id: req.id,
      resourceId: req.resourceId,
      resourceUri: req.resourceUri,
      calendarId: req.calendarId,
      email: req.email.toLowerCase(),
      clientId: req.clientId,
      address: req.address,
      ...(req.token ? { token: req.token } : {}),
      expiration: Math.min(wanted, now + this.#maxTtlMs),
      ended: false,
      messageNumber: 0,
      deliveries: { ok: 0, failed: 0 },
    };
    this.#channels.set(key, channel);
    return channel;
  }

  /**
   * channels.stop: ends the channel at once. Another project, an unknown id or a resourceId that
   * does not match is 404 (a project cannot see other projects' channels); another user of the
   * same project is 403, since only the user who opened it may stop it (notes §6).
   */
  stop(id: string, resourceId: string, caller: { email: string; clientId: string }): void {
    const channel = this.#channels.get(keyOf(caller.clientId, id));
    if (!channel || !this.isLive(channel) || channel.resourceId !== resourceId) {
      throw channelNotFound(id, caller.clientId);
    }
    if (channel.email !== caller.email.toLowerCase()) throw channelOwnedByOtherUser();
    this.#end(channel);
  }

  /** True while the channel may deliver; drops it once stopped or past its expiration. */
  isLive(channel: Channel): boolean {
    if (!channel.ended && channel.expiration > this.#now()) return true;
    this.#end(channel);
    return false;
  }

  /** Live channels watching the calendar. */
  watching(calendarId: string): Channel[] {
    return this.list().filter((ch) => ch.calendarId === calendarId);
  }

  /** Every live channel, oldest first. */
  list(): Channel[] {
    return [...this.#channels.values()].filter((ch) => this.isLive(ch));
  }

  /** Ends every live channel with this id (of any client), or all of them; returns how many. */
  expire(id?: string): number {
    const doomed = this.list().filter((ch) => id === undefined || ch.id === id);
    for (const ch of doomed) this.#end(ch);
    return doomed.length;
  }

  /** Ends every channel (admin reset). */
  clear(): void {
    for (const ch of this.#channels.values()) ch.ended = true;
    this.#channels.clear();
  }

  #end(channel: Channel): void {
    channel.ended = true;
    const key = keyOf(channel.clientId, channel.id);
    // A reused id may already name a newer channel; only drop this one.
    if (this.#channels.get(key) === channel) this.#channels.delete(key);
  }
}

function keyOf(clientId: string, id: string): string {
  return `${clientId}\n${id}`;
}
