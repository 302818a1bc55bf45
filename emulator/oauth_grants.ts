/**
 * What users have granted which clients: authorization codes, refresh tokens and access tokens,
 * with lifetimes measured on an injected clock. The OAuthServer owns one and speaks HTTP for it.
 */
import { randomToken, s256Challenge } from "./oauth_crypto.ts";

/** Who granted which client what. */
export interface Grant {
  email: string;
  clientId: string;
  scopes: string[];
}

/** A code waiting to be exchanged, with what the exchange must prove. */
export interface AuthCode extends Grant {
  redirectUri: string;
  nonce?: string;
  challenge?: { value: string; method: "S256" | "plain" };
  withRefreshToken: boolean;
  expiresAt: number;
}

/** What a code exchange presents. */
export interface CodeProof {
  clientId: string;
  redirectUri: string;
  codeVerifier?: string;
}

export type Redemption =
  | { ok: true; code: AuthCode }
  | { ok: false; error: "invalid_grant" | "redirect_uri_mismatch"; description: string };

interface AccessGrant extends Grant {
  expiresAt: number;
  /** The refresh token this access token came from: revoking either revokes both. */
  refreshToken?: string;
}

function refusal(
  description: string,
  error: "invalid_grant" | "redirect_uri_mismatch" = "invalid_grant",
): Redemption {
  return { ok: false, error, description };
}

/**
 * Google keeps at most 100 live refresh tokens per account and OAuth client; minting one more
 * silently invalidates the oldest (developers.google.com/identity/protocols/oauth2#expiration;
 * notes §7, invalid_grant causes).
 */
export const REFRESH_TOKENS_PER_GRANT = 100;

/** Google does not publish its code lifetime; ten minutes is RFC 6749 §4.1.2's advice. */
const AUTH_CODE_TTL_MS = 10 * 60_000;

/** In-memory codes and tokens. Expired entries are dropped lazily when new ones are made. */
export class GrantStore {
  readonly #accessTokenTtlMs: number;
  readonly #now: () => number;
  readonly #codes = new Map<string, AuthCode>();
  readonly #refreshTokens = new Map<string, Grant>();
  readonly #accessTokens = new Map<string, AccessGrant>();

  constructor(opts: { accessTokenTtlSeconds: number; now: () => number }) {
    this.#accessTokenTtlMs = opts.accessTokenTtlSeconds * 1000;
    this.#now = opts.now;
  }

  /** Stores a code valid for ten minutes. Google's codes start "4/" (so they arrive %-encoded). */
  createCode(pending: Omit<AuthCode, "expiresAt">): string {
    this.#dropExpired();
    const code = `4/emu-${randomToken()}`;
    this.#codes.set(code, { ...pending, expiresAt: this.#now() + AUTH_CODE_TTL_MS });
    return code;
  }

  /**
   * Redeems a code for its grant if the exchange proves what the authorization request promised:
   * same client, same redirect_uri, and the PKCE verifier when a challenge was sent. The error
   * codes and texts are Google's (quoted in google-api-php-client#2669, panva/oauth4webapi#119,
   * morgoth/picasa#39). Google reports a redirect_uri mismatch as its own error code rather than
   * RFC 6749's invalid_grant.
   */
  async redeemCode(code: string, proof: CodeProof): Promise<Redemption> {
    const pending = this.#codes.get(code);
    // Single use even when the exchange fails below (RFC 6749 §4.1.2): a wrong PKCE verifier
    // gets no second guess.
    this.#codes.delete(code);
    if (!pending || pending.expiresAt <= this.#now() || pending.clientId !== proof.clientId) {
      return refusal("Bad Request");
    }
    if (proof.redirectUri !== pending.redirectUri) {
      return refusal("Bad Request", "redirect_uri_mismatch");
    }
    const { challenge } = pending;
    if (!challenge) {
      return proof.codeVerifier
        ? refusal("code_verifier or verifier is not needed.")
        : { ok: true, code: pending };
    }
    if (!proof.codeVerifier) return refusal("Missing code verifier.");
    const derived = challenge.method === "S256"
      ? await s256Challenge(proof.codeVerifier)
      : proof.codeVerifier;
    return derived === challenge.value
      ? { ok: true, code: pending }
      : refusal("Invalid code verifier.");
  }

  /** The grant behind a refresh token; refresh tokens live until revoked. */
  refreshGrant(token: string): Grant | undefined {
    return this.#refreshTokens.get(token);
  }

  /** The grant behind an access token that has neither expired nor been revoked. */
  accessGrant(token: string): Grant | undefined {
    const grant = this.#accessTokens.get(token);
    return grant && grant.expiresAt > this.#now() ? grant : undefined;
  }

