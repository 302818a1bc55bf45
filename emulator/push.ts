/**
 * Push delivery (notes §6): a `sync` message numbered 1 when a channel opens, then one `exists`
 * message per committed change to the watched calendar, each a POST with an empty body, Google's
 * `X-Goog-*` headers and its user agent.
 *
 * - Never blocks the write that caused it: messages queue per channel and go out from the event
 *   loop. Each channel's queue is in order, so a receiver sees message numbers increase.
 * - No added delay, so a benchmark of the app's push latency measures the app, not this.
 * - No coalescing: Google reports every change (notes §6: "Any change ... is reported as
 *   `exists`"), so a burst of writes is a burst of notifications and debouncing is the app's job.
 * - 200/201/202/204 are success; 500/502/503/504 and network errors are retried with exponential
 *   backoff up to a bounded number of attempts; anything else fails at once (notes §6).
 * - A stopped or expired channel sends nothing more, not even messages already queued.
 */
import type { Channel, ChannelRegistry } from "./channels.ts";

export interface PushOptions {
  /** Tries per message, the first included. */
  attempts: number;
  /** Wait before the first retry, doubled for each later one. Google's schedule is unknown. */
  retryBaseDelayMs: number;
  /** A receiver slower than this counts as a network error. */
  timeoutMs: number;
}

export const DEFAULT_PUSH_OPTIONS: PushOptions = {
  attempts: 5,
  retryBaseDelayMs: 500,
  timeoutMs: 10_000,
};

/** The user agent Google's push requests carry (notes §6: "APIs-Google"). */
export const PUSH_USER_AGENT =
  "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)";

/**
 * Statuses Google counts as delivered (notes §6). 102 is on Google's list too, but fetch never
 * returns a 1xx as a final response, so it cannot arrive here.
 */
const DELIVERED = new Set([200, 201, 202, 204]);
const RETRIED = new Set([500, 502, 503, 504]);
/** How many attempts `deliveries()` remembers. */
const LOG_LIMIT = 1000;

type ResourceState = "sync" | "exists";

interface Message {
  state: ResourceState;
  number: number;
  /** performance.now() when the change (or the watch) happened. */
  queuedAt: number;
}

/** One delivery attempt, as `GET /__emulator/push/deliveries` shows it. */
export interface DeliveryRecord {
  channelId: string;
  resourceState: ResourceState;
  messageNumber: number;
  attempt: number;
  /** The receiver's status; null for a network error or timeout. */
  status: number | null;
  error?: string;
  outcome: "ok" | "retry" | "failed";
  /** When the attempt ended, on the emulator's clock (ISO 8601). */
  at: string;
  /** Real milliseconds from the change (or the watch) to the end of this attempt. */
  latencyMs: number;
}

export class PushDelivery {
  readonly #channels: ChannelRegistry;
  readonly #now: () => number;
  readonly #options: PushOptions;
  /** Each channel's chain of pending messages; a message starts when the one before it ends. */
  readonly #queues = new Map<Channel, Promise<void>>();
  readonly #log: DeliveryRecord[] = [];
  /** Aborts in-flight requests and wakes retry waits when the emulator closes. */
  readonly #closing = new AbortController();
  /** Pending while paused; deliveries wait on it before each attempt. */
  #resumed: PromiseWithResolvers<void> | undefined;

  constructor(deps: { channels: ChannelRegistry; now: () => number; options: PushOptions }) {
    this.#channels = deps.channels;
    this.#now = deps.now;
    this.#options = deps.options;
  }

  /** Queues a new channel's `sync` message, number 1 (notes §6). */
  announce(channel: Channel): void {
    channel.messageNumber = 1;
    this.#enqueue(channel, { state: "sync", number: 1, queuedAt: performance.now() });
  }

  /**
   * Queues one `exists` message for every live channel on the calendar. The number is the
   * change's position in the emulator-wide sequence (at least one more than the last), so it
   * increases and skips values as Google's does (notes §6): receivers must not expect a gap-free
   * run.
   */
  notifyChange(calendarId: string, seq: number): void {
    const queuedAt = performance.now();
    for (const channel of this.#channels.watching(calendarId)) {
      channel.messageNumber = Math.max(channel.messageNumber + 1, seq);
      this.#enqueue(channel, { state: "exists", number: channel.messageNumber, queuedAt });
    }
  }

