/**
 * The long-lived services of one busysync process, built once from config and shared by the
 * HTTP app, the scheduler and the CLI: Google OAuth, the token source (one per process, so
 * concurrent refreshes of a connection share one call to Google), the one retry policy (whose
 * request budget must see every Google call of the process), sessions, the user's providers and
 * what the sync engine needs.
 */
import type { AppSecrets } from "./auth/secrets.ts";
import type { SessionDeps } from "./auth/session.ts";
import { VerifiedTokens } from "./auth/verified_tokens.ts";
import type { Config } from "./config.ts";
import { createGoogleOAuth, type GoogleOAuth } from "./google/oauth.ts";
import { createRetryPolicy, type RetryPolicy } from "./google/retry_policy.ts";
import { createTokenSource, type TokenSource } from "./google/token_source.ts";
import type { RequestAnswer } from "./google/provider.ts";
import { googleProviderFor } from "./google/user_provider.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics/instruments.ts";
import { statusOf } from "./google/google_errors.ts";
import { createIncidentSenders } from "./notify/senders.ts";
import { notifyIncidents } from "./notify/notify.ts";
import type { SyncDeps } from "./sync/engine.ts";
import type { ApiMeter, CalendarProvider } from "./sync/provider.ts";
import { caldavProviderFor } from "./caldav/provider.ts";
import { icsProviderFor } from "./ics/provider.ts";
import { providerByConnection } from "./providers/by_connection.ts";
import { createOutboundFetch } from "./net/outbound_fetch.ts";
import type { DavFetch } from "./caldav/dav_transport.ts";
import { noTracing, type Tracing } from "./telemetry/tracing.ts";

export interface ServiceInput {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  secrets: AppSecrets;
  now: () => Date;
  /** Where the services count what they do (the server's threads); absent: not counted. */
  metrics?: Metrics;
  /** Where requests, runs and calendar calls make spans; absent: none. */
  tracing?: Tracing;
}

export interface Services {
  google: GoogleOAuth;
  tokens: TokenSource;
  policy: RetryPolicy;
  /** The process's spans: one per HTTP request, sync run and calendar call. */
  tracing: Tracing;
  /** Sign-in sessions, with the cache of access JWTs already verified. */
  sessions: SessionDeps;
  /** The user's calendars through the provider interface. */
  providerFor(userId: string): CalendarProvider;
  /** The fetch for addresses a person typed (a CalDAV server): see lib/net/. */
  outboundFetch: DavFetch;
  /** Everything a sync engine entry point needs for one user. */
  syncDeps(userId: string): SyncDeps;
}

/** Builds the services; nothing here does I/O until used. */
export function createServices(input: ServiceInput): Services {
  const { config, kv, now } = input;
  const google = createGoogleOAuth({
    issuer: config.google.issuer,
    clientId: config.google.clientId,
    clientSecret: config.google.clientSecret,
    redirectUri: `${config.publicUrl}/api/auth/callback`,
    now,
  });
  const { metrics, tracing = noTracing } = input;
  const tokens = createTokenSource({
    kv,
    keyring: input.secrets.keyring,
    oauth: google,
    now,
    ...(metrics
      ? { onRefreshFailed: (reason) => metrics.tokenRefreshFailed("google", reason) }
      : {}),
  });
  const policy = createRetryPolicy({
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    requestsPerMinute: config.googleRequestsPerMinute,
    ...(metrics
      ? {
        onAttempt: (a) => {
          if (a.outcome !== "retry") return;
          metrics.calendarRetried("google", String(statusOf(a.error) ?? "none"), a.delayMs ?? 0);
        },
        onBudgetWait: (ms) => metrics.budgetWaited("google", ms),
      }
      : {}),
  });
  const onAnswer = metrics &&
    ((answer: RequestAnswer) => metrics.calendarAnswered({ service: "google", ...answer }));
  const notify = {
    kv,
    log: input.log,
    now,
    publicUrl: config.publicUrl,
    senders: createIncidentSenders(config),
  };
  const providerDeps = {
    tokens,
    apiUrl: config.google.apiUrl,
    policy,
    tracing,
    ...(onAnswer && { onAnswer }),
  };
  const outboundFetch: DavFetch = createOutboundFetch(config.outbound);
  const caldavDeps = { kv, keyring: input.secrets.keyring, fetch: outboundFetch, now };
  const providersOf = (userId: string, meter?: ApiMeter) =>
    providerByConnection(kv, userId, {
      google: googleProviderFor(meter ? { ...providerDeps, meter } : providerDeps, userId),
      caldav: caldavProviderFor(meter ? { ...caldavDeps, meter } : caldavDeps, userId),
      ics: icsProviderFor(meter ? { ...caldavDeps, meter } : caldavDeps, userId),
    });
  const providerFor = (userId: string) => providersOf(userId);
  return {
    google,
    tokens,
    policy,
    tracing,
    sessions: {
      kv,
      secret: input.secrets.sessionSecret,
      issuer: config.publicUrl,
      now,
      verified: new VerifiedTokens(),
    },
    providerFor,
    outboundFetch,
    syncDeps(userId) {
      return {
        kv,
        userId,
        // One provider per run (RunContext keeps it), counting that run's requests.
        providerFor: (_connectionId, meter) => providersOf(userId, meter),
        clock: now,
        keyring: input.secrets.keyring,
        config: {
          deleteGuard: config.deleteGuard,
          historyMaxRuns: config.historyMaxRuns,
          historyMaxDays: config.historyMaxDays,
          accountLimits: config.googleAccountLimits,
          requestsPerMinute: config.googleRequestsPerMinute,
        },
        log: input.log,
        // Runs are where incidents begin and end: tell the user about new ones right after.
        afterRun: () => notifyIncidents(notify, userId),
        ...(metrics ? { onRunFinished: (record) => metrics.runFinished(record) } : {}),
      };
    },
  };
}
