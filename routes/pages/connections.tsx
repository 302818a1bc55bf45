import { Hono } from "hono";
import { Island } from "../../components/Island.tsx";
import ActionButton, { type ActionChoice } from "../../islands/ActionButton.tsx";
import CalDavConnect from "../../islands/CalDavConnect.tsx";
import IcsConnect from "../../islands/IcsConnect.tsx";
import {
  isReadable,
  isWritable,
  listCalendars,
  type StoredCalendar,
} from "../../lib/db/calendars.ts";
import { type Connection, listConnections } from "../../lib/db/connections.ts";
import { listRulesAndGroups } from "../../lib/db/rules.ts";
import { calendarsOf } from "../../lib/model/edge_owner.ts";
import type { Group } from "../../lib/model/group.ts";
import type { Rule } from "../../lib/model/rule.ts";
import { plural } from "../../lib/browser/format.ts";
import { LocalTime } from "../../components/LocalTime.tsx";
import { calendarTitle } from "../../lib/model/calendar_name.ts";
import { CalendarSwatch } from "../../components/CalendarSwatch.tsx";
import { NextStep } from "../../components/NextStep.tsx";
import { displayZone } from "../../lib/web/page_data.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { requireSignedInPage, userOf } from "../../lib/http/auth_middleware.ts";

/**
 * `GET /connections`: the connected Google and CalDAV accounts and ICS feeds with their health
 * and calendars, "Connect a Google account" (a plain form: it works without JavaScript),
 * "Connect a CalDAV account" (checked against the server before it is stored), "Add a calendar
 * feed" (fetched once before it is stored; shown by its host only), connecting an account
 * again when its access died, and disconnect, which asks first what to do with the busy blocks.
 */
export function connectionsPage(deps: AppDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const [connections, calendars, entries] = await Promise.all([
      listConnections(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
      listRulesAndGroups(deps.kv, user.id),
    ]);
    const rules = entries;
    const zone = displayZone(user.settings.timeZone, calendars);
    return c.html(deps.render(
      <>
        <div class="page-head">
          <div>
            <h1>Connections</h1>
            <p class="lead">
              The Google and CalDAV accounts whose calendars busysync reads and fills. Connect every
              account that takes part, e.g. personal and work.
            </p>
          </div>
          <div class="head-actions">
            {connections.length > 0 && (
              <Island
                name="ActionButton"
                component={ActionButton}
                props={{
                  label: "Refresh calendar lists",
                  busyLabel: "Refreshing calendar lists…",
                  choices: [{
                    label: "Refresh",
                    method: "GET",
                    url: "/api/user/calendars?refresh=true",
                  }],
                  done: "/connections?refreshed",
                }}
              />
            )}
            <form method="post" action="/api/user/calendars/connect">
              <button type="submit" class="button">Connect a Google account</button>
            </form>
          </div>
        </div>
        {c.req.query("refreshed") !== undefined && (
          <p class="form-hint" role="status" data-testid="refreshed">
            Calendar lists refreshed: {plural(calendars.length, "calendar")} in{" "}
            {plural(connections.length, "account")}.
          </p>
        )}
        <details class="card caldav-connect" open={c.req.query("caldav") !== undefined}>
          <summary>Connect a CalDAV account: iCloud, Fastmail, Nextcloud or any server</summary>
          <Island name="CalDavConnect" component={CalDavConnect} props={{ idPrefix: "caldav" }} />
        </details>
        <details class="card caldav-connect" open={c.req.query("feed") !== undefined}>
          <summary>
            Add a calendar feed (ICS): a timetable, TripIt, a published work calendar
          </summary>
          <Island name="IcsConnect" component={IcsConnect} props={{ idPrefix: "feed" }} />
        </details>
        {rules.length === 0 && connections.length > 0 && (
          <NextStep
            connections={connections.length}
            calendars={calendars.length}
            back="/connections"
          />
        )}
        {connections.length === 0
          ? (
            <div class="empty">
              <h2>No account connected yet</h2>
              <p>
                Google asks you which account to connect and lets busysync see and edit its
                calendars. You can disconnect at any time.
              </p>
            </div>
          )
          : (
            <ul class="connections">
              {connections.map((conn) => (
                <ConnectionCard
                  key={conn.id}
                  connection={conn}
                  calendars={calendars.filter((cal) => cal.connectionId === conn.id)}
                  rules={rules.filter((r) =>
                    calendarsOf(r).some((cal) => cal.connectionId === conn.id)
                  )}
                  zone={zone}
                  now={deps.now()}
                />
              ))}
            </ul>
          )}
        <p class="fine-print">
          busysync asks Google only for calendar access. Busy blocks it writes carry a private
          marker, so it never touches events it did not make.
        </p>
      </>,
      { title: "Connections", user, nav: "connections" },
    ));
  });
}