  /**
   * A refresh token in Google's "1//" shape. The 101st live one of an account and client ends
   * the oldest (and the access tokens it minted), as Google does, without a word.
   */
  mintRefreshToken(grant: Grant): string {
    const token = `1//emu-${randomToken()}`;
    this.#refreshTokens.set(token, { ...grant, scopes: [...grant.scopes] });
    // A Map iterates in insertion order: the first entries of this grant are the oldest.
    const ofGrant = [...this.#refreshTokens].filter(([, g]) =>
      g.email === grant.email && g.clientId === grant.clientId
    );
    for (const [old] of ofGrant.slice(0, Math.max(0, ofGrant.length - REFRESH_TOKENS_PER_GRANT))) {
      this.revokeRefreshToken(old);
    }
    return token;
  }

  /** An access token in Google's "ya29." shape, optionally tied to the refresh token behind it. */
  mintAccessToken(grant: Grant, refreshToken?: string): string {
    this.#dropExpired();
    const token = `ya29.emu-${randomToken()}`;
    const expiresAt = this.#now() + this.#accessTokenTtlMs;
    this.#accessTokens.set(token, { ...grant, scopes: [...grant.scopes], expiresAt, refreshToken });
    return token;
  }

  /** Revokes a refresh token and the access tokens minted from it; false if it was not live. */
  revokeRefreshToken(token: string): boolean {
    if (!this.#refreshTokens.delete(token)) return false;
    for (const [t, grant] of this.#accessTokens) {
      if (grant.refreshToken === token) this.#accessTokens.delete(t);
    }
    return true;
  }

  /**
   * Revokes the whole grant behind a refresh or live access token: every code, refresh token
   * and access token its user gave its client, whichever token was presented (notes §10,
   * "Revocation ends the grant"; Google: revoking an access token that has a refresh token
   * revokes that too, developers.google.com/identity/protocols/oauth2/web-server, "Revoking a
   * token"). Other clients' grants of the same user stay. False if the token was neither.
   */
  revokeGrantOf(token: string): boolean {
    const access = this.#accessTokens.get(token);
    const grant = this.#refreshTokens.get(token) ??
      (access && access.expiresAt > this.#now() ? access : undefined);
    if (!grant) return false;
    const ofGrant = (g: Grant) => g.email === grant.email && g.clientId === grant.clientId;
    for (const [t, g] of this.#refreshTokens) if (ofGrant(g)) this.#refreshTokens.delete(t);
    for (const [t, g] of this.#accessTokens) if (ofGrant(g)) this.#accessTokens.delete(t);
    for (const [c, g] of this.#codes) if (ofGrant(g)) this.#codes.delete(c);
    return true;
  }

  /** Revokes all of a user's codes and tokens; returns how many live tokens stopped working. */
  revokeAllFor(email: string): number {
    const now = this.#now();
    let revoked = 0;
    for (const [token, grant] of this.#refreshTokens) {
      if (grant.email === email) revoked += Number(this.#refreshTokens.delete(token));
    }
    for (const [token, grant] of this.#accessTokens) {
      if (grant.email !== email) continue;
      if (grant.expiresAt > now) revoked++;
      this.#accessTokens.delete(token);
    }
    for (const [code, pending] of this.#codes) {
      if (pending.email === email) this.#codes.delete(code);
    }
    return revoked;
  }

  /** Makes every access token issued so far expired, whatever the clock says. */
  expireAccessTokens(): void {
    for (const grant of this.#accessTokens.values()) grant.expiresAt = Number.NEGATIVE_INFINITY;
  }

  /** Scopes the user has granted the client and not revoked, for include_granted_scopes. */
  grantedScopes(email: string, clientId: string): string[] {
    const now = this.#now();
    const live = [
      ...this.#refreshTokens.values(),
      ...[...this.#accessTokens.values()].filter((g) => g.expiresAt > now),
    ];
    return live.filter((g) => g.email === email && g.clientId === clientId)
      .flatMap((g) => g.scopes);
  }

  /** Whether a live refresh token already covers `scopes` for this user and client. */
  hasRefreshTokenCovering(email: string, clientId: string, scopes: string[]): boolean {
    return [...this.#refreshTokens.values()].some((g) =>
      g.email === email && g.clientId === clientId && scopes.every((s) => g.scopes.includes(s))
    );
  }

  clear(): void {
    this.#codes.clear();
    this.#refreshTokens.clear();
    this.#accessTokens.clear();
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [code, pending] of this.#codes) {
      if (pending.expiresAt <= now) this.#codes.delete(code);
    }
    for (const [token, grant] of this.#accessTokens) {
      if (grant.expiresAt <= now) this.#accessTokens.delete(token);
    }
  }
}
