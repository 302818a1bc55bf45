/**
 * Google's OAuth 2.0 / OpenID Connect as the emulator serves it, shaped so that the real
 * google-auth-library `OAuth2Client` and the app talk to it unmodified. This file holds the
 * OAuthServer (users, clients, signing key) and the back-channel endpoints: discovery, JWKS,
 * token, revoke and userinfo. The browser-facing authorization endpoint is oauth_authorize.ts;
 * codes and tokens live in oauth_grants.ts. "Notes §7" is /work/shared/docs/google-calendar-api.md
 * §7; other Google facts name their source.
 */
import { type Context, Hono } from "hono";
import { auth as basicAuth } from "hono/utils/basic-auth";
import { AUTH_PATH, authorizeRoutes } from "./oauth_authorize.ts";
import { accessTokenHash, createSigningKey, signIdToken, type SigningKey } from "./oauth_crypto.ts";
import { type Grant, GrantStore } from "./oauth_grants.ts";
import {
  bearerSchema,
  EMAIL_SCOPE,
  normalizeScopes,
  PROFILE_SCOPE,
  revokeSchema,
  type TokenRequest,
  tokenRequestSchema,
} from "./oauth_params.ts";

export interface EmulatorUser {
  sub: string;
  email: string;
  name: string;
  /** The Workspace domain of a managed account; consumer accounts have none. */
  hd?: string;
  /** false: the address is unconfirmed, and id_tokens say so; default true. */
  emailVerified?: boolean;
}

/** An OAuth client; `redirectUris` undefined means any absolute URL may be a redirect target. */
export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
  redirectUris?: string[];
}

/**
 * How the id_tokens of one client are addressed, set through the admin API: `aud` with the
 * client first and then `extraAudiences` (a single client makes it a string, as Google sends it),
 * and `azp` (the client when unset; null leaves the claim out).
 */
export interface IdTokenAudience {
  extraAudiences: string[];
  azp?: string | null;
}

/** Discovery fields an OpenID provider may leave out (OpenID Connect Discovery 1.0 §3). */
export const OPTIONAL_DISCOVERY_FIELDS = [
  "revocation_endpoint",
  "userinfo_endpoint",
  "authorization_response_iss_parameter_supported",
] as const;
export type OptionalDiscoveryField = (typeof OPTIONAL_DISCOVERY_FIELDS)[number];

/** What a Calendar handler learns from a valid access token. */
export interface TokenInfo {
  sub: string;
  email: string;
  scopes: string[];
  clientId: string;
}

/** Google's id_tokens expire one hour after issue (openid-connect reference, "exp"). */
const ID_TOKEN_TTL_SECONDS = 3600;
/** RFC 6749 §5.1: token responses must not be cached. */
const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

interface TokenResponse {
  access_token: string;
  expires_in: number;
  scope: string;
  token_type: "Bearer";
  refresh_token?: string;
  id_token?: string;
}

/**
 * The OAuth half of the Google emulator: seeded users and clients, authorization codes, refresh
 * and access tokens, all in memory, plus the hono routes that serve them.
 */
export class OAuthServer {
  readonly #issuer: () => string;
  readonly #accessTokenTtlSeconds: number;
  readonly #now: () => number;
  /**
   * Made once per server and kept across reset(), so id_tokens stay verifiable by cached JWKS;
   * replaced only by rotateSigningKey().
   */
  #key: Promise<SigningKey>;
  #jwksRequests = 0;
  readonly #audiences = new Map<string, IdTokenAudience>();
  readonly #omitted = new Set<OptionalDiscoveryField>();
  readonly #users = new Map<string, EmulatorUser>();
  readonly #clients = new Map<string, EmulatorClient>();
  readonly #grants: GrantStore;

