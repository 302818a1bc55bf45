import { Hono } from "hono";
import type { VNode } from "preact";
import { Island } from "../../components/Island.tsx";
import ActionButton from "../../islands/ActionButton.tsx";
import {
  type OverviewConnection,
  type OverviewUser,
  type OwnerOverview,
  readOwnerOverview,
} from "../../lib/admin/overview.ts";
import { formatRelative, plural } from "../../lib/browser/format.ts";
import { LocalTime } from "../../components/LocalTime.tsx";
import { userOf } from "../../lib/http/auth_middleware.ts";
import { requireOwner } from "../../lib/http/owner_guard.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { overviewDeps } from "../api/schemas.ts";

/**
 * `GET /admin`: the owner's page, the same overview as `GET /api/admin/overview` in tables, with
 * pause/resume and delete per user (ActionButton calls the owner's API; delete asks first
 * whether the user's busy blocks go too). Anyone but an owner gets the not-found page.
 */
export function adminPage(deps: AppDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get(
    "/",
    requireOwner({ kv: deps.kv, adminEmails: deps.config.adminEmails }),
    async (c) => {
      const me = userOf(c);
      const overview = await readOwnerOverview(overviewDeps(deps));
      const zone = me.settings.timeZone ?? "UTC";
      const now = deps.now();
      const at = (iso: string) => <LocalTime iso={iso} zone={zone} now={now} />;
      return c.html(deps.render(
        <>
          <div class="page-head">
            <div>
              <h1>Owner's page</h1>
              <p class="lead">
                This busysync instance: who uses it, what waits, what is stuck. Times are in {zone}.
              </p>
            </div>
          </div>
          <InstanceFacts overview={overview} at={at} now={now} />
          <section class="card card-pad" aria-labelledby="admin-users">
            <h2 id="admin-users">Users</h2>
            <UserTable users={overview.users} me={me.id} at={at} now={now} />
          </section>
          <section class="card card-pad" aria-labelledby="admin-reconnect">
            <h2 id="admin-reconnect">Connections that need a reconnect</h2>
            {overview.needReconnect.length === 0
              ? <p class="muted-text">None: every connected account's access works.</p>
              : (
                <table class="runs">
                  <thead>
                    <tr>
                      <th scope="col">Account</th>
                      <th scope="col">User</th>
                      <th scope="col">Since</th>
                      <th scope="col">Why</th>
                    </tr>
                  </thead>
                  <tbody>
                    {overview.needReconnect.map((c) => (
                      <tr key={c.id} data-reconnect={c.id}>
                        <td>{c.email}</td>
                        <td>{c.userEmail}</td>
                        <td>{at(c.updatedAt)}</td>
                        <td>{c.statusReason ?? ""}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
          </section>
          <section class="card card-pad" aria-labelledby="admin-budgets">
            <h2 id="admin-budgets">Calendar accounts and their budgets</h2>
            <BudgetTable accounts={overview.accounts} limits={overview.limits} at={at} />
          </section>
          <section class="card card-pad" aria-labelledby="admin-jobs">
            <h2 id="admin-jobs">Jobs</h2>
            <p data-jobs-summary>
              {plural(overview.jobs.waiting, "job")} waiting, {overview.jobs.running} running,{" "}
              {overview.jobs.failing.length}{" "}
              failing (failed in the last day, or retrying after a failure).
            </p>
            {overview.jobs.failing.length > 0 && (
              <table class="runs">
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Asked by</th>
                    <th scope="col">State</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">When</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {overview.jobs.failing.map((j) => (
                    <tr key={j.id} data-job={j.id}>
                      <td>{j.userEmail}</td>
                      <td>{j.reason}</td>
                      <td>{j.state === "failed" ? "given up" : "retrying"}</td>
                      <td>{j.attempts}</td>
                      <td>{at(j.endedAt ?? j.dueAt)}</td>
                      <td>{j.error ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section class="card card-pad" aria-labelledby="admin-incidents">
            <h2 id="admin-incidents">Open incidents</h2>
            {overview.incidents.length === 0
              ? <p class="muted-text">None.</p>
              : (
                <table class="runs">
                  <thead>
                    <tr>
                      <th scope="col">User</th>
                      <th scope="col">What</th>
                      <th scope="col">Of</th>
                    </tr>
                  </thead>
                  <tbody>
                    {overview.incidents.map((i) => (
                      <tr key={`${i.userId}:${i.id}`} data-incident={i.id}>
                        <td>{i.userEmail}</td>
                        <td>
                          <span class={i.severity === "bad" ? "pill pill-bad" : "pill pill-warn"}>
                            {INCIDENT_WORDS[i.kind] ?? i.kind}
                          </span>
                        </td>
                        <td>{i.subject}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
          </section>
          <p class="fine-print">
            This page shows sign-in and account addresses, counts and states, never anyone's events
            or their titles.
          </p>
        </>,
        { title: "Owner's page", user: me },
      ));
    },
  );
}

const INCIDENT_WORDS: Record<string, string> = {
  connection_needs_reconnect: "Needs reconnect",
  account_write_paused: "Writes paused by Google",
  rule_broken: "Rule stopped working",
  rule_failing: "Rule keeps failing",
  rule_held: "Rule held by the delete guard",
};

function InstanceFacts(
  { overview, at, now }: { overview: OwnerOverview; at: (iso: string) => VNode; now: Date },
) {
  const { store, lastBackup } = overview;
  return (
    <dl class="card card-pad facts" data-facts>
      <dt>Version</dt>
      <dd data-fact="version">{overview.version}</dd>
      <dt>Store size</dt>
      <dd data-fact="store">
        {store.bytes === null
          ? `not known (${store.kind === "remote" ? "KV Connect" : "in memory"})`
          : formatBytes(store.bytes)}
      </dd>
      <dt>Last backup</dt>
      <dd data-fact="backup">
        {lastBackup
          ? (
            <>
              {at(lastBackup.at)} ({formatRelative(lastBackup.at, now)}), {lastBackup.entries}{" "}
              {lastBackup.entries === 1 ? "entry" : "entries"}
            </>
          )
          : "none recorded (busysync backup records it)"}
      </dd>
    </dl>
  );
}

function UserTable(
  { users, me, at, now }: {
    users: OverviewUser[];
    me: string;
    at: (iso: string) => VNode;
    now: Date;
  },
) {
  return (
    <table class="runs">
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Joined</th>
          <th scope="col">Last sync</th>
          <th scope="col">Rules</th>
          <th scope="col">Connections</th>
          <th scope="col">Jobs waiting</th>
          <th scope="col">Syncs</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {users.map((u) => (
          <tr key={u.id} data-user={u.id}>
            <td>
              {u.email}
              {u.id === me && <span class="muted-text">(you)</span>}
            </td>
            <td>{at(u.createdAt)}</td>
            <td>
              {u.lastSync
                ? `${formatRelative(u.lastSync.at, now)}${
                  u.lastSync.outcome === "ok" ? "" : ` (${u.lastSync.outcome})`
                }`
                : "never"}
            </td>
            <td>{u.enabledRules === u.rules ? u.rules : `${u.enabledRules} of ${u.rules} on`}</td>
            <td>{u.connections}</td>
            <td>{u.jobsWaiting}</td>
            <td>
              {u.paused
                ? <span class="pill pill-warn">Paused</span>
                : <span class="pill pill-ok">Running</span>}
            </td>
            <td class="row-actions">
              <Island
                name="ActionButton"
                component={ActionButton}
                props={{
                  label: u.paused ? "Resume syncs" : "Pause syncs",
                  choices: [{
                    label: u.paused ? "Resume syncs" : "Pause syncs",
                    method: "POST",
                    url: `/api/admin/users/${u.id}/${u.paused ? "resume" : "pause"}`,
                  }],
                  done: "/admin",
                }}
              />
              {u.id !== me && (
                <Island
                  name="ActionButton"
                  component={ActionButton}
                  props={{
                    label: "Delete",
                    danger: true,
                    question: {
                      title: `Delete ${u.email}?`,
                      message: "Their rules, connections and history go, and busysync's access " +
                        "to their Google accounts is revoked. Their busy blocks can be removed " +
                        "from their calendars first, or left where they are (nobody manages " +
                        "them afterwards).",
                    },
                    choices: [
                      {
                        label: "Delete and remove their busy blocks",
                        method: "DELETE",
                        url: `/api/admin/users/${u.id}?removeMirrors=true`,
                        danger: true,
                      },
                      {
                        label: "Delete, leave their busy blocks",
                        method: "DELETE",
                        url: `/api/admin/users/${u.id}?removeMirrors=false`,
                      },
                    ],
                    done: "/admin",
                  }}
                />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function BudgetTable(
  { accounts, limits, at }: {
    accounts: OverviewConnection[];
    limits: OwnerOverview["limits"];
    at: (iso: string) => VNode;
  },
) {
  if (accounts.length === 0) return <p class="muted-text">No account is connected yet.</p>;
  return (
    <>
      <table class="runs">
        <thead>
          <tr>
            <th scope="col">Account</th>
            <th scope="col">User</th>
            <th scope="col">Requests, last minute</th>
            <th scope="col">Events created today (UTC)</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {accounts.map((a) => (
            <tr key={a.id} data-account={a.id}>
              <td>{a.email}</td>
              <td>{a.userEmail}</td>
              <td>{a.requestsLastMinute} of {limits.requestsPerMinute}</td>
              <td>{a.createsToday} of {limits.createsPerDay}</td>
              <td>
                {a.status === "needs_reconnect"
                  ? <span class="pill pill-bad">Needs reconnect</span>
                  : a.status === "disconnected"
                  ? <span class="pill pill-muted">Disconnected by its user, rules paused</span>
                  : a.writesPausedUntil
                  ? <span class="pill pill-warn">Writes wait until {at(a.writesPausedUntil)}</span>
                  : <span class="pill pill-ok">Connected</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="fine-print">
        Requests are counted by the process that served this page (the budget is kept in memory);
        event creations are counted in the store, across every process.
      </p>
    </>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
