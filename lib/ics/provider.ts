/**
 * An ICS feed as a CalendarProvider (lib/sync/provider.ts): one read-only calendar per feed
 * connection, so a feed is a source of rules and groups, never a target.
 *
 * - **Listing.** A feed has no sync token. The cursor holds the last answer's validators (ETag,
 *   Last-Modified) and a hash of its body: a 304, or a body whose hash is unchanged, is an empty
 *   incremental listing; a changed body is a full listing of everything in the window, which
 *   the engine reconciles against its ledger. DTSTAMP lines are left out of the hash, because
 *   many publishers stamp every event with the time of the request.
 * - **Failures.** A failed fetch or an answer that is no calendar throws; it is never read as
 *   an empty feed. A feed that holds no event at all says so (`sourceEmptied`), and the engine
 *   then asks the person before removing any busy block, whatever the delete guard's thresholds.
 * - **Ids.** Events go by UID, or by content for a feed seen rewriting every UID
 *   (feed_identity.ts); an instance of a series is `{key}:{RECURRENCE-ID in UTC}`.
 * - **One fetch per run.** The provider lives for one run: the nearest-days pass, the full
 *   listing and `listInstances` share the body fetched first.
 */
import { createHash } from "node:crypto";
import { openRefreshToken } from "../auth/connection_secrets.ts";
import type { Keyring } from "../auth/crypto.ts";
import { getConnectionEntry, saveFeedIdentity } from "../db/connections.ts";
import { readEventGroup } from "../ical/ical_events.ts";
import type { Feed } from "../ical/ical_feed.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { SourceEvent } from "../model/events.ts";
import type { TimeWindow } from "../model/time_window.ts";
import { isKnownTimeZone } from "../model/time_zone.ts";
import type { OutboundFetch } from "../net/outbound_fetch.ts";
import { OutboundRefusedError } from "../net/outbound_errors.ts";
import {
  type ApiMeter,
  CalendarNotFoundError,
  type CalendarProvider,
  type ChangeListing,
  ProviderUnavailableError,
  ReconnectRequiredError,
  type UnreadableEvent,
} from "../sync/provider.ts";
import {
  FeedGoneError,
  FeedHttpError,
  FeedUnreachableError,
  ReadOnlyFeedError,
} from "./feed_errors.ts";
import { type FeedAnswer, type FeedValidators, fetchFeed } from "./feed_fetch.ts";
import { readFeedText } from "./feed_read.ts";
import { groupKeys, type IdentityMemory, judgeIdentity } from "./feed_identity.ts";
import { FEED_CALENDAR_ID, feedCalendarInfo } from "./feed_calendar.ts";

export interface IcsProviderDeps {
  kv: Deno.Kv;
  keyring: Keyring;
  /** The outbound-safety fetch (lib/net/): a feed's address is one a person typed. */
  fetch: OutboundFetch;
  meter?: ApiMeter;
  /** Waits between retries; tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/** Attempts per fetch for failures that may pass (no answer, 5xx, 429). */
const ATTEMPTS = 3;
const RETRY_BASE_MS = 500;

/** What the cursor of a feed holds. */
interface FeedCursor extends FeedValidators {
  /** SHA-256 of the body without its DTSTAMP lines. */
  hash: string;
}

function parseCursor(cursor: string | null): FeedCursor | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(cursor) as Partial<FeedCursor>;
    if (typeof parsed.hash !== "string") return undefined;
    return {
      hash: parsed.hash,
      ...(typeof parsed.etag === "string" ? { etag: parsed.etag } : {}),
      ...(typeof parsed.lastModified === "string" ? { lastModified: parsed.lastModified } : {}),
    };
  } catch {
    // A cursor of another format: list everything.
    return undefined;
  }
}

/** The body's hash, DTSTAMP lines (and their folded continuations) left out. */
function bodyHash(text: string): string {
  const stable = text.replace(/\r?\n[ \t]/g, "").split(/\r?\n/)
    .filter((line) => !/^DTSTAMP[:;]/i.test(line)).join("\n");
  return createHash("sha256").update(stable).digest("hex");
}

/** A fetched and parsed feed, with the keys its groups go by. */
interface ReadFeed {
  feed: Feed;
  keys: string[];
  cursor: FeedCursor;
}