  /** Holds every delivery (queued messages wait) until `resume`. */
  pause(): void {
    this.#resumed ??= Promise.withResolvers<void>();
  }

  resume(): void {
    this.#resumed?.resolve();
    this.#resumed = undefined;
  }

  get paused(): boolean {
    return this.#resumed !== undefined;
  }

  /** Recent attempts, oldest first (at most the last 1000). */
  deliveries(): DeliveryRecord[] {
    return [...this.#log];
  }

  /** Forgets the log and resumes (admin reset; the registry ends the channels themselves). */
  reset(): void {
    this.#log.length = 0;
    this.resume();
  }

  /** Stops every delivery (in-flight requests are aborted) and waits until all have ended. */
  async close(): Promise<void> {
    this.#closing.abort();
    this.resume();
    await Promise.allSettled(this.#queues.values());
  }

  #enqueue(channel: Channel, message: Message): void {
    const previous = this.#queues.get(channel) ?? Promise.resolve();
    const next = previous.then(() => this.#deliver(channel, message));
    this.#queues.set(channel, next);
    next.then(() => {
      if (this.#queues.get(channel) === next) this.#queues.delete(channel);
    });
  }

  async #deliver(channel: Channel, message: Message): Promise<void> {
    for (let attempt = 1;; attempt++) {
      while (this.#resumed) await this.#resumed.promise;
      if (this.#closing.signal.aborted || !this.#channels.isLive(channel)) return;
      const { status, error } = await this.#post(channel, message);
      // Aborted by close(): not the receiver's failure, and nothing will retry it.
      if (this.#closing.signal.aborted) return;
      const retry = (status === null || RETRIED.has(status)) && attempt < this.#options.attempts;
      const outcome = status !== null && DELIVERED.has(status) ? "ok" : retry ? "retry" : "failed";
      this.#record({
        channelId: channel.id,
        resourceState: message.state,
        messageNumber: message.number,
        attempt,
        status,
        ...(error ? { error } : {}),
        outcome,
        at: new Date(this.#now()).toISOString(),
        latencyMs: Math.round(performance.now() - message.queuedAt),
      });
      if (outcome === "ok") channel.deliveries.ok++;
      if (outcome === "failed") channel.deliveries.failed++;
      if (outcome !== "retry") return;
      await this.#wait(this.#options.retryBaseDelayMs * 2 ** (attempt - 1));
    }
  }

  /** One POST; resolves with the status, or null and the reason for a network error. */
  async #post(
    channel: Channel,
    message: Message,
  ): Promise<{ status: number | null; error?: string }> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#options.timeoutMs);
    try {
      const res = await fetch(channel.address, {
        method: "POST",
        headers: notificationHeaders(channel, message),
        // A redirect is an answer other than success, so a failure (notes §6), not a new target.
        redirect: "manual",
        signal: AbortSignal.any([timeout.signal, this.#closing.signal]),
      });
      await res.body?.cancel();
      return { status: res.status };
    } catch (e) {
      const error = timeout.signal.aborted ? "timeout" : e instanceof Error ? e.message : String(e);
      return { status: null, error };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits `ms`, or less if the emulator closes meanwhile. */
  #wait(ms: number): Promise<void> {
    const signal = this.#closing.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    });
  }

  #record(entry: DeliveryRecord): void {
    this.#log.push(entry);
    if (this.#log.length > LOG_LIMIT) this.#log.splice(0, this.#log.length - LOG_LIMIT);
  }
}

/** The request headers of a notification (notes §6); the expiration in HTTP-date form. */
function notificationHeaders(channel: Channel, message: Message): Record<string, string> {
  return {
    "User-Agent": PUSH_USER_AGENT,
    "X-Goog-Channel-ID": channel.id,
    "X-Goog-Channel-Expiration": new Date(channel.expiration).toUTCString(),
    "X-Goog-Message-Number": String(message.number),
    "X-Goog-Resource-ID": channel.resourceId,
    "X-Goog-Resource-State": message.state,
    "X-Goog-Resource-URI": channel.resourceUri,
    ...(channel.token ? { "X-Goog-Channel-Token": channel.token } : {}),
  };
}
