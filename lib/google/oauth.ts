/**
 * Google OAuth 2.0 / OpenID Connect for busysync: authorization URLs (PKCE S256, state, nonce),
 * code exchange, refresh and revocation through google-auth-library's OAuth2Client pointed at the
 * endpoints of the issuer's discovery document, and id_token verification with jose against the
 * issuer's JWKS. Notes §7 is /work/shared/docs/google-calendar-api.md §7.
 */
import { CodeChallengeMethod, OAuth2Client } from "google-auth-library";
import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { createDiscoveryLoader, type Discovery } from "./discovery.ts";
import { asOAuthEndpointError } from "./oauth_errors.ts";
import { createSigningKeys } from "./signing_keys.ts";

const SCOPE_PREFIX = "https://www.googleapis.com/auth/";

/**
 * The two calendar scopes a connection needs (notes §7, "Scopes"): calendarList.list needs
 * `calendar.calendarlist.readonly`; reading source events and writing mirrors needs
 * `calendar.events`. Nothing broader: busysync never changes calendars themselves or sharing.
 */
export const CALENDAR_SCOPES = [
  `${SCOPE_PREFIX}calendar.calendarlist.readonly`,
  `${SCOPE_PREFIX}calendar.events`,
] as const;

/** Sign-in asks only who the person is: their stable id, verified email and name. */
export const SIGNIN_SCOPES = ["openid", "email", "profile"] as const;

/** Connecting asks for the calendar scopes plus `openid email` to know which account it is. */
export const CONNECT_SCOPES = ["openid", "email", ...CALENDAR_SCOPES] as const;

export interface GoogleOAuthOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The one redirect URI busysync registers: `${PUBLIC_URL}/api/auth/callback`. */
  redirectUri: string;
  /** Clock for id_token expiry checks. */
  now: () => Date;
}

export interface AuthorizationRequest {
  flow: "signin" | "connect";
  state: string;
  codeChallenge: string;
  nonce: string;
  /**
   * Sign-in only: also ask for the calendar scopes with offline access, so the account signed
   * in with is connected in the same consent (a person's first sign-in).
   */
  calendars?: boolean;
  /** Pre-selects the Google account (used when reconnecting a known account). */
  loginHint?: string;
}

/** What a code exchange returns. */
export interface CodeTokens {
  accessToken: string;
  /** Present for connect flows (offline access with consent). */
  refreshToken?: string;
  idToken?: string;
  /** The scopes the user actually granted: Google lets them untick some. */
  scopes: string[];
  expiresInMs: number;
}

/** The claims busysync uses from a verified id_token. */
export interface IdTokenClaims {
  sub: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  /** The Workspace domain of a managed account (Google's `hd`); absent for personal accounts. */
  hd?: string;
}

/**
 * Why an id_token was refused, by what would fix it: `signature` (no published key verifies
 * it; may pass once the provider's keys settle), `issuer`, `audience` (addressed to other
 * clients too, or on behalf of another), `time` (expired or issued in the future: a clock is
 * wrong), `nonce` (it belongs to another sign-in attempt), `claims` (required claims missing).
 */
export type IdTokenProblem = "signature" | "issuer" | "audience" | "time" | "nonce" | "claims";

/** The id_token failed verification; `message` is the technical reason, for the log. */
export class IdTokenError extends Error {
  constructor(readonly problem: IdTokenProblem, message: string) {
    super(message);
    this.name = "IdTokenError";
  }
}

/** What revoking a token did. */
export type Revocation = "revoked" | "unsupported";