  constructor(
    opts: { issuer: () => string; accessTokenTtlSeconds: number; now?: () => number },
  ) {
    this.#issuer = opts.issuer;
    this.#accessTokenTtlSeconds = opts.accessTokenTtlSeconds;
    this.#now = opts.now ?? Date.now;
    this.#key = createSigningKey();
    this.#grants = new GrantStore({
      accessTokenTtlSeconds: this.#accessTokenTtlSeconds,
      now: this.#now,
    });
  }

  /** Adds a user, replacing any user with the same email. */
  addUser(u: EmulatorUser): void {
    this.#users.set(u.email, { ...u });
  }

  listUsers(): EmulatorUser[] {
    return [...this.#users.values()].map((u) => ({ ...u }));
  }

  /** Adds a client, replacing any client with the same id. */
  addClient(c: EmulatorClient): void {
    this.#clients.set(c.clientId, { ...c, redirectUris: c.redirectUris && [...c.redirectUris] });
  }

  /** The token's owner and scopes, or null when it is unknown, expired or revoked. */
  verifyAccessToken(token: string): TokenInfo | null {
    const grant = this.#grants.accessGrant(token);
    const user = grant && this.#users.get(grant.email);
    if (!grant || !user) return null;
    return {
      sub: user.sub,
      email: user.email,
      scopes: [...grant.scopes],
      clientId: grant.clientId,
    };
  }

  /**
   * Grants `scopes` to a seeded user without the consent page (an admin shortcut for tests and
   * seeding), always with a refresh token. "email"/"profile" are stored under their long names,
   * as a real grant would be. Throws when no user has that email; the client is not checked.
   */
  issueTokens(
    email: string,
    scopes: string[],
    clientId: string,
  ): { access_token: string; refresh_token: string; expires_in: number } {
    if (!this.#users.has(email)) throw new Error(`issueTokens: no emulator user ${email}`);
    const grant = { email, clientId, scopes: normalizeScopes(scopes) };
    const refresh_token = this.#grants.mintRefreshToken(grant);
    const access_token = this.#grants.mintAccessToken(grant, refresh_token);
    return { access_token, refresh_token, expires_in: this.#accessTokenTtlSeconds };
  }

  /** Revokes a refresh token and the access tokens minted from it; false if it was not live. */
  revokeRefreshToken(token: string): boolean {
    return this.#grants.revokeRefreshToken(token);
  }

  /**
   * Revokes everything a user granted to any client, as removing the app from their Google
   * account does. Returns how many live refresh and access tokens stopped working.
   */
  revokeAllFor(email: string): number {
    return this.#grants.revokeAllFor(email);
  }

  /** Makes every access token issued so far expired, whatever the clock says. */
  expireAccessTokens(): void {
    this.#grants.expireAccessTokens();
  }

  /**
   * Replaces the signing key. The JWKS then lists only the new key, so an id_token signed
   * before and a key set cached before both stop verifying at once: harsher than Google, which
   * publishes the next key ahead of using it, but a client that copes with this copes with both.
   * Returns the new key's kid.
   */
  async rotateSigningKey(): Promise<string> {
    const next = createSigningKey();
    this.#key = next;
    return (await next).kid;
  }

  /** The kid id_tokens are signed with now, and how often the JWKS was fetched so far. */
  async keyStatus(): Promise<{ kid: string; jwksRequests: number }> {
    return { kid: (await this.#key).kid, jwksRequests: this.#jwksRequests };
  }

  /** Addresses the client's future id_tokens to more audiences and/or another azp. */
  setIdTokenAudience(clientId: string, audience: IdTokenAudience): void {
    this.#audiences.set(clientId, { ...audience, extraAudiences: [...audience.extraAudiences] });
  }

  /** Leaves these optional fields out of the discovery document (an empty list restores all). */
  omitDiscoveryFields(fields: readonly OptionalDiscoveryField[]): void {
    this.#omitted.clear();
    for (const f of fields) this.#omitted.add(f);
  }

  /** Drops users, clients, codes, tokens and id_token and discovery settings; the key stays. */
  reset(): void {
    this.#users.clear();
    this.#clients.clear();
    this.#grants.clear();
    this.#audiences.clear();
    this.#omitted.clear();
  }

  /** The OAuth routes, with paths relative to the issuer (mounted at "/"). */
  routes(): Hono {
    const app = new Hono();

    app.get("/.well-known/openid-configuration", (c) => c.json(this.#discovery()));

    app.get("/oauth2/v3/certs", async (c) => {
      this.#jwksRequests++;
      return c.json({ keys: [(await this.#key).publicJwk] });
    });

    app.route(
      "/",
      authorizeRoutes({
        issuer: this.#issuer,
        issParameter: () => !this.#omitted.has("authorization_response_iss_parameter_supported"),
        findClient: (clientId) => this.#clients.get(clientId),
        findUser: (email) => this.#users.get(email),
        listUsers: () => this.listUsers(),
        grants: this.#grants,
      }),
    );

    app.post("/token", async (c) => {
      const parsed = tokenRequestSchema.safeParse(await c.req.parseBody());
      if (!parsed.success) return oauthError(c, 400, "invalid_request", "Malformed request body.");
      return await this.#token(c, parsed.data);
    });

    // google-auth-library sends the token in the query (notes §7, "Revocation"); Google's docs
    // also show it as a form body. Only POST: oauth2.googleapis.com/revoke answers GET with 404
    // (googleapis/oauth2client#750).
    app.post("/revoke", async (c) => {
      const parsed = revokeSchema.safeParse({ ...(await c.req.parseBody()), ...c.req.query() });
      if (!parsed.success) {
        return oauthError(c, 400, "invalid_request", "Missing required parameter: token");
      }
      // Google answers 400 invalid_token for unknown, expired and already revoked tokens alike.
      // A live token ends the whole grant of its user to its client (notes §10).
      if (!this.#grants.revokeGrantOf(parsed.data.token)) {
        return oauthError(c, 400, "invalid_token", "Token expired or revoked");
      }
      return c.json({});
    });

    app.get("/v1/userinfo", (c) => {
      const token = bearerSchema.safeParse(c.req.header("Authorization"));
      const info = token.success ? this.verifyAccessToken(token.data) : null;
      const user = info && this.#users.get(info.email);
      if (!info || !user) {
        c.header("WWW-Authenticate", 'Bearer error="invalid_token"');
        return oauthError(c, 401, "invalid_request", "Invalid Credentials");
      }
      return c.json(userClaims(user, info.scopes));
    });

    return app;
  }

  #discovery() {
    const iss = this.#issuer();
    const optional: Record<OptionalDiscoveryField, unknown> = {
      userinfo_endpoint: `${iss}/v1/userinfo`,
      revocation_endpoint: `${iss}/revoke`,
      // RFC 9207: authorization responses carry `iss`, so a client talking to several issuers
      // can tell whose answer reached its redirect URI.
      authorization_response_iss_parameter_supported: true,
    };
    // Google's own document lists more response and grant types (implicit, device code, JWT
    // bearer); the emulator lists only what it implements.
    return {
      issuer: iss,
      authorization_endpoint: `${iss}${AUTH_PATH}`,
      token_endpoint: `${iss}/token`,
      ...Object.fromEntries(
        Object.entries(optional).filter(([f]) => !this.#omitted.has(f as OptionalDiscoveryField)),
      ),
      jwks_uri: `${iss}/oauth2/v3/certs`,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      scopes_supported: ["openid", "email", "profile"],
      token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
      claims_supported: [
        "aud",
        "at_hash",
        "azp",
        "email",
        "email_verified",
        "exp",
        "hd",
        "iat",
        "iss",
        "name",
        "nonce",
        "sub",
      ],
      code_challenge_methods_supported: ["plain", "S256"],
      grant_types_supported: ["authorization_code", "refresh_token"],
    };
  }

  async #token(c: Context, body: TokenRequest): Promise<Response> {
    // Either client_secret_basic or client_secret_post; google-auth-library uses the body.
    const basic = basicAuth(c.req.raw);
    const clientId = basic?.username ?? body.client_id;
    const secret = basic?.password ?? body.client_secret;
    // Error texts are Google's as quoted in GitHub issues about its token endpoint:
    // google-auth-library-nodejs#111, erebusnz/gapi-google-analytics-php-interface#149,
    // google/GTMAppAuth#15, prasmussen/gdrive#375.
    if (!clientId) {
      return oauthError(c, 400, "invalid_request", "Could not determine client ID from request.");
    }
    const client = this.#clients.get(clientId);
    if (!client) return oauthError(c, 401, "invalid_client", "The OAuth client was not found.");
    if (secret !== client.clientSecret) {
      return oauthError(c, 401, "invalid_client", "Unauthorized");
    }
    if (body.grant_type === "authorization_code") return await this.#exchangeCode(c, client, body);
    if (body.grant_type === "refresh_token") return await this.#refresh(c, client, body);
    return oauthError(c, 400, "unsupported_grant_type", `Invalid grant_type: ${body.grant_type}`);
  }

  async #exchangeCode(c: Context, client: EmulatorClient, body: TokenRequest): Promise<Response> {
    if (!body.code) {
      return oauthError(c, 400, "invalid_request", "Missing required parameter: code");
    }
    if (!body.redirect_uri) {
      return oauthError(c, 400, "invalid_request", "Missing required parameter: redirect_uri");
    }
    const redeemed = await this.#grants.redeemCode(body.code, {
      clientId: client.clientId,
      redirectUri: body.redirect_uri,
      codeVerifier: body.code_verifier,
    });
    if (!redeemed.ok) return oauthError(c, 400, redeemed.error, redeemed.description);
    const pending = redeemed.code;
    const user = this.#users.get(pending.email);
    if (!user) return oauthError(c, 400, "invalid_grant", "Bad Request");
    const grant = { email: pending.email, clientId: pending.clientId, scopes: pending.scopes };
    const refreshToken = pending.withRefreshToken
      ? this.#grants.mintRefreshToken(grant)
      : undefined;
    const accessToken = this.#grants.mintAccessToken(grant, refreshToken);
    const tokens = await this.#tokenResponse(user, grant, accessToken, pending.nonce);
    return c.json({ ...tokens, refresh_token: refreshToken }, 200, NO_STORE);
  }

  async #refresh(c: Context, client: EmulatorClient, body: TokenRequest): Promise<Response> {
    if (!body.refresh_token) {
      return oauthError(c, 400, "invalid_request", "Missing required parameter: refresh_token");
    }
    const grant = this.#grants.refreshGrant(body.refresh_token);
    const user = grant && this.#users.get(grant.email);
    if (!grant || !user) {
      // Google's text for revoked refresh tokens (notes §7, "invalid_grant").
      return oauthError(c, 400, "invalid_grant", "Token has been expired or revoked.");
    }
    // Google answers a refresh token presented by another client with 401 unauthorized_client.
    if (grant.clientId !== client.clientId) {
      return oauthError(c, 401, "unauthorized_client", "Unauthorized");
    }
    // Google does not rotate refresh tokens: the response has none (notes §7, "Refresh").
    const accessToken = this.#grants.mintAccessToken(grant, body.refresh_token);
    return c.json(await this.#tokenResponse(user, grant, accessToken), 200, NO_STORE);
  }

  async #tokenResponse(
    user: EmulatorUser,
    grant: Grant,
    accessToken: string,
    nonce?: string,
  ): Promise<TokenResponse> {
    return {
      access_token: accessToken,
      expires_in: this.#accessTokenTtlSeconds,
      scope: grant.scopes.join(" "),
      token_type: "Bearer",
      // Only with the openid scope (notes §7, "Code exchange").
      id_token: grant.scopes.includes("openid")
        ? await this.#idToken(user, grant, accessToken, nonce)
        : undefined,
    };
  }

  async #idToken(
    user: EmulatorUser,
    grant: Grant,
    accessToken: string,
    nonce?: string,
  ): Promise<string> {
    const audience = this.#audiences.get(grant.clientId);
    const extra = audience?.extraAudiences ?? [];
    const azp = audience?.azp === undefined ? grant.clientId : audience.azp;
    const claims = {
      iss: this.#issuer(),
      aud: extra.length ? [grant.clientId, ...extra] : grant.clientId,
      ...(azp === null ? {} : { azp }),
      at_hash: await accessTokenHash(accessToken),
      ...userClaims(user, grant.scopes),
      nonce,
    };
    const iat = Math.floor(this.#now() / 1000);
    return signIdToken(await this.#key, claims, iat, ID_TOKEN_TTL_SECONDS);
  }
}

function oauthError(c: Context, status: 400 | 401, error: string, description: string) {
  return c.json({ error, error_description: description }, status, NO_STORE);
}

/**
 * The user's claims the granted scopes allow: email needs the email scope, name needs profile.
 * `hd` comes with every Workspace account's claims (developers.google.com/identity/
 * openid-connect/openid-connect, "hd": "Provided only if the user belongs to a Google Cloud
 * organization").
 */
function userClaims(user: EmulatorUser, scopes: string[]) {
  return {
    sub: user.sub,
    ...(user.hd ? { hd: user.hd } : {}),
    ...(scopes.includes(EMAIL_SCOPE)
      ? { email: user.email, email_verified: user.emailVerified ?? true }
      : {}),
    ...(scopes.includes(PROFILE_SCOPE) ? { name: user.name } : {}),
  };
}
