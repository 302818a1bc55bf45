import { Hono } from "hono";
import { Island } from "../../components/Island.tsx";
import LiveStatus from "../../islands/LiveStatus.tsx";
import { pingKv } from "../../lib/db/kv.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { renderDashboard } from "./dashboard.tsx";

/**
 * `GET /`: the dashboard for a signed-in person; otherwise the landing page: what busysync
 * does, and whether this instance is healthy.
 */
export function homePage(deps: AppDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/", async (c) => {
    const user = c.var.user;
    if (user) {
      return c.html(deps.render(await renderDashboard(deps, user), {
        title: "Dashboard",
        user,
        nav: "dashboard",
      }));
    }
    const ready = await pingKv(deps.kv);
    return c.html(deps.render(
      <section class="hero">
        <h1>Your busy time, in every calendar.</h1>
        <p class="lead">
          busysync mirrors real events from one calendar into another as private busy blocks: within
          seconds, with no duplicates, no loops and no leaked titles.
        </p>
        <Island
          name="LiveStatus"
          component={LiveStatus}
          props={{ initial: ready ? "ready" : "unavailable", everySeconds: 30 }}
        />
        <p>
          <a class="button button-large" href="/signin">Sign in with Google</a>
        </p>
        {deps.config.demo && (
          <p class="note">
            This instance runs in demo mode: Google is replaced by the bundled emulator, seeded with
            a demo person who has a personal and a work account.
          </p>
        )}
      </section>,
      { title: "busysync" },
    ));
  });
}
