import { Hono } from "hono";
import type { VNode } from "preact";
import { Banners } from "../../components/Banners.tsx";
import { NamedCalendar } from "../../components/CalendarSwatch.tsx";
import { NextStep } from "../../components/NextStep.tsx";
import { Island } from "../../components/Island.tsx";
import { RuleStatusPill } from "../../components/RuleStatusPill.tsx";
import { ChangeSummary, OutcomePill, RunTable } from "../../components/RunTable.tsx";
import LiveStatus from "../../islands/LiveStatus.tsx";
import SyncNow from "../../islands/SyncNow.tsx";
import { listCalendars } from "../../lib/db/calendars.ts";
import { listConnections } from "../../lib/db/connections.ts";
import { listRuns } from "../../lib/db/history.ts";
import { pingKv } from "../../lib/db/kv.ts";
import { readReturningCookie } from "../../lib/http/session_cookies.ts";
import { listGroups } from "../../lib/db/groups.ts";
import { listRules } from "../../lib/db/rules.ts";
import { listWritePauses } from "../../lib/db/account_limits.ts";
import { openIncidents } from "../../lib/notify/incidents.ts";
import type { SessionUser } from "../../lib/http/auth_middleware.ts";
import { calendarKey } from "../../lib/model/calendar_ref.ts";
import { formatRelative, plural } from "../../lib/browser/format.ts";
import { LocalTime } from "../../components/LocalTime.tsx";
import { calendarLabels, displayZone } from "../../lib/web/page_data.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";

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
    const returning = readReturningCookie(c, deps.secureCookies);
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
          {/* Straight to Google: there is nothing to choose on a page in between. */}
          <a class="button button-large" href="/api/auth/login?next=%2F">Sign in with Google</a>
        </p>
        <p class="note">
          {returning
            ? "Google asks only who you are; calendar accounts are connected one at a time."
            : "The first time, Google also asks to see your calendar list and to read and write " +
              "events, so the account you sign in with is connected in the same step."}
        </p>
        {deps.config.demo && (
          <p class="note">
            This instance runs in demo mode: Google is replaced by the bundled emulator, seeded with
            a demo person, Alex, who has a personal and a work account. Pick{" "}
            <strong>alex.personal@example.com</strong> on the next page.
          </p>
        )}
      </section>,
      { title: "busysync" },
    ));
  });
}

/**
 * The signed-in home page: what needs attention, whether syncing works (last run, next run,
 * "Sync now" with live progress), each account's health, the rules, and the latest runs.
 * Everything is read here on the server; only the sync button is an island.
 */
