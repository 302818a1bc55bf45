/**
 * Sign-in and sessions: `GET /api/auth/login`, `GET /api/auth/callback` (shared by sign-in and
 * connecting a calendar account), `POST /api/auth/refresh`, `POST /api/auth/logout`.
 */
import { Hono } from "hono";
import { ConnectionHeld, FlowProblem, SignInRefused } from "../../components/AuthNotices.tsx";
import { beginFlow, completeFlow } from "../../lib/accounts/oauth_flows.ts";
import {
  endSession,
  type IssuedTokens,
  parseRefreshToken,
  refreshSession,
  startSession,
} from "../../lib/auth/session.ts";
import { refuseApiTokens } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { requireNextPath } from "../../lib/http/next_path.ts";
import { rateLimit } from "../../lib/http/rate_limit.ts";
import {
  clearSessionCookies,
  ensureBindingCookie,
  readBindingCookie,
  readReturningCookie,
  readSessionCookies,
  setReturningCookie,
  setSessionCookies,
} from "../../lib/http/session_cookies.ts";
import { isFormPost, parseQuery } from "../../lib/http/validate.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { CallbackQuery, LoginQuery } from "./schemas.ts";

/** Routes here (under the sub-app's base) that a plain HTML form posts to: the header's sign-out. */
export const FORM_ROUTES = ["POST /logout"];

export function authRoutes(deps: AppDeps): Hono<AppEnv> {
  const limits = { kv: deps.kv, now: deps.now, trustProxy: deps.config.trustProxy };
  const app = new Hono<AppEnv>();

  app.get("/login", rateLimit({ ...limits, bucket: "oauthStart" }), async (c) => {
    const { next } = parseQuery(c, LoginQuery);
    const target = requireNextPath(next, deps.config.publicUrl);
    const url = await beginFlow(deps, {
      flow: "signin",
      next: target,
      binding: ensureBindingCookie(c, deps.secureCookies),
      // A browser nobody signed in with yet: a new person, most likely, whose first sign-in
      // also connects that account's calendars, so one trip to Google does both.
      calendars: !readReturningCookie(c, deps.secureCookies),
    });
    return c.redirect(url, 302);
  });

  app.get("/callback", rateLimit({ ...limits, bucket: "oauthCallback" }), async (c) => {
    const result = await completeFlow(deps, {
      query: parseQuery(c, CallbackQuery),
      binding: readBindingCookie(c, deps.secureCookies),
      currentUserId: c.var.user?.id,
    });
    switch (result.kind) {
      case "signed_in": {
        // Signing in over an existing session (switching accounts) ends the old one.
        if (c.var.sessionId) await endSession(deps.sessions, c.var.sessionId);
        const tokens = await startSession(deps.sessions, result.user.id);
        setSessionCookies(c, deps.secureCookies, tokens, deps.now());
        setReturningCookie(c, deps.secureCookies);
        return c.redirect(result.next, 303);
      }
      case "connected":
        return c.redirect(result.next, 303);
      case "refused":
        return c.html(
          deps.render(<SignInRefused email={result.email} />, { title: "Sign-in refused" }),
          403,
        );
      case "held":
        return c.html(
          deps.render(<ConnectionHeld email={result.email} holders={result.holders} />, {
            title: "Connected to another busysync account",
          }),
          403,
        );
      case "failed": {
        const body = (
          <FlowProblem title={result.title} message={result.message} signedIn={!!c.var.user} />
        );
        return c.html(deps.render(body, { title: result.title, user: c.var.user }), result.status);
      }
    }
  });

  // An API token has no session to refresh or end, and must not be traded for a session's JWT.
  app.post("/refresh", refuseApiTokens(), async (c) => {
    // The session middleware rotates when the access JWT has expired; then its result stands.
    let tokens: IssuedTokens | undefined = c.var.issued;
    let refused = c.var.refreshRefused;
    if (!tokens && !refused) {
      const { refresh } = readSessionCookies(c, deps.secureCookies);
      const outcome = refresh ? await refreshSession(deps.sessions, refresh) : undefined;
      if (outcome?.ok) {
        tokens = outcome.tokens;
        setSessionCookies(c, deps.secureCookies, tokens, deps.now());
      } else refused = outcome?.reason ?? "invalid";
    }
    if (!tokens) {
      clearSessionCookies(c, deps.secureCookies);
      throw refused === "reused"
        ? new HttpError(
          401,
          "session_revoked",
          "This session was used from two places and has been ended; sign in again.",
        )
        : new HttpError(401, "unauthenticated", "Sign in first.");
    }
    // API clients send this access JWT as a Bearer token; it is in the body, never a URL.
    return c.json({
      accessToken: tokens.accessToken,
      tokenType: "Bearer",
      expiresAt: tokens.accessExpiresAt.toISOString(),
    });
  });

  app.post("/logout", refuseApiTokens(), async (c) => {
    const sessionId = c.var.sessionId ??
      parseRefreshToken(readSessionCookies(c, deps.secureCookies).refresh ?? "");
    if (sessionId) await endSession(deps.sessions, sessionId);
    clearSessionCookies(c, deps.secureCookies);
    return isFormPost(c) ? c.redirect("/", 303) : c.body(null, 204);
  });

  return app;
}
