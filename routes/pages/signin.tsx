import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_NEXT, safeNextPath } from "../../lib/http/next_path.ts";
import { readReturningCookie } from "../../lib/http/session_cookies.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";

const Query = z.object({
  next: z.string().max(2000).optional(),
  /** Set by the settings page after the account was deleted. */
  deleted: z.literal("1").optional(),
});

/** `GET /signin`: the sign-in page; a signed-in visitor goes straight on. */
export function signInPage(deps: AppDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/", (c) => {
    const parsed = Query.safeParse(c.req.query());
    // A bad `next` is dropped here rather than refused: this page is where people land.
    const next = (parsed.success && parsed.data.next &&
      safeNextPath(parsed.data.next, deps.config.publicUrl)) || DEFAULT_NEXT;
    if (c.var.user) return c.redirect(next, 303);
    const login = `/api/auth/login?${new URLSearchParams({ next })}`;
    return c.html(deps.render(
      <div class="signin-wrap">
        <section class="signin-pitch" aria-label="What busysync does">
          <h1>Be busy everywhere you are busy.</h1>
          <ul class="pitch-list">
            <li>
              <strong>One calendar knows about the other.</strong>{" "}
              Your dentist appointment blocks time in your work calendar, as a private “Busy”.
            </li>
            <li>
              <strong>See it before it happens.</strong>{" "}
              Every rule shows the busy blocks it would add, drawn into a week, before you save.
            </li>
            <li>
              <strong>Your details stay yours.</strong>{" "}
              Titles are copied only if you say so; guests, links and notes never are.
            </li>
          </ul>
        </section>
        <section class="card signin" aria-labelledby="signin-title">
          {parsed.success && parsed.data.deleted && (
            <p class="callout" role="status" data-account-deleted>
              Your busysync account was deleted.
            </p>
          )}
          <h2 id="signin-title">Sign in to busysync</h2>
          <p>
            {readReturningCookie(c, deps.secureCookies)
              ? "Use your Google account. busysync learns only your name and email address here; " +
                "calendar access is asked for separately, one account at a time."
              : "Use your Google account. The first time, Google also asks to see your calendar " +
                "list and to read and write events, so this account is connected in the same step."}
          </p>
          <a class="button button-google" href={login}>
            <GoogleMark />
            Sign in with Google
          </a>
          {deps.config.demo && (
            <p class="signin-demo">
              Demo mode: Google is simulated. Pick <strong>alex.personal@example.com</strong>{" "}
              on the next page.
            </p>
          )}
        </section>
      </div>,
      { title: "Sign in" },
    ));
  });
}

/** Google's "G", drawn inline so the page needs no image request. */
function GoogleMark() {
  return (
    <svg class="google-mark" viewBox="0 0 48 48" width="20" height="20" aria-hidden="true">
      <path
        fill="#EA4335"
        d="M24 9.5c3.5 0 6.6 1.2 9.1 3.6l6.8-6.8C35.8 2.4 30.3 0 24 0 14.6 0 6.6 5.4 2.7 13.3l7.9 6.1C12.5 13.7 17.8 9.5 24 9.5z"
      />
      <path
        fill="#4285F4"
        d="M46.1 24.5c0-1.6-.1-3.1-.4-4.5H24v9h12.4c-.5 2.9-2.2 5.3-4.6 6.9l7.4 5.7c4.3-4 6.9-9.9 6.9-17.1z"
      />
      <path
        fill="#FBBC05"
        d="M10.6 28.6c-.5-1.4-.8-3-.8-4.6s.3-3.2.8-4.6l-7.9-6.1C1 16.6 0 20.2 0 24s1 7.4 2.7 10.7l7.9-6.1z"
      />
      <path
        fill="#34A853"
        d="M24 48c6.5 0 11.9-2.1 15.9-5.8l-7.4-5.7c-2.1 1.4-4.8 2.3-8.5 2.3-6.2 0-11.5-4.2-13.4-9.9l-7.9 6.1C6.6 42.6 14.6 48 24 48z"
      />
    </svg>
  );
}
