/**
 * Connecting a CalDAV account: discovery from the server's address, then the calendar list,
 * both with the password the person gave, before anything is stored. A wrong password, an
 * address that is no CalDAV server or one busysync may not reach is an error the person reads,
 * never a half-made connection. Connecting the same account again (same principal) renews it
 * under the same id, so its rules resume.
 */
import { ulid } from "ulid";
import { sealPassword } from "../auth/connection_secrets.ts";
import { type CalendarInfo, replaceCalendars } from "../db/calendars.ts";
import { ConflictError } from "../db/commit.ts";
import {
  CALDAV_ISSUER,
  type Connection,
  connectionIdFor,
  saveConnectionGrant,
} from "../db/connections.ts";
import { listCalendars } from "../caldav/dav_calendars.ts";
import { discoverAccount } from "../caldav/dav_discovery.ts";
import { calendarInfoOf } from "../caldav/calendar_info.ts";
import type { DavClient } from "../caldav/dav_transport.ts";
import type { AccountDeps } from "./deps.ts";

export interface CalDavSignIn {
  /** The address discovery starts at (a preset's, or the person's). */
  serverUrl: string;
  username: string;
  password: string;
  /** The address invitations reach the person at, when neither user name nor server says it. */
  address?: string;
}

/**
 * Connects (or renews) the user's CalDAV account. Throws what discovery and listing throw
 * (CalDavAuthError, CalDavUnreachableError, CalDavNotFoundError, OutboundRefusedError...), all
 * with messages for the person; nothing is stored then.
 */
export async function connectCalDav(
  deps: AccountDeps,
  userId: string,
  signIn: CalDavSignIn,
): Promise<{ connection: Connection; calendars: CalendarInfo[] }> {
  const client: DavClient = {
    fetch: deps.outboundFetch,
    username: signIn.username,
    password: signIn.password,
  };
  const account = await discoverAccount(client, signIn.serverUrl);
  const calendars = (await listCalendars(client, account.homeUrl)).map(calendarInfoOf);
  const host = new URL(account.homeUrl).host;
  for (let attempt = 0;; attempt++) {
    const connectionId =
      await connectionIdFor(deps.kv, userId, CALDAV_ISSUER, account.principalUrl) ??
        ulid(deps.now().getTime());
    const now = deps.now();
    const tokens = await sealPassword(deps.keyring, { userId, connectionId }, signIn.password);
    try {
      const connection = await saveConnectionGrant(deps.kv, {
        userId,
        connectionId,
        issuer: CALDAV_ISSUER,
        sub: account.principalUrl,
        email: `${signIn.username} @ ${host}`,
        scopes: [],
        tokens,
        now,
        caldav: {
          serverUrl: signIn.serverUrl,
          username: signIn.username,
          ...account,
          addresses: ownAddresses(signIn, account.addresses),
        },
      });
      await replaceCalendars(deps.kv, userId, connectionId, calendars, now);
      return { connection, calendars };
    } catch (err) {
      // Two connects of one account raced: the loser re-reads the id the winner made.
      if (!(err instanceof ConflictError) || attempt >= 2) throw err;
    }
  }
}

/**
 * Whom an invitation on this account names as its owner: what the server says, the address the
 * person gave, and the user name when it is an address (iCloud, Fastmail).
 */
function ownAddresses(signIn: CalDavSignIn, fromServer: readonly string[]): string[] {
  const given = [signIn.address, signIn.username.includes("@") ? signIn.username : undefined];
  return [
    ...new Set(
      [...fromServer, ...given.filter((a) => a !== undefined)].map((a) => a.toLowerCase()),
    ),
  ];
}
