/**
 * Valid Google access tokens for a connection, for everything that calls Google on a user's
 * behalf; `authClient` is what the Google provider (user_provider.ts) authenticates with.
 *
 * The access token is refreshed ahead of expiry and stored encrypted with a versionstamp-checked
 * write. When Google refuses the refresh token (`invalid_grant`: revoked by the user, or the
 * 7-day expiry of apps in testing) the connection is marked `needs_reconnect` and
 * ReconnectRequiredError is thrown; its rules and mirrors are left alone.
 */
import { OAuth2Client } from "google-auth-library";
import type { Keyring } from "../auth/crypto.ts";
import {
  type ConnectionEntry,
  getConnectionEntry,
  markNeedsReconnect,
  replaceTokens,
  type StoredTokens,
} from "../db/connections.ts";
import { ReconnectRequiredError } from "../sync/provider.ts";
import type { GoogleOAuth } from "./oauth.ts";
import { OAuthEndpointError } from "./oauth_errors.ts";
import {
  type ConnectionRef,
  openAccessToken,
  openRefreshToken,
  sealAccessToken,
} from "../auth/connection_secrets.ts";

// The engine's error type (lib/sync/provider.ts): one class, whoever detects the dead grant.
export { type ConnectionRef, ReconnectRequiredError };

/** Refresh when less than this is left: google-auth-library's own eager threshold (notes §7). */
const REFRESH_AHEAD_MS = 5 * 60_000;
/**
 * A token reported as rejected is refreshed only if it is older than this. The Google client
 * reports 403s as auth failures too (PLATFORM.md), and a burst of rateLimitExceeded must not
 * become a burst of token refreshes.
 */
const MIN_FORCED_REFRESH_AGE_MS = 60_000;

/** The user has no connection with that id (never had, or it was disconnected). */
export class ConnectionNotFoundError extends Error {
  constructor(readonly connectionId: string) {
    super(`no connection ${connectionId}`);
    this.name = "ConnectionNotFoundError";
  }
}

export interface TokenSourceDeps {
  kv: Deno.Kv;
  keyring: Keyring;
  oauth: GoogleOAuth;
  now: () => Date;
  /**
   * Hears of every refresh Google refused: "revoked" when the grant is dead (the connection
   * needs reconnecting), "error" for any other failure (the next call tries again).
   */
  onRefreshFailed?: (reason: "revoked" | "error") => void;
}

export interface TokenSource {
  /**
   * A valid access token for the connection. `rejected`: a token Google just refused, which is
   * then replaced (unless it was issued within the last minute). Throws ReconnectRequiredError,
   * ConnectionNotFoundError, or the OAuth/network error of a refresh that failed otherwise.
   */
  getAccessToken(ref: ConnectionRef, options?: { rejected?: string }): Promise<string>;
  /**
   * An OAuth2Client that draws its tokens from this source: what the Google provider takes as
   * `auth`. A 401 reaches the caller (the provider maps it to ReconnectRequiredError) instead
   * of being replayed behind the retry policy's back.
   */
  authClient(ref: ConnectionRef): OAuth2Client;
  /**
   * Makes `auth` (from authClient) fetch a fresh token on its next request: for a 401 on a
   * token that had not yet expired by our clock. A token issued in the last minute is kept.
   */
  rejectToken(auth: OAuth2Client): void;
  /**
   * Marks the connection "needs reconnect" because Google keeps refusing its calls although a
   * fresh token was tried (ReconnectRequiredError from the provider). Keeps an earlier reason.
   */
  markAuthorizationLost(ref: ConnectionRef, reason: string): Promise<void>;
}

interface LiveToken {
  token: string;
  expiresAt: number;
}

