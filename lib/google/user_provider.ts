/**
 * Binds the Google provider to one user's stored connections: tokens come from the token source
 * (decrypted, refreshed ahead of expiry), and every call runs under the process-wide retry
 * policy, so the request budget per connection counts everything this instance sends.
 */
import type { OAuth2Client } from "google-auth-library";
import type { ApiMeter, CalendarProvider } from "../sync/provider.ts";
import { createGoogleProvider } from "./provider.ts";
import type { RetryPolicy } from "./retry_policy.ts";
import type { TokenSource } from "./token_source.ts";

export interface UserProviderDeps {
  tokens: TokenSource;
  apiUrl: string;
  policy: RetryPolicy;
  /** Hears of every request the provider sends (a sync run's counts). */
  meter?: ApiMeter;
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
  return createGoogleProvider({
    apiUrl: deps.apiUrl,
    policy: deps.policy,
    ...(deps.meter ? { meter: deps.meter } : {}),
    authFor: authOf,
    onUnauthorized: (connectionId) => {
      deps.tokens.rejectToken(authOf(connectionId));
      return Promise.resolve();
    },
  });
}
