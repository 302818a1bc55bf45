/**
 * Who is asking: sets `c.var.user` from a Bearer access JWT, a Bearer personal API token (on
 * `/api/` only) or the session cookies, and keeps a browser signed in by rotating its refresh
 * token when the access JWT has expired. Guards for routes that need a user are below.
 */
import type { Context, MiddlewareHandler } from "hono";
import { authenticateApiToken, isApiTokenShaped } from "../auth/api_tokens.ts";
import {
  authenticateAccessToken,
  type IssuedTokens,
  refreshSession,
  type SessionDeps,
} from "../auth/session.ts";
import { getUser, type User, type UserSettings } from "../db/users.ts";
import { HttpError } from "./errors.ts";
import { clearSessionCookies, readSessionCookies, setSessionCookies } from "./session_cookies.ts";

/** The signed-in user as routes see it (read with the session: pages need not read it again). */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  createdAt: string;
  settings: UserSettings;
}

export type AuthVariables = {
  user: SessionUser | undefined;
  sessionId: string | undefined;
  /** Tokens this request issued by rotating (the explicit refresh route returns them). */
  issued: IssuedTokens | undefined;
  /** Why the refresh cookie this request carried was refused, if it was. */
  refreshRefused: "invalid" | "reused" | undefined;
  /** The personal API token this request is authenticated with (no session then). */
  apiTokenId: string | undefined;
  /** The request presented an API token that authenticates nothing. */
  apiTokenRefused: true | undefined;
};

export interface SessionAuthOptions {
  sessions: SessionDeps;
  /** Cookies are Secure and `__Host-` prefixed (PUBLIC_URL is https). */
  secureCookies: boolean;
}

/**
 * Authenticates the request; never refuses it (guards do). With an `Authorization` header only
 * that header counts and cookies are ignored, which is what lets the CSRF guard exempt such
 * requests. A `bsy_` Bearer value is an API token and counts on `/api/` alone: a page opened
 * with one is signed out. A refresh token that fails (unknown, expired, reused), or an access
 * cookie that fails with no refresh token beside it, clears the cookies.
 */
export function sessionAuth(
  options: SessionAuthOptions,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const { sessions, secureCookies } = options;
  return async function session(c, next) {
    const authorization = c.req.header("authorization");
    if (authorization !== undefined) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
      if (bearer && isApiTokenShaped(bearer)) {
        if (!c.req.path.startsWith("/api/")) return await next();
        const auth = await authenticateApiToken(sessions, bearer);
        if (auth) {
          signIn(c, auth.user, undefined);
          c.set("apiTokenId", auth.tokenId);
        } else c.set("apiTokenRefused", true);
        return await next();
      }
      const auth = bearer ? await authenticateAccessToken(sessions, bearer) : null;
      if (auth) signIn(c, auth.user, auth.sessionId);
      return await next();
    }
    const cookies = readSessionCookies(c, secureCookies);
    const auth = cookies.access ? await authenticateAccessToken(sessions, cookies.access) : null;
    if (auth) {
      signIn(c, auth.user, auth.sessionId);
      return await next();
    }
    if (!cookies.refresh) {
      // An access cookie that no longer authenticates (expired, signed out, user deleted) and
      // nothing to renew it with: the browser should stop sending it.
      if (cookies.access) clearSessionCookies(c, secureCookies);
    } else {
      const outcome = await refreshSession(sessions, cookies.refresh);
      const user = outcome.ok ? await getUser(sessions.kv, outcome.tokens.userId) : null;
      if (outcome.ok && user) {
        signIn(c, user, outcome.tokens.sessionId);
        setSessionCookies(c, secureCookies, outcome.tokens, sessions.now());
        c.set("issued", outcome.tokens);
      } else {
        clearSessionCookies(c, secureCookies);
        c.set("refreshRefused", outcome.ok ? "invalid" : outcome.reason);
      }
    }
    await next();
  };

  function signIn(c: Context, user: User, sessionId: string | undefined) {
    c.set("user", {
      id: user.id,
      email: user.email,
      name: user.name,
      createdAt: user.createdAt,
      settings: user.settings,
    });
    c.set("sessionId", sessionId);
  }
}

/** API guard: 401 `unauthenticated` without a signed-in user. */
export function requireUser(): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function signedIn(c, next) {
    if (c.var.user) return await next();
    if (c.var.apiTokenRefused) {
      throw new HttpError(
        401,
        "unauthenticated",
        "This API token is unknown, revoked or expired. Create a new one on the settings page.",
      );
    }
    throw new HttpError(401, "unauthenticated", "Sign in first.");
  };
}

/**
 * Guard for what only a person signed in with a session may do (create API tokens, delete the
 * account, sign out): 403 `token_not_allowed` for a request made with an API token, so a
 * leaked token cannot mint more tokens or destroy the account.
 */
export function refuseApiTokens(): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function sessionOnly(c, next) {
    if (c.var.apiTokenId) {
      throw new HttpError(
        403,
        "token_not_allowed",
        "An API token cannot do this; sign in to busysync in a browser and do it there.",
      );
    }
    await next();
  };
}

/** The signed-in user of a guarded route. */
/**
 * For pages a person opens: someone not signed in is sent to sign in, and brought back to the
 * same address (query included) afterwards. Handlers behind it read the user with userOf.
 */
export function requireSignedInPage(): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    if (c.var.user) return await next();
    const url = new URL(c.req.url);
    return c.redirect(`/signin?${new URLSearchParams({ next: url.pathname + url.search })}`, 303);
  };
}

export function userOf(c: { var: Pick<AuthVariables, "user"> }): SessionUser {
  const user = c.var.user;
  if (!user) throw new HttpError(401, "unauthenticated", "Sign in first.");
  return user;
}
