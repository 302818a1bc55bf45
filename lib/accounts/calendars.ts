/**
 * The calendar cache of a user's connections: refreshed from Google on demand (after connecting,
 * or when the user asks), read from KV otherwise.
 */
import { type CalendarInfo, replaceCalendars } from "../db/calendars.ts";
import { listConnections } from "../db/connections.ts";
import { ReconnectRequiredError } from "../sync/provider.ts";
import type { AccountDeps } from "./deps.ts";

/** Why one connection's calendars could not be refreshed. */
export interface RefreshFailure {
  connectionId: string;
  code: "needs_reconnect" | "google_error";
  message: string;
}

/**
 * Fetches the connection's calendar list from Google and replaces its cache. Throws what the
 * provider throws (ReconnectRequiredError, ProviderUnavailableError, GoogleApiError ...).
 */
export async function refreshConnectionCalendars(
  deps: AccountDeps,
  userId: string,
  connectionId: string,
): Promise<CalendarInfo[]> {
  const calendars: CalendarInfo[] = (await deps.providerFor(userId).listCalendars(connectionId))
    .map((c) => ({
      id: c.calendarId,
      summary: c.summary,
      primary: c.primary,
      accessRole: c.accessRole,
      timeZone: c.timeZone,
      ...(c.color ? { color: c.color } : {}),
    }));
  await replaceCalendars(deps.kv, userId, connectionId, calendars, deps.now());
  return calendars;
}

/**
 * Refreshes every active connection's calendars, one after the other; a connection that fails
 * keeps its old cache and is reported, the others still refresh. Connections already waiting
 * for a reconnect are skipped (they would only fail again), disconnected ones silently.
 */
export async function refreshAllCalendars(
  deps: AccountDeps,
  userId: string,
): Promise<RefreshFailure[]> {
  const failures: RefreshFailure[] = [];
  for (const connection of await listConnections(deps.kv, userId)) {
    // The person disconnected it on purpose: no failure to report, nothing to fetch with.
    if (connection.status === "disconnected") continue;
    if (connection.status === "needs_reconnect") {
      failures.push({
        connectionId: connection.id,
        code: "needs_reconnect",
        message: connection.statusReason ?? "Connect this account again.",
      });
      continue;
    }
    try {
      await refreshConnectionCalendars(deps, userId, connection.id);
    } catch (err) {
      if (err instanceof ReconnectRequiredError) {
        failures.push({
          connectionId: connection.id,
          code: "needs_reconnect",
          message: err.message,
        });
        continue;
      }
      deps.log.warn("calendar list refresh failed", { connectionId: connection.id, err });
      failures.push({
        connectionId: connection.id,
        code: "google_error",
        message: `Google did not return the calendar list of ${connection.email}; try again later.`,
      });
    }
  }
  return failures;
}
