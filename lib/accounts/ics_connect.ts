/**
 * Adding an ICS feed: its address is fetched once, through the outbound-safety fetch, and must
 * answer a calendar before anything is stored, so a mistyped address, a login page or a host
 * that does not answer is an error the person reads, never a feed that syncs nothing. The
 * address is sealed like a password (it usually carries the feed's secret); the record keeps
 * only its scheme and host in plain. Adding the same address again renews that connection.
 */
import { ulid } from "ulid";
import { sealPassword } from "../auth/connection_secrets.ts";
import { type CalendarInfo, replaceCalendars } from "../db/calendars.ts";
import { ConflictError } from "../db/commit.ts";
import {
  type Connection,
  connectionIdFor,
  ICS_ISSUER,
  saveConnectionGrant,
} from "../db/connections.ts";
import { feedCalendarInfo } from "../ics/feed_calendar.ts";
import { FeedNotCalendarError } from "../ics/feed_errors.ts";
import { fetchFeed } from "../ics/feed_fetch.ts";
import { judgeIdentity } from "../ics/feed_identity.ts";
import { readFeedText } from "../ics/feed_read.ts";
import { feedSubOf, maskFeedUrl, normalizeFeedUrl } from "../ics/feed_url.ts";
import type { AccountDeps } from "./deps.ts";

export interface FeedToAdd {
  /** https, http or webcal. */
  url: string;
  /** How the feed is named in the app; the feed's own name (X-WR-CALNAME) or host when absent. */
  name?: string;
}

/**
 * Adds (or renews) the user's feed. Throws FeedUrlError, OutboundRefusedError,
 * FeedUnreachableError, FeedHttpError or FeedNotCalendarError, each naming the host only;
 * nothing is stored then.
 */
export async function connectIcsFeed(
  deps: Pick<AccountDeps, "kv" | "keyring" | "outboundFetch" | "now">,
  userId: string,
  add: FeedToAdd,
): Promise<{ connection: Connection; calendars: CalendarInfo[] }> {
  const url = normalizeFeedUrl(add.url);
  const host = new URL(url).host;
  const answer = await fetchFeed(deps.outboundFetch, url);
  if (answer.kind !== "fetched") throw new FeedNotCalendarError(host, "no body");
  const feed = readFeedText(host, answer.text);
  const name = add.name?.trim() || feed.name || host;
  const timeZone = feed.timeZone ?? "UTC";
  const info = feedCalendarInfo(name, timeZone);
  const calendars: CalendarInfo[] = [{
    id: info.calendarId,
    summary: info.summary,
    primary: info.primary,
    accessRole: info.accessRole,
    timeZone: info.timeZone,
  }];
  const sub = feedSubOf(url);
  for (let attempt = 0;; attempt++) {
    const connectionId = await connectionIdFor(deps.kv, userId, ICS_ISSUER, sub) ??
      ulid(deps.now().getTime());
    const now = deps.now();
    const tokens = await sealPassword(deps.keyring, { userId, connectionId }, url);
    try {
      const connection = await saveConnectionGrant(deps.kv, {
        userId,
        connectionId,
        issuer: ICS_ISSUER,
        sub,
        // The account is where the feed comes from; its name is its calendar's title.
        email: `Feed from ${host}`,
        scopes: [],
        tokens,
        now,
        // This fetch is the first the next one is judged by: a feed rewriting its UIDs is
        // then recognised at its first sync, before any busy block is written.
        ics: {
          maskedUrl: maskFeedUrl(url),
          name,
          timeZone,
          memory: judgeIdentity(undefined, feed.groups),
        },
      });
      await replaceCalendars(deps.kv, userId, connectionId, calendars, now);
      return { connection, calendars };
    } catch (err) {
      // Two adds of one feed raced: the loser re-reads the id the winner made.
      if (!(err instanceof ConflictError) || attempt >= 2) throw err;
    }
  }
}
