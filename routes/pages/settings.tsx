import { Hono } from "hono";
import { Island } from "../../components/Island.tsx";
import ApiTokens from "../../islands/ApiTokens.tsx";
import DeleteAccount from "../../islands/DeleteAccount.tsx";
import TimeZoneSetting from "../../islands/TimeZoneSetting.tsx";
import { API_TOKEN_EXPIRY_DAYS, API_TOKEN_LIMIT } from "../../lib/auth/api_tokens.ts";
import { listApiTokens } from "../../lib/db/api_tokens.ts";
import { listCalendars } from "../../lib/db/calendars.ts";
import { requireSignedInPage, userOf } from "../../lib/http/auth_middleware.ts";
import { displayZone } from "../../lib/web/page_data.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";

/**
 * `GET /settings`: the person's own account: the time zone pages show times in, downloading
 * their data, the Google account they sign in with, personal API tokens for scripts, and
 * deleting the account (confirmed by typing the sign-in address).
 */
export function settingsPage(deps: AppDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const [calendars, tokens] = await Promise.all([
      listCalendars(deps.kv, user.id),
      listApiTokens(deps.kv, user.id),
    ]);
    const zone = displayZone(user.settings.timeZone, calendars);
    const now = deps.now();
    const live = tokens.filter((t) => Date.parse(t.expiresAt) > now.getTime());
    return c.html(deps.render(
      <>
        <div class="page-head">
          <div>
            <h1>Settings</h1>
            <p class="lead">Your busysync account: how it shows times, your data, and access.</p>
          </div>
        </div>
        <div class="settings">
          <section class="card" aria-labelledby="settings-zone-title" data-section="zone">
            <h2 id="settings-zone-title">Time zone</h2>
            <Island
              name="TimeZoneSetting"
              component={TimeZoneSetting}
              props={{
                current: zone,
                chosen: user.settings.timeZone !== undefined,
                zones: timeZones(zone),
              }}
            />
          </section>

          <section class="card" aria-labelledby="settings-signin-title" data-section="signin">
            <h2 id="settings-signin-title">Sign-in</h2>
            <p>
              You sign in with the Google account <strong data-signin-email>{user.email}</strong>
              {user.name && <>{" "}({user.name})</>}. busysync knows it by Google's account id, so
              changing its address at Google keeps you signed in to the same account here.
            </p>
            <p class="form-hint">
              Signing in with a second Google account is not offered yet. Accounts you add on{" "}
              <a href="/connections">Connections</a>{" "}
              give busysync their calendars; they do not sign you in.
            </p>
          </section>

          <section class="card" aria-labelledby="settings-tokens-title" data-section="tokens">
            <h2 id="settings-tokens-title">API tokens</h2>
            <p>
              For scripts that use the{" "}
              <a href="/api/docs">JSON API</a>. A token can do what you can through the API, except
              create tokens or delete your account. Revoking one stops it at once.
            </p>
            <Island
              name="ApiTokens"
              component={ApiTokens}
              props={{
                tokens: live.map((t) => ({
                  id: t.id,
                  name: t.name,
                  createdAt: t.createdAt,
                  expiresAt: t.expiresAt,
                  lastUsedAt: t.lastUsedAt,
                })),
                limit: API_TOKEN_LIMIT,
                expiryDays: [...API_TOKEN_EXPIRY_DAYS],
                zone,
                now: now.toISOString(),
              }}
            />
          </section>

          <section class="card" aria-labelledby="settings-export-title" data-section="export">
            <h2 id="settings-export-title">Your data</h2>
            <p>
              Download your settings and the list of your connected accounts as JSON (never a
              password or token). Rules and groups are not part of it yet.
            </p>
            <a class="button button-secondary" href="/api/user/export" download data-export>
              Download my data
            </a>
          </section>

          <section
            class="card settings-danger"
            aria-labelledby="settings-delete-title"
            data-section="delete"
          >
            <h2 id="settings-delete-title">Delete your account</h2>
            <Island name="DeleteAccount" component={DeleteAccount} props={{ email: user.email }} />
          </section>
        </div>
      </>,
      { title: "Settings", user, nav: "settings" },
    ));
  });
}

/**
 * Every zone this server's Intl knows, with the one in use even when it is an alias Intl lists
 * under another name (a setting saved as "Asia/Calcutta" stays selectable).
 */
function timeZones(current: string): string[] {
  return [...new Set([...Intl.supportedValuesOf("timeZone"), "UTC", current])].sort();
}
