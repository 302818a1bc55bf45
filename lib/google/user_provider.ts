/**
 * Binds the Google provider to one user's stored connections: tokens come from the token source
 * (decrypted, refreshed ahead of expiry), and every call runs under the process-wide retry
 * policy, so the request budget per connection counts everything this instance sends. A call
 * that ends in lost authorization marks its connection "needs reconnect".
 */
import type { OAuth2Client } from "google-auth-library";
import { type ApiMeter, type CalendarProvider, ReconnectRequiredError } from "../sync/provider.ts";
import { createGoogleProvider, type RequestAnswer } from "./provider.ts";
import type { RetryPolicy } from "./retry_policy.ts";
import type { TokenSource } from "./token_source.ts";
import type { Tracing } from "../telemetry/tracing.ts";

export interface UserProviderDeps {
  tokens: TokenSource;
  apiUrl: string;
  policy: RetryPolicy;
  /** Hears of every request the provider sends (a sync run's counts). */
  meter?: ApiMeter;
  /** Hears how every request ended (the process's metrics). */
  onAnswer?: (answer: RequestAnswer) => void;
  /** Makes a span of every request (the process's traces). */
  tracing?: Tracing;
}

/** The user's calendars behind the CalendarProvider interface; connection ids are theirs. */
export function googleProviderFor(deps: UserProviderDeps, userId: string): CalendarProvider {
  const clients = new Map<string, OAuth2Client>();
  const authOf = (connectionId: string) => {
    let auth = clients.get(connectionId);
    if (!auth) {
      auth = deps.tokens.authClient({ userId, connectionId });
      clients.set(connectionId, auth);
    }
    return auth;
  };
  const provider = createGoogleProvider({
    apiUrl: deps.apiUrl,
    policy: deps.policy,
    ...(deps.meter ? { meter: deps.meter } : {}),
    ...(deps.onAnswer ? { onAnswer: deps.onAnswer } : {}),
    ...(deps.tracing ? { tracing: deps.tracing } : {}),
    authFor: authOf,
    onUnauthorized: (connectionId) => {
      deps.tokens.rejectToken(authOf(connectionId));
      return Promise.resolve();
    },
  });
  return markingLostAuthorization(provider, (err) =>
    deps.tokens.markAuthorizationLost(
      { userId, connectionId: err.connectionId },
      `${err.message}. Connect the account again.`,
    ));
}

/**
 * The provider with every failure that means lost authorization (a 401 that outlived the token
 * the provider fetched after the first one, a missing scope) also reported to `onLost` before it
 * reaches the caller. Without it the connection stayed "active" while every run failed with a
 * reconnect error: only a refused refresh token marked it.
 */
function markingLostAuthorization(
  provider: CalendarProvider,
  onLost: (err: ReconnectRequiredError) => Promise<void>,
): CalendarProvider {
  const reported = async (err: unknown): Promise<never> => {
    if (err instanceof ReconnectRequiredError) await onLost(err);
    throw err;
  };
  const { watch, stopChannel } = provider;
  return {
    listCalendars: (id) => provider.listCalendars(id).catch(reported),
    listChanges: (cal, cursor, window) => provider.listChanges(cal, cursor, window).catch(reported),
    putMirror: (cal, id, mirror, options) =>
      provider.putMirror(cal, id, mirror, options).catch(reported),
    deleteMirror: (cal, id) => provider.deleteMirror(cal, id).catch(reported),
    listInstances: (cal, seriesId, window) =>
      provider.listInstances(cal, seriesId, window).catch(reported),
    async *listMarked(cal, key, value) {
      try {
        yield* provider.listMarked(cal, key, value);
      } catch (err) {
        await reported(err);
      }
    },
    ...(watch && { watch: (cal, channel) => watch(cal, channel).catch(reported) }),
    ...(stopChannel &&
      { stopChannel: (id, channel) => stopChannel(id, channel).catch(reported) }),
  };
}
