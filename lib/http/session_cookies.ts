/**
 * The cookies that carry a session and an OAuth flow's browser binding. All are HttpOnly,
 * SameSite=Lax (sent on the top-level GET back from Google, not on cross-site POSTs), Path=/;
 * on https they are Secure and `__Host-` prefixed, which also forbids a Domain attribute, so a
 * sibling subdomain cannot plant them.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { IssuedTokens } from "../auth/session.ts";
import { newBinding, OAUTH_STATE_TTL_MS } from "../auth/oauth_state.ts";

export interface CookieNames {
  access: string;
  refresh: string;
  binding: string;
}

/** The cookie names for a site served over https (`secure`) or plain http. */
export function cookieNames(secure: boolean): CookieNames {
  const prefix = secure ? "__Host-" : "";
  return {
    access: `${prefix}busysync_at`,
    refresh: `${prefix}busysync_rt`,
    binding: `${prefix}busysync_oauth`,
  };
}

function options(secure: boolean, maxAgeMs: number) {
  return {
    httpOnly: true,
    sameSite: "Lax" as const,
    path: "/",
    secure,
    maxAge: Math.max(0, Math.floor(maxAgeMs / 1000)),
  };
}

/** Sets the access cookie, and the refresh cookie when a new refresh token was issued. */
export function setSessionCookies(
  c: Context,
  secure: boolean,
  tokens: IssuedTokens,
  now: Date,
): void {
  const names = cookieNames(secure);
  setCookie(
    c,
    names.access,
    tokens.accessToken,
    options(secure, tokens.accessExpiresAt.getTime() - now.getTime()),
  );
  if (tokens.refresh) {
    setCookie(
      c,
      names.refresh,
      tokens.refresh.token,
      options(secure, tokens.refresh.expiresAt.getTime() - now.getTime()),
    );
  }
}

/** Removes both session cookies (sign-out, a revoked or unknown session). */
export function clearSessionCookies(c: Context, secure: boolean): void {
  const names = cookieNames(secure);
  for (const name of [names.access, names.refresh]) {
    deleteCookie(c, name, { path: "/", secure });
  }
}

/** The session cookies the request carries. */
export function readSessionCookies(c: Context, secure: boolean) {
  const names = cookieNames(secure);
  return { access: getCookie(c, names.access), refresh: getCookie(c, names.refresh) };
}

/** The browser's OAuth binding value, if it has one. */
export function readBindingCookie(c: Context, secure: boolean): string | undefined {
  return getCookie(c, cookieNames(secure).binding);
}

/**
 * The browser's OAuth binding value: the one its cookie holds, or a new one set now (renewed on
 * every flow start so it outlives the flow). Parallel flows in two tabs share the value.
 */
export function ensureBindingCookie(c: Context, secure: boolean): string {
  const existing = readBindingCookie(c, secure);
  const binding = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newBinding();
  setCookie(c, cookieNames(secure).binding, binding, options(secure, OAUTH_STATE_TTL_MS));
  return binding;
}

/** How long a browser is remembered as one a person has signed in with: a year. */
const RETURNING_MAX_AGE_MS = 365 * 24 * 3600_000;

function returningCookieName(secure: boolean): string {
  return `${secure ? "__Host-" : ""}busysync_known`;
}

/**
 * Whether someone has signed in to busysync in this browser before. A browser that has not
 * gets the first sign-in that also connects the account's calendars (one consent); later
 * sign-ins ask for who the person is only, since each offline consent mints a refresh token and
 * Google keeps only about 100 per account and client. It holds no identity, just "1".
 */
export function readReturningCookie(c: Context, secure: boolean): boolean {
  return getCookie(c, returningCookieName(secure)) === "1";
}

/** Remembers that someone signed in with this browser (see readReturningCookie). */
export function setReturningCookie(c: Context, secure: boolean): void {
  setCookie(c, returningCookieName(secure), "1", options(secure, RETURNING_MAX_AGE_MS));
}
