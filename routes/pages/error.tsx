import type { Context } from "hono";
import { Notice } from "../../components/Notice.tsx";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import type { ErrorPage } from "../../lib/http/errors.ts";

const TITLES: Record<number, string> = {
  400: "That request did not make sense",
  401: "Sign in first",
  403: "Not allowed",
  404: "No such page",
  429: "Too many attempts",
};

/**
 * How an error looks to a person who followed a link or typed an address: a page in the site's
 * layout with the same message the JSON API would send, a way back, and for a 5xx the request id
 * the log line carries, so a report can be matched to it.
 */
export function errorPage(deps: Pick<AppDeps, "render">): ErrorPage {
  return function renderErrorPage(c: Context<AppEnv>, status, message) {
    const title = TITLES[status] ?? (status >= 500 ? "Something went wrong" : "That did not work");
    const user = c.var.user;
    return c.html(
      deps.render(
        <Notice
          title={title}
          tone="problem"
          action={user
            ? { href: "/", label: "Back to the dashboard" }
            : { href: "/", label: "Back to the start page" }}
        >
          <p>{status === 404 ? "The address may be mistyped, or the page has moved." : message}</p>
          {status >= 500 && <p class="muted">Reference: {c.var.requestId}</p>}
        </Notice>,
        { title, user },
      ),
      status,
    );
  };
}