/** Google's OAuth endpoints as busysync uses them. */
export interface GoogleOAuth {
  discovery(): Promise<Discovery>;
  authorizationUrl(request: AuthorizationRequest): Promise<string>;
  /** Throws OAuthEndpointError (e.g. invalid_grant for a wrong PKCE verifier). */
  exchangeCode(code: string, codeVerifier: string): Promise<CodeTokens>;
  /** Throws IdTokenError, or KeySetUnavailableError when the issuer's keys cannot be fetched. */
  verifyIdToken(idToken: string, nonce: string): Promise<IdTokenClaims>;
  /**
   * Whether an authorization response's `iss` (RFC 9207) fits the issuer: when present it must
   * equal it, and when discovery says responses carry it, it must be present (§2.4).
   */
  responseIssuerMatches(iss: string | undefined): Promise<boolean>;
  /** Throws OAuthEndpointError (invalid_grant when the refresh token is revoked or expired). */
  refreshAccessToken(refreshToken: string): Promise<{ accessToken: string; expiresInMs: number }>;
  /**
   * Revokes a token; one that is already invalid counts as revoked. "unsupported": the issuer
   * publishes no revocation endpoint (optional in OpenID Connect Discovery 1.0 §3).
   */
  revokeToken(token: string): Promise<Revocation>;
}

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).nullish(),
  id_token: z.string().min(1).nullish(),
  scope: z.string().optional(),
  expiry_date: z.number().nullish(),
});

const ClaimsSchema = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  // Google sends a boolean; some OpenID providers send the string "true".
  email_verified: z.union([z.boolean(), z.literal("true"), z.literal("false")]).optional(),
  name: z.string().optional(),
  nonce: z.string().optional(),
  hd: z.string().min(1).optional(),
});