/** Creates a token source; concurrent refreshes of one connection share one call to Google. */
export function createTokenSource(deps: TokenSourceDeps): TokenSource {
  const inflight = new Map<string, Promise<LiveToken>>();
  const rejectedBy = new WeakMap<OAuth2Client, string>();

  async function current(ref: ConnectionRef, rejected?: string): Promise<LiveToken> {
    const entry = await getConnectionEntry(deps.kv, ref.userId, ref.connectionId);
    if (!entry) throw new ConnectionNotFoundError(ref.connectionId);
    const { connection } = entry;
    const tokens = connection.tokens;
    if (connection.status !== "active" || !tokens) {
      throw new ReconnectRequiredError(connection.id, connection.statusReason ?? "reconnect");
    }
    const now = deps.now().getTime();
    const stored = await openAccessToken(deps.keyring, ref, tokens);
    const expiresAt = Date.parse(tokens.accessExpiresAt ?? "");
    const issuedAt = Date.parse(tokens.accessIssuedAt ?? "");
    if (stored && expiresAt - now > REFRESH_AHEAD_MS) {
      const justIssued = now - issuedAt < MIN_FORCED_REFRESH_AGE_MS;
      if (stored !== rejected || justIssued) return { token: stored, expiresAt };
    }
    const key = `${ref.userId}/${ref.connectionId}`;
    let refreshing = inflight.get(key);
    if (!refreshing) {
      refreshing = refresh(ref, entry, tokens).finally(() => inflight.delete(key));
      inflight.set(key, refreshing);
    }
    return await refreshing;
  }

  async function refresh(
    ref: ConnectionRef,
    read: ConnectionEntry,
    tokens: StoredTokens,
  ): Promise<LiveToken> {
    const { connection } = read;
    const refreshToken = await openRefreshToken(deps.keyring, ref, tokens);
    let granted;
    try {
      granted = await deps.oauth.refreshAccessToken(refreshToken);
    } catch (err) {
      const dead = err instanceof OAuthEndpointError && isDeadGrant(err);
      deps.onRefreshFailed?.(dead ? "revoked" : "error");
      if (dead) {
        const reason = `Google no longer accepts busysync's access to ${connection.email} ` +
          `(${err.error}: the access was revoked, or it expired). Connect the account again.`;
        await markNeedsReconnect(deps.kv, ref.userId, ref.connectionId, reason, deps.now());
        throw new ReconnectRequiredError(ref.connectionId, reason);
      }
      throw err;
    }
    const now = deps.now();
    const sealed = await sealAccessToken(deps.keyring, ref, { ...granted, now });
    // A lost race (a parallel refresh, a reconnect or a disconnect wrote first) leaves the
    // newer record alone; the token minted here is still valid to use for this call.
    await replaceTokens(deps.kv, read, { ...tokens, ...sealed }, now);
    return { token: granted.accessToken, expiresAt: now.getTime() + granted.expiresInMs };
  }

  return {
    async getAccessToken(ref, options) {
      return (await current(ref, options?.rejected)).token;
    },

    authClient(ref) {
      // Not forceRefreshOnFailure: the client would treat a 403 rateLimitExceeded as an auth
      // failure and replay the call at once, unseen by the retry policy and request budget
      // (PLATFORM.md). With no refresh token of its own, the client asks this handler for a
      // token on first use and near expiry (the handler returns an expiry_date).
      // Deno's fetch for whatever this client sends itself (provider.ts says why).
      const auth = new OAuth2Client({ transporterOptions: { fetchImplementation: fetch } });
      auth.refreshHandler = async () => {
        const live = await current(ref, rejectedBy.get(auth));
        rejectedBy.delete(auth);
        return { access_token: live.token, expiry_date: live.expiresAt };
      };
      return auth;
    },

    rejectToken(auth) {
      const token = auth.credentials.access_token;
      if (token) rejectedBy.set(auth, token);
      auth.credentials = { ...auth.credentials, expiry_date: 0 };
    },

    async markAuthorizationLost(ref, reason) {
      await markNeedsReconnect(deps.kv, ref.userId, ref.connectionId, reason, deps.now());
    },
  };
}

/**
 * Refresh-token failures no retry can fix: `invalid_grant` (revoked, expired, or the 7-day
 * limit of apps in testing; notes §7) and `unauthorized_client` (the token belongs to another
 * OAuth client, e.g. after the instance's client id changed).
 */
function isDeadGrant(err: OAuthEndpointError): boolean {
  return err.error === "invalid_grant" || err.error === "unauthorized_client";
}