function ConnectionCard(
  { connection, calendars, rules, zone, now }: {
    connection: Connection;
    calendars: StoredCalendar[];
    /** The rules and groups that use its calendars. */
    rules: (Rule | Group)[];
    zone: string;
    now: Date;
  },
) {
  const broken = connection.status === "needs_reconnect";
  const disconnected = connection.status === "disconnected";
  return (
    <li class="card connection" data-connection={connection.id}>
      <div class="connection-head">
        <span class="avatar" aria-hidden="true">{connection.email[0].toUpperCase()}</span>
        <div class="connection-title">
          <h2>{connection.email}</h2>
          <p class="muted-text">
            {connection.ics && <>Feed at {connection.ics.maskedUrl} ·{" "}</>}
            Connected <LocalTime iso={connection.createdAt} zone={zone} now={now} zoneName /> ·{" "}
            {rules.length ? `used by ${usedBy(rules)}` : "not used by any rule"}
          </p>
        </div>
        {broken
          ? <span class="pill pill-bad">Needs reconnect</span>
          : disconnected
          ? <span class="pill pill-muted">Disconnected, rules paused</span>
          : <span class="pill pill-ok">Connected</span>}
      </div>
      {connection.status !== "active" && connection.statusReason && (
        <p class="reason">{connection.statusReason}</p>
      )}
      {calendars.length > 0 && (
        <ul class="calendar-list" aria-label={`Calendars of ${connection.email}`}>
          {calendars.map((cal) => (
            <li key={cal.id}>
              <span class="cal-name">
                <CalendarSwatch color={cal.color} />
                {calendarTitle(cal, connection.email)}
              </span>
              <span class="cal-meta">
                {isWritable(cal.accessRole)
                  ? <span class="chip">source or target</span>
                  : isReadable(cal.accessRole)
                  ? <span class="chip chip-muted">read-only: source only</span>
                  : <span class="chip chip-muted">free/busy only: events hidden, not usable</span>}
                <span class="muted-text">{cal.timeZone}</span>
              </span>
            </li>
          ))}
        </ul>
      )}
      {connection.caldav && (broken || disconnected) && (
        <details class="caldav-connect" open>
          <summary>Connect again</summary>
          <Island
            name="CalDavConnect"
            component={CalDavConnect}
            props={{
              idPrefix: `caldav-${connection.id}`,
              initial: {
                serverUrl: connection.caldav.serverUrl,
                username: connection.caldav.username,
              },
            }}
          />
        </details>
      )}
      {connection.ics && (broken || disconnected) && (
        <details class="caldav-connect" open>
          <summary>Add the feed again with its address to resume its rules</summary>
          <Island
            name="IcsConnect"
            component={IcsConnect}
            props={{ idPrefix: `feed-${connection.id}` }}
          />
        </details>
      )}
      <div class="connection-actions">
        {connection.kind === "google" && (broken || disconnected) && (
          <form method="post" action={`/api/user/connections/${connection.id}/reconnect`}>
            <button type="submit" class="button">
              {disconnected ? "Connect again" : "Reconnect"}
            </button>
          </form>
        )}
        <Island
          name="ActionButton"
          component={ActionButton}
          props={{
            label: disconnected ? "Delete its rules and forget it" : "Disconnect",
            danger: true,
            question: disconnectQuestion(connection, rules),
            choices: disconnectChoices(connection, rules),
            done: "/connections",
          }}
        />
      </div>
    </li>
  );
}

/**
 * The disconnect dialog names every rule and group using the account and says which busy
 * blocks are whose: those in the account's calendars were made from other accounts' events,
 * so they go with its rules, not with its access.
 */
function disconnectQuestion(connection: Connection, owners: readonly (Rule | Group)[]) {
  const title = connection.status === "disconnected"
    ? `Forget ${connection.email}?`
    : `Disconnect ${connection.email}?`;
  if (!owners.length) {
    return { title, message: "No rule or group uses its calendars." };
  }
  return {
    title,
    message: "These use its calendars:",
    items: owners.map((o) => `${"members" in o ? "Group" : "Rule"} “${o.name}”`),
    note: "Their busy blocks in this account's calendars were made from your other " +
      "accounts' events; the ones in your other calendars were made from this account's " +
      "events. " +
      (connection.status === "disconnected"
        ? "busysync can no longer reach this account, so the blocks in its calendars stay " +
          "(connect it again first to remove them); the ones in your other calendars can go."
        : "Paused, they keep every block and carry on once you connect the account again."),
  };
}

function disconnectChoices(
  connection: Connection,
  owners: readonly (Rule | Group)[],
): ActionChoice[] {
  const url = `/api/user/connections/${connection.id}`;
  if (!owners.length) {
    return [{ label: "Disconnect", method: "DELETE", url: `${url}?removeMirrors=false` }];
  }
  const pause: ActionChoice[] = connection.status === "disconnected"
    ? []
    : [{ label: "Pause them until I reconnect", method: "DELETE", url: `${url}?keepRules=true` }];
  return [
    ...pause,
    {
      label: "Delete them and remove their busy blocks",
      method: "DELETE",
      url: `${url}?removeMirrors=true`,
      danger: true,
    },
    { label: "Delete them, keep the blocks", method: "DELETE", url: `${url}?removeMirrors=false` },
  ];
}

/** "2 rules", "1 rule and 1 group". */
function usedBy(owners: readonly (Rule | Group)[]): string {
  const groups = owners.filter((o) => "members" in o).length;
  const rules = owners.length - groups;
  const parts = [rules && plural(rules, "rule"), groups && plural(groups, "group")];
  return parts.filter(Boolean).join(" and ");
}