/** Builds the OAuth side of Google from the issuer's discovery document (fetched lazily). */
export function createGoogleOAuth(options: GoogleOAuthOptions): GoogleOAuth {
  const discovery = createDiscoveryLoader(options.issuer);
  let jwks: { uri: string; get: JWTVerifyGetKey } | undefined;

  /** A fresh client per call: OAuth2Client keeps credentials, which calls must not share. */
  const client = async () => {
    const d = await discovery();
    return new OAuth2Client({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      redirectUri: options.redirectUri,
      // Deno's fetch for the token, refresh and revoke calls: gaxios would otherwise fall back
      // to node-fetch over Deno's node:http layer (it looks for `window`), slower for nothing.
      transporterOptions: { fetchImplementation: fetch },
      endpoints: {
        oauth2AuthBaseUrl: d.authorization_endpoint,
        oauth2TokenUrl: d.token_endpoint,
        oauth2RevokeUrl: d.revocation_endpoint,
      },
    });
  };

  return {
    discovery,

    async authorizationUrl(request) {
      const common = {
        response_type: "code",
        state: request.state,
        nonce: request.nonce,
        code_challenge: request.codeChallenge,
        code_challenge_method: CodeChallengeMethod.S256,
        ...(request.loginHint ? { login_hint: request.loginHint } : {}),
      };
      const oauth = await client();
      if (request.flow === "signin" && request.calendars) {
        return oauth.generateAuthUrl({
          ...common,
          scope: [...SIGNIN_SCOPES, ...CALENDAR_SCOPES],
          // One consent for who the person is and their calendars: offline access for the
          // refresh token a connection needs; prompt=consent because Google sends a refresh
          // token without it only on the account's very first grant to this client (notes §7).
          access_type: "offline",
          prompt: "select_account consent",
          include_granted_scopes: true,
        });
      }
      if (request.flow === "signin") {
        return oauth.generateAuthUrl({
          ...common,
          scope: [...SIGNIN_SCOPES],
          // No refresh token for sign-in: busysync keeps no Google token for the session.
          access_type: "online",
          prompt: "select_account",
        });
      }
      return oauth.generateAuthUrl({
        ...common,
        scope: [...CONNECT_SCOPES],
        // A refresh token is issued only with offline access, and a second time only when
        // consent is shown again (notes §7, access_type=offline).
        access_type: "offline",
        prompt: "consent",
        include_granted_scopes: true,
      });
    },

    async exchangeCode(code, codeVerifier) {
      const oauth = await client();
      let tokens;
      try {
        ({ tokens } = await oauth.getToken({ code, codeVerifier }));
      } catch (err) {
        throw asOAuthEndpointError(err) ?? err;
      }
      const parsed = TokenResponseSchema.parse(tokens);
      return {
        accessToken: parsed.access_token,
        refreshToken: parsed.refresh_token ?? undefined,
        idToken: parsed.id_token ?? undefined,
        scopes: (parsed.scope ?? "").split(" ").filter(Boolean),
        expiresInMs: lifetimeOf(parsed.expiry_date),
      };
    },

    async verifyIdToken(idToken, nonce) {
      const d = await discovery();
      if (jwks?.uri !== d.jwks_uri) {
        jwks = { uri: d.jwks_uri, get: createSigningKeys({ uri: d.jwks_uri, now: options.now }) };
      }
      let payload;
      try {
        ({ payload } = await jwtVerify(idToken, jwks.get, {
          algorithms: ["RS256"],
          // Google's id_tokens say "https://accounts.google.com" or "accounts.google.com"
          // (developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken).
          issuer: [d.issuer, d.issuer.replace(/^https:\/\//, "")],
          audience: options.clientId,
          currentDate: options.now(),
          requiredClaims: ["exp", "iat", "sub"],
        }));
      } catch (err) {
        if (err instanceof joseErrors.JOSEError) {
          throw new IdTokenError(problemOf(err), err.message);
        }
        throw err;
      }
      checkAudience(payload, options.clientId);
      const claims = ClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new IdTokenError("claims", "the id_token lacks the expected claims");
      }
      if (claims.data.nonce !== nonce) {
        throw new IdTokenError("nonce", "the id_token nonce does not match");
      }
      const verified = claims.data.email_verified;
      return {
        sub: claims.data.sub,
        email: claims.data.email?.toLowerCase(),
        emailVerified: verified === true || verified === "true",
        name: claims.data.name,
        hd: claims.data.hd?.toLowerCase(),
      };
    },

    async responseIssuerMatches(iss) {
      const d = await discovery();
      if (iss === undefined) return !d.authorization_response_iss_parameter_supported;
      // RFC 9207 §2.4: a simple string comparison with the issuer identifier.
      return iss === d.issuer;
    },

    async refreshAccessToken(refreshToken) {
      const oauth = await client();
      oauth.setCredentials({ refresh_token: refreshToken });
      let credentials;
      try {
        ({ credentials } = await oauth.refreshAccessToken());
      } catch (err) {
        throw asOAuthEndpointError(err) ?? err;
      }
      const parsed = TokenResponseSchema.parse(credentials);
      return { accessToken: parsed.access_token, expiresInMs: lifetimeOf(parsed.expiry_date) };
    },

    async revokeToken(token) {
      // Without an endpoint of the issuer's, OAuth2Client would post to Google's default one.
      if (!(await discovery()).revocation_endpoint) return "unsupported";
      const oauth = await client();
      try {
        await oauth.revokeToken(token);
      } catch (err) {
        const oauthErr = asOAuthEndpointError(err);
        // Google answers 400 invalid_token for a token that is already revoked or expired:
        // there is nothing left to revoke.
        if (oauthErr?.error === "invalid_token") return "revoked";
        throw oauthErr ?? err;
      }
      return "revoked";
    },
  };
}

/** What a jose verification failure means for the person signing in. */
function problemOf(err: InstanceType<typeof joseErrors.JOSEError>): IdTokenProblem {
  if (err instanceof joseErrors.JWTExpired) return "time";
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return "issuer";
    if (err.claim === "aud") return "audience";
    if (err.claim === "iat" || err.claim === "nbf") return "time";
    return "claims";
  }
  return "signature";
}

/**
 * OIDC Core §3.1.3.7: an id_token that also names audiences busysync does not trust is
 * refused (step 3; busysync trusts no other client), and an `azp` must name busysync's client
 * (step 5). jwtVerify checked only that busysync is among the audiences.
 */
function checkAudience(payload: { aud?: string | string[]; azp?: unknown }, clientId: string) {
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const others = audiences.filter((a) => a !== clientId);
  if (others.length) {
    throw new IdTokenError("audience", `the id_token aud also names ${others.join(", ")}`);
  }
  if (payload.azp !== undefined && payload.azp !== clientId) {
    throw new IdTokenError("audience", `the id_token azp is ${String(payload.azp)}`);
  }
}

/**
 * google-auth-library turns `expires_in` into `expiry_date` on the real clock (Date.now), so
 * the remaining lifetime is recovered against the same clock; callers add it to their own.
 */
function lifetimeOf(expiryDate: number | null | undefined): number {
  // Google's access tokens live an hour (notes §7); assume so if the answer omitted it.
  return expiryDate ? Math.max(0, expiryDate - Date.now()) : 3600_000;
}
