/** Builders the CalDAV tests share: an event object, a client, a meter that remembers. */
import type { DavClient } from "../../lib/caldav/dav_transport.ts";
import type { CalDavTestServer, CalDavUser } from "../support/caldav_servers.ts";
import type { TestClient } from "../support/accounts.ts";

/** A meter that counts requests by method name. */
export function aMeter(): { count(method: string): void; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return { counts, count: (method) => counts.set(method, (counts.get(method) ?? 0) + 1) };
}

/** A client for `user` on the real fetch, with a meter. */
export function aClient(user: CalDavUser, meter = aMeter()): DavClient & { meter: typeof meter } {
  return { fetch, username: user.username, password: user.password, meter };
}

/**
 * A one-event calendar object in UTC (no VTIMEZONE needed), an hour long from `start` (default
 * 4 Jan 2027, 09:00Z, or that day of January with `day`), marked as busysync's when `marker` is
 * set, as a mirror would be.
 */
export function anEventIcs(
  opts: { uid: string; summary?: string; day?: number; start?: Date; marker?: string },
): string {
  const start = opts.start ??
    new Date(`2027-01-${String(opts.day ?? 4).padStart(2, "0")}T09:00:00Z`);
  const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//busysync//tests//EN",
    "BEGIN:VEVENT",
    `UID:${opts.uid}`,
    "DTSTAMP:20270101T000000Z",
    `DTSTART:${stamp(start)}`,
    `DTEND:${stamp(new Date(start.getTime() + 3_600_000))}`,
    `SUMMARY:${opts.summary ?? "Busy"}`,
    ...(opts.marker ? [`X-BUSYSYNC:${opts.marker}`] : []),
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** Connects `server`'s alice through the API as `client`; returns the new connection's id. */
export async function connectAlice(
  client: TestClient,
  server: CalDavTestServer,
  opts: { address?: string } = {},
): Promise<string> {
  const res = await client.request("/api/user/connections/caldav", {
    method: "POST",
    json: {
      preset: "other",
      serverUrl: server.baseUrl,
      username: server.alice.username,
      password: server.alice.password,
      ...opts,
    },
  });
  const body = await res.json();
  if (res.status !== 201) {
    throw new Error(`connecting alice answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.connection.id;
}
