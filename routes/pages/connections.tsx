import { Hono } from "hono";
import { isWritable, listCalendars, type StoredCalendar } from "../../lib/db/calendars.ts";
import { type Connection, listConnections } from "../../lib/db/connections.ts";
import type { AppDeps, AppEnv } from "../../app.ts";

/**
 * `GET /connections`: the signed-in landing page. Lists the connected Google accounts with their
 * calendars, offers "Connect a Google account", and a reconnect button for an account whose
 * access died. Plain forms: it works without JavaScript.
 */
export function connectionsPage(deps: AppDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/connections", async (c) => {
    const user = c.var.user;
    if (!user) return c.redirect(`/signin?${new URLSearchParams({ next: "/connections" })}`, 303);
    const connections = await listConnections(deps.kv, user.id);
    const calendars = await listCalendars(deps.kv, user.id);
    return c.html(deps.render(
      <section>
        <h1>Your calendar accounts</h1>
        <p class="lead">
          busysync mirrors busy time between the calendars of the Google accounts you connect here.
          Connect each account whose calendars take part.
        </p>
        {connections.length === 0 ? <p>No accounts connected yet.</p> : (
          <ul class="connections">
            {connections.map((conn) => (
              <ConnectionCard
                connection={conn}
                calendars={calendars.filter((cal) => cal.connectionId === conn.id)}
              />
            ))}
          </ul>
        )}
        <form method="post" action="/api/user/calendars/connect">
          <button type="submit" class="button">Connect a Google account</button>
        </form>
      </section>,
      { title: "Connections", user },
    ));
  });
}

function ConnectionCard(
  { connection, calendars }: { connection: Connection; calendars: StoredCalendar[] },
) {
  const broken = connection.status === "needs_reconnect";
  return (
    <li class="card" data-connection={connection.id}>
      <div class="connection-head">
        <h2>{connection.email}</h2>
        {broken
          ? <span class="pill pill-warn">Needs reconnect</span>
          : <span class="pill pill-ok">Connected</span>}
        {broken && (
          <form method="post" action={`/api/user/connections/${connection.id}/reconnect`}>
            <button type="submit" class="button">Reconnect</button>
          </form>
        )}
      </div>
      {broken && connection.statusReason && <p class="reason">{connection.statusReason}</p>}
      {calendars.length > 0 && (
        <ul class="calendar-list">
          {calendars.map((cal) => (
            <li>
              {cal.summary}
              {cal.primary && <span class="muted">primary</span>}
              {!isWritable(cal.accessRole) && <span class="muted">read-only: source only</span>}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
