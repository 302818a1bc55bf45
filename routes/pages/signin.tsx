import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_NEXT, safeNextPath } from "../../lib/http/next_path.ts";
import type { AppDeps, AppEnv } from "../../app.ts";

const Query = z.object({ next: z.string().max(2000).optional() });

/** `GET /signin`: the sign-in page; a signed-in visitor goes straight on. */
export function signInPage(deps: AppDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/signin", (c) => {
    const parsed = Query.safeParse(c.req.query());
    // A bad `next` is dropped here rather than refused: this page is where people land.
    const next = (parsed.success && parsed.data.next &&
      safeNextPath(parsed.data.next, deps.config.publicUrl)) || DEFAULT_NEXT;
    if (c.var.user) return c.redirect(next, 303);
    const login = `/api/auth/login?${new URLSearchParams({ next })}`;
    return c.html(deps.render(
      <section class="signin card">
        <h1>Sign in to busysync</h1>
        <p class="lead">
          Use your Google account. busysync learns your name and email address here; calendar access
          is asked for separately, one account at a time, when you connect calendars.
        </p>
        <a class="button" href={login}>Sign in with Google</a>
      </section>,
      { title: "Sign in" },
    ));
  });
}