/** The user's feed connections as one provider (one per run: it keeps what it fetched). */
export function icsProviderFor(deps: IcsProviderDeps, userId: string): CalendarProvider {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  /** Per connection: this run's fetch, so a run costs the feed one request. */
  const fetched = new Map<string, Promise<ReadFeed | "not_modified">>();

  /** Per connection: its record read and its address opened once per run, not once per call. */
  const opened = new Map<string, ReturnType<typeof openFeed>>();

  function feedOf(connectionId: string): ReturnType<typeof openFeed> {
    let feed = opened.get(connectionId);
    if (!feed) {
      feed = openFeed(connectionId);
      // A failed read is not remembered: the next call tries again.
      feed.catch(() => opened.delete(connectionId));
      opened.set(connectionId, feed);
    }
    return feed;
  }

  async function openFeed(connectionId: string) {
    const entry = await getConnectionEntry(deps.kv, userId, connectionId);
    const connection = entry?.connection;
    if (!connection?.ics || !connection.tokens) {
      throw new ReconnectRequiredError(
        connectionId,
        "This feed is not connected any more; add it again.",
        "ics",
      );
    }
    const url = await openRefreshToken(deps.keyring, { userId, connectionId }, connection.tokens);
    const zone = isKnownTimeZone(connection.ics.timeZone) ? connection.ics.timeZone : "UTC";
    return { url, zone, memory: connection.ics.memory };
  }

  /** The fetch with the retry rule; what cannot pass is thrown as the engine knows it. */
  async function get(
    cal: CalendarRef,
    url: string,
    validators: FeedValidators | undefined,
  ): Promise<FeedAnswer> {
    for (let attempt = 1;; attempt++) {
      try {
        deps.meter?.count("feed.get");
        return await fetchFeed(deps.fetch, url, validators);
      } catch (err) {
        if (err instanceof FeedHttpError && [401, 403, 404, 410].includes(err.status)) {
          throw new FeedGoneError(cal, err);
        }
        const passing = err instanceof FeedUnreachableError ||
          (err instanceof OutboundRefusedError && err.reason === "timeout") ||
          (err instanceof FeedHttpError && (err.status >= 500 || err.status === 429));
        if (!passing) throw err;
        if (attempt >= ATTEMPTS) {
          throw new ProviderUnavailableError(`${err.message} (tried ${ATTEMPTS} times)`);
        }
        await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * This run's read of the feed: fetched (conditionally, from `cursor`) on the first call and
   * shared by the later ones. Judges the feed's identity once per fetch and stores it.
   */
  function readOnce(
    cal: CalendarRef,
    cursor: FeedCursor | undefined,
  ): Promise<ReadFeed | "not_modified"> {
    let read = fetched.get(cal.connectionId);
    // A 304 answered a conditional fetch; a caller without a cursor needs the body itself.
    if (read && !cursor) {
      const earlier = read;
      read = earlier.then((r) => r === "not_modified" ? readAgain() : r);
      fetched.set(cal.connectionId, read);
    }
    if (!read) read = readAgain();
    return read;

    function readAgain(): Promise<ReadFeed | "not_modified"> {
      const read = (async () => {
        const { url, memory } = await feedOf(cal.connectionId);
        const answer = await get(cal, url, cursor);
        if (answer.kind === "not_modified") return "not_modified" as const;
        const host = new URL(url).host;
        const hash = bodyHash(answer.text);
        const feed = readFeedText(host, answer.text);
        const judged = judgeIdentity(memory, feed.groups);
        if (!sameMemory(memory, judged)) {
          await saveFeedIdentity(deps.kv, userId, cal.connectionId, judged);
        }
        return {
          feed,
          keys: groupKeys(feed.groups, judged.identity),
          cursor: { ...answer.validators, hash },
        };
      })();
      // A failed fetch is not remembered: a later call of this run tries again.
      read.catch(() => fetched.delete(cal.connectionId));
      fetched.set(cal.connectionId, read);
      return read;
    }
  }

  /** The feed's events in `window`, each series' instances naming its key as their series. */
  function eventsOf(read: ReadFeed, window: TimeWindow, zone: string) {
    const events: SourceEvent[] = [];
    const unreadable: UnreadableEvent[] = [];
    read.feed.groups.forEach((group, i) => {
      const parsed = readEventGroup(read.feed.root, group.vevents, {
        resourceKey: read.keys[i],
        window,
        calendarZone: zone,
      });
      unreadable.push(...parsed.problems);
      events.push(...parsed.events);
    });
    return { events, unreadable };
  }

  function checkCalendar(cal: CalendarRef): void {
    if (cal.calendarId !== FEED_CALENDAR_ID) throw new CalendarNotFoundError(cal);
  }

  return {
    async listCalendars(connectionId) {
      const entry = await getConnectionEntry(deps.kv, userId, connectionId);
      const connection = entry?.connection;
      if (!connection?.ics) {
        throw new ReconnectRequiredError(
          connectionId,
          "This feed is not connected any more; add it again.",
          "ics",
        );
      }
      return [feedCalendarInfo(connection.ics.name, connection.ics.timeZone)];
    },

    async listChanges(cal, cursor, window): Promise<ChangeListing> {
      checkCalendar(cal);
      const since = parseCursor(cursor);
      const read = await readOnce(cal, since);
      if (read === "not_modified") {
        return { full: false, pages: onePage({ events: [], cursor: cursor! }) };
      }
      const next = JSON.stringify(read.cursor);
      if (since && since.hash === read.cursor.hash) {
        return { full: false, pages: onePage({ events: [], cursor: next }) };
      }
      const { zone } = await feedOf(cal.connectionId);
      const { events, unreadable } = eventsOf(read, window, read.feed.timeZone ?? zone);
      return {
        full: true,
        ...(read.feed.eventCount === 0 ? { sourceEmptied: true as const } : {}),
        pages: onePage({ events, cursor: next, ...(unreadable.length ? { unreadable } : {}) }),
      };
    },

    putMirror() {
      return Promise.reject(new ReadOnlyFeedError());
    },

    deleteMirror() {
      return Promise.reject(new ReadOnlyFeedError());
    },

    async listInstances(cal, seriesId, window) {
      checkCalendar(cal);
      const read = await readOnce(cal, undefined);
      if (read === "not_modified") return null;
      const i = read.keys.indexOf(seriesId);
      if (i < 0) return null;
      const { zone } = await feedOf(cal.connectionId);
      const parsed = readEventGroup(read.feed.root, read.feed.groups[i].vevents, {
        resourceKey: seriesId,
        window,
        calendarZone: read.feed.timeZone ?? zone,
      });
      return parsed.readable ? parsed.events : null;
    },

    // A feed holds no busy block of busysync's: nothing in it carries a marker.
    async *listMarked() {},
  };
}

function onePage(page: { events: SourceEvent[]; cursor: string; unreadable?: UnreadableEvent[] }) {
  return (async function* () {
    yield page;
  })();
}

function sameMemory(a: IdentityMemory | undefined, b: IdentityMemory): boolean {
  return a !== undefined && a.identity === b.identity &&
    a.uids.join() === b.uids.join() && a.contents.join() === b.contents.join();
}