async function renderDashboard(deps: AppDeps, sessionUser: SessionUser): Promise<VNode> {
  const userId = sessionUser.id;
  const [connections, calendars, ruleEntries, groupEntries, runs, progress] = await Promise.all([
    listConnections(deps.kv, userId),
    listCalendars(deps.kv, userId),
    listRules(deps.kv, userId),
    listGroups(deps.kv, userId),
    listRuns(deps.kv, userId, { limit: 5 }),
    deps.syncRequests.progress(userId),
  ]);
  const now = deps.now();
  const pauses = await listWritePauses(deps.kv, connections, now);
  const zone = displayZone(sessionUser.settings.timeZone, calendars);
  const rules = ruleEntries.map((e) => e.rule);
  const groups = groupEntries.map((e) => e.group);
  // A group is set up like a rule: either means busysync has something to do.
  const owners = [...rules, ...groups];
  const labels = calendarLabels(connections, calendars);
  const lastRun = runs.items.find((r) => !r.dryRun);
  const activeRules = owners.filter((r) => r.enabled).length;
  const firstName = sessionUser.name.split(" ")[0] || sessionUser.email;

  return (
    <>
      <Banners incidents={openIncidents(connections, owners, pauses)} here="/" />
      <div class="page-head">
        <div>
          <h1>Hello, {firstName}</h1>
          <p class="lead">
            {owners.length === 0
              ? "Set busysync up in three steps: connect your accounts, add a rule, sync."
              : `${plural(activeRules, groups.length ? "rule or group" : "rule")} on, across ${
                plural(connections.length, "connected account")
              }.`}
          </p>
        </div>
      </div>

      {owners.length === 0 && (
        <>
          <NextStep connections={connections.length} calendars={calendars.length} back="/" />
          <Onboarding connections={connections.length} />
        </>
      )}

      <div class="dash-grid">
        <section class="card sync-card" aria-labelledby="sync-title">
          <h2 id="sync-title">Sync</h2>
          <dl class="facts">
            <div>
              <dt>Last sync</dt>
              <dd data-testid="last-sync" data-live="last-sync">
                {lastRun
                  ? (
                    <>
                      <a href={`/history/${lastRun.id}`}>{formatRelative(lastRun.endedAt, now)}</a>
                      {" "}
                      <OutcomePill outcome={lastRun.outcome} />
                      <span class="fact-sub">
                        <ChangeSummary run={lastRun} />
                      </span>
                    </>
                  )
                  : "Not yet"}
              </dd>
            </div>
            <div>
              <dt>Next run</dt>
              <dd data-testid="next-run">
                {activeRules === 0 ? "When you turn a rule on" : progress.nextScheduledRun
                  ? (
                    <>
                      {formatRelative(progress.nextScheduledRun, now)}
                      <span class="fact-sub">
                        <LocalTime iso={progress.nextScheduledRun} zone={zone} now={now} zoneName />
                      </span>
                    </>
                  )
                  : `Every ${deps.config.syncIntervalMinutes} minutes`}
              </dd>
            </div>
            <div>
              <dt>Changes</dt>
              <dd>
                {progress.push.enabled ? "Picked up within seconds" : "Picked up on the next run"}
                <span class="fact-sub">
                  {progress.push.enabled
                    ? "Google tells busysync when a calendar changes"
                    : progress.push.reason ?? "Push notifications are off"}
                </span>
                {connections.some((c) => c.kind === "caldav") && (
                  <span class="fact-sub" data-testid="caldav-poll">
                    CalDAV calendars have no push: busysync checks them every{" "}
                    {plural(deps.config.caldavPollMinutes, "minute")}
                  </span>
                )}
                {connections.some((c) => c.kind === "ics") && (
                  <span class="fact-sub" data-testid="ics-poll">
                    Calendar feeds are fetched every{" "}
                    {plural(deps.config.icsPollMinutes, "minute")}, and only when they changed
                  </span>
                )}
              </dd>
            </div>
          </dl>
          <Island
            name="SyncNow"
            component={SyncNow}
            props={{
              disabled: activeRules === 0,
              running: progress.running,
              ...(progress.progress ? { progress: progress.progress } : {}),
            }}
          />
        </section>

        <section class="card" aria-labelledby="accounts-title">
          <div class="card-head">
            <h2 id="accounts-title">Accounts</h2>
            <a href="/connections">Manage</a>
          </div>
          {connections.length === 0
            ? <p class="muted-block">No Google account connected yet.</p>
            : (
              <ul class="health-list">
                {connections.map((c) => {
                  const count = calendars.filter((cal) => cal.connectionId === c.id).length;
                  const ok = c.status === "active";
                  return (
                    <li key={c.id} data-connection-health={c.id}>
                      <span class={`dot ${ok ? "dot-ok" : "dot-bad"}`} aria-hidden="true" />
                      <span class="health-main">
                        <span class="health-name">{c.email}</span>
                        <span class="health-sub">
                          {ok ? "Healthy" : "Needs reconnecting"} · {plural(count, "calendar")}
                        </span>
                      </span>
                    </li>
                  );
                })}
              </ul>
            )}
        </section>

        <section class="card span-2" aria-labelledby="rules-title">
          <div class="card-head">
            <h2 id="rules-title">Rules</h2>
            <a href="/rules">All rules</a>
          </div>
          {owners.length === 0
            ? (
              <p class="muted-block">
                No rules yet. <a href="/rules/new">Create your first rule</a>.
              </p>
            )
            : (
              <ul class="rule-mini" data-live="rule-mini">
                {rules.map((r) => (
                  <li key={r.id}>
                    <a href={`/rules/${r.id}`} class="rule-mini-name">{r.name}</a>
                    <span class="rule-mini-path">
                      <NamedCalendar calendar={labels.get(calendarKey(r.source))} />{" "}
                      <span aria-label={r.bidirectional ? "both ways with" : "into"}>
                        {r.bidirectional ? "↔" : "→"}
                      </span>{" "}
                      <NamedCalendar calendar={labels.get(calendarKey(r.target))} />
                    </span>
                    <RuleStatusPill enabled={r.enabled} status={r.status} />
                  </li>
                ))}
                {groups.map((g) => (
                  <li key={g.id}>
                    <a href={`/groups/${g.id}`} class="rule-mini-name">{g.name}</a>
                    <span class="rule-mini-path" aria-label="a group: these block each other">
                      {g.members.map((m, i) => (
                        <span key={calendarKey(m.calendar)}>
                          {i > 0 && " · "}
                          <NamedCalendar calendar={labels.get(calendarKey(m.calendar))} />
                        </span>
                      ))}
                    </span>
                    <RuleStatusPill enabled={g.enabled} status={g.status} />
                  </li>
                ))}
              </ul>
            )}
        </section>

        <section class="card span-2" aria-labelledby="runs-title">
          <div class="card-head">
            <h2 id="runs-title">Recent runs</h2>
            <a href="/history">All history</a>
          </div>
          <div data-live="recent-runs">
            {runs.items.length === 0
              ? <p class="muted-block">Runs appear here once busysync has synced.</p>
              : <RunTable runs={runs.items} timeZone={zone} now={now} />}
          </div>
        </section>
      </div>
    </>
  );
}

function Onboarding({ connections }: { connections: number }) {
  const steps = [
    {
      done: connections >= 2,
      title: "Connect your accounts",
      body: "Each Google account whose calendars take part, e.g. personal and work.",
      href: "/connections",
      cta: "Connect accounts",
    },
    {
      done: false,
      title: "Add a rule",
      body: "Pick a calendar to read and one to fill with busy blocks; see a preview first.",
      href: "/rules/new",
      cta: "Create a rule",
    },
    {
      done: false,
      title: "Sync",
      body: "busysync then keeps the busy blocks up to date by itself.",
    },
  ];
  return (
    <ol class="onboarding">
      {steps.map((s, i) => (
        <li key={s.title} class={s.done ? "done" : ""}>
          <span class="step-no" aria-hidden="true">{s.done ? "✓" : i + 1}</span>
          <div>
            <strong>{s.title}</strong>
            {s.done && <span class="visually-hidden">(done)</span>}
            <p>{s.body}</p>
            {s.href && !s.done && <a href={s.href}>{s.cta}</a>}
          </div>
        </li>
      ))}
    </ol>
  );
}
