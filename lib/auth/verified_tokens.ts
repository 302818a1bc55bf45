/**
 * Access JWTs whose signature and claims already passed, kept until their `exp`. A browser
 * sends the same JWT with every request for ten minutes, and the HMAC check (a WebCrypto key
 * import and an async verify per call) was the largest single cost of a signed-in request under
 * load. Only the signature check is remembered: the session is still read from the store on
 * every request, so sign-out and account deletion still end access at once.
 */

/** The claims a verified access JWT carries. */
export interface AccessClaims {
  sub: string;
  sid: string;
  /** `exp` in milliseconds since the epoch. */
  expMs: number;
}

/** A bounded map from token to claims; the least recently used entry goes first when full. */
export class VerifiedTokens {
  readonly #entries = new Map<string, AccessClaims>();

  /** `max` tokens at most: one per signed-in browser or API client is plenty. */
  constructor(readonly max = 10_000) {}

  /** The claims of `token` if it was verified and has not expired at `nowMs`. */
  get(token: string, nowMs: number): AccessClaims | undefined {
    const claims = this.#entries.get(token);
    if (!claims) return undefined;
    this.#entries.delete(token);
    if (claims.expMs <= nowMs) return undefined;
    this.#entries.set(token, claims);
    return claims;
  }

  /** Remembers a token whose signature, issuer, audience and expiry just passed. */
  remember(token: string, claims: AccessClaims): void {
    this.#entries.delete(token);
    if (this.#entries.size >= this.max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(token, claims);
  }

  get size(): number {
    return this.#entries.size;
  }
}
