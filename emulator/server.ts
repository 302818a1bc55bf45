/**
 * Composes the Google emulator: OAuth/OIDC at the root, Calendar API v3 (events, push channels)
 * under /calendar/v3, the admin API under /__emulator when enabled, and Google's JSON 404 for
 * everything else. Push delivery hears of every committed change through one state listener.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createAdminApi } from "./admin.ts";
import { replaceResponse } from "./api_access.ts";
import { createCalendarApi } from "./calendar_api.ts";
import { ChannelRegistry, DEFAULT_TTL_SECONDS } from "./channels.ts";
import { createChannelsApi } from "./channels_api.ts";
import { FaultInjector } from "./faults.ts";
import { GoogleApiError, unknownRoute } from "./google_errors.ts";
import { OAuthServer } from "./oauth.ts";
import { DEFAULT_PUSH_OPTIONS, PushDelivery, type PushOptions } from "./push.ts";
import { RequestCounts } from "./request_counts.ts";
import { applySeed, type Seed } from "./seed.ts";
import { EmulatorState } from "./state.ts";
import { UsageLimits, type UsageLimitSettings } from "./usage_limits.ts";

export interface EmulatorOptions {
  admin: boolean;
  seed?: Seed;
  /** Default 3600, Google's access-token lifetime. */
  accessTokenTtlSeconds?: number;
  /** Clock in ms; default Date.now. Channel expiry follows it too. */
  now?: () => number;
  /**
   * Longest push-channel lifetime; longer requests are shortened. Default 7 days, Google's
   * default TTL (it documents no maximum: notes §6).
   */
  maxChannelTtlSeconds?: number;
  /** Push delivery retries and timeout (defaults in push.ts). */
  push?: Partial<PushOptions>;
  /**
   * How long a deleted event stays readable as `cancelled` before it is purged (its id stays
   * reserved, and older sync tokens answer 410). Default 30 days, a guess: Google says only that
   * cancelled events "eventually" disappear (notes §10).
   */
  purgeCancelledAfterSeconds?: number;
  /** Calendar usage limits (usage_limits.ts); default off. */
  usageLimits?: Partial<UsageLimitSettings>;
}

/** The default of `purgeCancelledAfterSeconds`. */
export const DEFAULT_PURGE_CANCELLED_SECONDS = 30 * 86_400;

export interface Emulator {
  app: Hono;
  oauth: OAuthServer;
  state: EmulatorState;
  faults: FaultInjector;
  limits: UsageLimits;
  counts: RequestCounts;
  channels: ChannelRegistry;
  push: PushDelivery;
}

/**
 * Builds the emulator's hono app and its state (seeded if a seed is given). `issuer` is the base
 * URL clients reach it at, used in OAuth discovery and id_tokens.
 */
export function createEmulator(opts: EmulatorOptions & { issuer: () => string }): Emulator {
  const now = opts.now ?? Date.now;
  const oauth = new OAuthServer({
    issuer: opts.issuer,
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600,
    now,
  });
  const state = new EmulatorState(
    now,
    (opts.purgeCancelledAfterSeconds ?? DEFAULT_PURGE_CANCELLED_SECONDS) * 1000,
  );
  const faults = new FaultInjector();
  const limits = new UsageLimits(now, opts.usageLimits);
  const counts = new RequestCounts();
  const channels = new ChannelRegistry({
    now,
    maxTtlSeconds: opts.maxChannelTtlSeconds ?? DEFAULT_TTL_SECONDS,
  });
  const push = new PushDelivery({
    channels,
    now,
    options: { ...DEFAULT_PUSH_OPTIONS, ...opts.push },
  });
  // Every write (API, admin, seed) commits through the state, so this one hook sees them all.
  state.onCommit((calendarId, seq) => push.notifyChange(calendarId, seq));
  if (opts.seed) applySeed(opts.seed, { state, oauth });

  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof GoogleApiError) {
      return c.json(err.body, err.status as 400, err.headers);
    }
    if (err instanceof HTTPException) return err.getResponse();
    console.error("emulator: unexpected error", err);
    const internal = new GoogleApiError(500, {
      domain: "global",
      reason: "backendError",
      message: "Backend Error",
    });
    return c.json(internal.body, 500);
  });
  app.notFound((c) => c.json(unknownRoute(c.req.path).body, 404));

  app.route("/calendar/v3", createCalendarApi({ state, oauth, faults, limits, counts }));
  app.route("/calendar/v3", createChannelsApi({ state, oauth, faults, counts, channels, push }));
  if (opts.admin) {
    app.route(
      "/__emulator",
      createAdminApi({
        state,
        oauth,
        faults,
        limits,
        counts,
        channels,
        push,
        initialSeed: opts.seed,
      }),
    );
  }
  // Token-endpoint faults (method `oauth.token`) let tests break refreshes too.
  app.post("/token", async (c, next) => {
    const fault = await faults.apply("oauth.token");
    if (fault?.instead) return fault.instead;
    await next();
    if (fault?.afterCall) replaceResponse(c, fault.afterCall);
  });
  app.route("/", oauth.routes());
  return { app, oauth, state, faults, limits, counts, channels, push };
}

export interface RunningEmulator {
  /** Base URL without a trailing slash, e.g. "http://127.0.0.1:54321". */
  url: string;
  oauth: OAuthServer;
  state: EmulatorState;
  /** Stops push deliveries (in-flight ones are aborted), then the server. */
  close(): Promise<void>;
}

/** Starts the emulator on `port` (0 picks a free one) and resolves once it accepts requests. */
export function startEmulator(
  opts: EmulatorOptions & { port: number; hostname?: string },
): RunningEmulator {
  const hostname = opts.hostname ?? "127.0.0.1";
  let url = "";
  const emulator = createEmulator({ ...opts, issuer: () => url });
  const server = Deno.serve({ port: opts.port, hostname, onListen() {} }, emulator.app.fetch);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  url = `http://${host}:${server.addr.port}`;
  return {
    url,
    oauth: emulator.oauth,
    state: emulator.state,
    close: async () => {
      await emulator.push.close();
      await server.shutdown();
    },
  };
}
