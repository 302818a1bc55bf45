/**
 * Sessions as the browser and API clients see them: a short-lived signed access JWT plus a
 * rotating refresh token (`<sessionId>.<256 random bits>`) whose SHA-256 is all the store keeps.
 *
 * The JWT is checked against the store on every request as well (one KV read), so sign-out and
 * account deletion end access at once rather than when the JWT runs out; its signature and
 * expiry still spare the hashing and family bookkeeping of a refresh on every request.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { ulid } from "ulid";
import { z } from "zod";
import {
  createSession,
  deleteSession,
  getSessionWithUser,
  rotateSession,
  type SessionLifetimes,
} from "../db/sessions.ts";
import type { User } from "../db/users.ts";
import { randomToken, sha256Hex } from "./tokens.ts";
import type { AccessClaims, VerifiedTokens } from "./verified_tokens.ts";

/** The lifetimes busysync uses; see the README's "Sign-in and sessions". */
export const SESSION_LIFETIMES: SessionLifetimes & { accessMs: number } = {
  accessMs: 10 * 60_000,
  idleMs: 30 * 24 * 3600_000,
  absoluteMs: 90 * 24 * 3600_000,
  graceMs: 30_000,
};

const ALGORITHM = "HS256";
const AUDIENCE = "busysync";

export interface SessionDeps {
  kv: Deno.Kv;
  /** BUSYSYNC_SESSION_SECRET's bytes: the HS256 key. */
  secret: Uint8Array;
  /** The public URL: the JWT's issuer, so a token from another instance is refused. */
  issuer: string;
  now: () => Date;
  lifetimes?: typeof SESSION_LIFETIMES;
  /** Access JWTs already verified, so each is checked cryptographically once. */
  verified: VerifiedTokens;
}

/** What a sign-in or refresh hands to the client. */
export interface IssuedTokens {
  userId: string;
  sessionId: string;
  accessToken: string;
  accessExpiresAt: Date;
  /** Absent when a just-rotated token was presented within the grace period. */
  refresh?: { token: string; expiresAt: Date };
}

/** The outcome of presenting a refresh token. */
export type RefreshOutcome =
  | { ok: true; tokens: IssuedTokens }
  /** `reused`: a spent token came back after the grace period and the session was revoked. */
  | { ok: false; reason: "invalid" | "reused" };

/** Starts a session for `userId` (after sign-in) and issues its first tokens. */
export async function startSession(deps: SessionDeps, userId: string): Promise<IssuedTokens> {
  const lifetimes = deps.lifetimes ?? SESSION_LIFETIMES;
  const now = deps.now();
  const sessionId = ulid(now.getTime());
  const refreshToken = `${sessionId}.${randomToken()}`;
  await createSession(
    deps.kv,
    { id: sessionId, userId, tokenHash: await sha256Hex(refreshToken), now },
    lifetimes,
  );
  return {
    userId,
    sessionId,
    ...await signAccessToken(deps, userId, sessionId),
    refresh: { token: refreshToken, expiresAt: refreshExpiry(now, lifetimes) },
  };
}

/**
 * Rotates the refresh token: the presented one is spent and a new one issued with a new access
 * JWT. A token spent less than the grace period ago gets only a new access JWT (a parallel
 * request lost the race, the browser already holds the new token); any older spent token
 * revokes the session.
 */
export async function refreshSession(
  deps: SessionDeps,
  refreshToken: string,
): Promise<RefreshOutcome> {
  const lifetimes = deps.lifetimes ?? SESSION_LIFETIMES;
  const sessionId = parseRefreshToken(refreshToken);
  if (!sessionId) return { ok: false, reason: "invalid" };
  const now = deps.now();
  const nextToken = `${sessionId}.${randomToken()}`;
  const rotation = await rotateSession(deps.kv, {
    sessionId,
    presentedHash: await sha256Hex(refreshToken),
    newHash: await sha256Hex(nextToken),
    now,
  }, lifetimes);
  if (rotation.kind === "invalid") return { ok: false, reason: "invalid" };
  if (rotation.kind === "reuse") return { ok: false, reason: "reused" };
  const { userId } = rotation.session;
  return {
    ok: true,
    tokens: {
      userId,
      sessionId,
      ...await signAccessToken(deps, userId, sessionId),
      refresh: rotation.kind === "rotated"
        ? { token: nextToken, expiresAt: refreshExpiry(now, lifetimes) }
        : undefined,
    },
  };
}

/** Ends the session a refresh token or access JWT belongs to. */
export async function endSession(deps: SessionDeps, sessionId: string): Promise<void> {
  await deleteSession(deps.kv, sessionId);
}

/** The session id inside a refresh token, or null when it does not have the shape. */
export function parseRefreshToken(token: string): string | null {
  const match = /^([0-9A-HJKMNP-TV-Z]{26})\.[A-Za-z0-9_-]{43}$/.exec(token);
  return match ? match[1] : null;
}

const ClaimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  exp: z.number(),
});

/**
 * The user and session of a valid access JWT whose session (and user) still live, or null. Only HS256
 * with our key, our issuer and audience, and an unexpired `exp` pass: `alg: none`, another
 * algorithm or key, a changed claim and an expired token all give null.
 */
export async function authenticateAccessToken(
  deps: SessionDeps,
  token: string,
): Promise<{ user: User; sessionId: string } | null> {
  const claims = deps.verified.get(token, deps.now().getTime()) ??
    await verifyAccessToken(deps, token);
  if (!claims) return null;
  const live = await getSessionWithUser(
    deps.kv,
    { sessionId: claims.sid, userId: claims.sub },
    deps.now(),
    deps.lifetimes ?? SESSION_LIFETIMES,
  );
  return live && { user: live.user, sessionId: claims.sid };
}

/** The claims of an access JWT that passes every check (remembered in `deps.verified`), or null. */
async function verifyAccessToken(deps: SessionDeps, token: string): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, deps.secret, {
      algorithms: [ALGORITHM],
      issuer: deps.issuer,
      audience: AUDIENCE,
      currentDate: deps.now(),
      requiredClaims: ["exp", "sub", "sid"],
    });
    const parsed = ClaimsSchema.parse(payload);
    const claims = { sub: parsed.sub, sid: parsed.sid, expMs: parsed.exp * 1000 };
    deps.verified.remember(token, claims);
    return claims;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof z.ZodError) return null;
    throw err;
  }
}

async function signAccessToken(deps: SessionDeps, userId: string, sessionId: string) {
  const now = deps.now();
  const accessExpiresAt = new Date(
    now.getTime() + (deps.lifetimes ?? SESSION_LIFETIMES).accessMs,
  );
  const accessToken = await new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(userId)
    .setIssuer(deps.issuer)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(accessExpiresAt.getTime() / 1000))
    .sign(deps.secret);
  return { accessToken, accessExpiresAt };
}

function refreshExpiry(now: Date, lifetimes: SessionLifetimes): Date {
  return new Date(now.getTime() + lifetimes.idleMs);
}
