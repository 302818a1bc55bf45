/**
 * A CalDAV calendar as a CalendarProvider (lib/sync/provider.ts), over the DAV layer
 * (dav_*.ts) and the iCalendar mapping (ical_*.ts).
 *
 * - **Ids.** A calendar's id is its collection URL. An event's id is its resource's key
 *   (resource_keys.ts); an instance of a series is `{key}:{RECURRENCE-ID in UTC}`, and every
 *   event carries its resource's key as `recurringEventId`, single ones too.
 * - **Deletes.** A sync report names only the resource that went, so a deleted resource is
 *   listed as one cancelled event under its key. The planner then removes every mirror of that
 *   key's series.
 * - **Changes.** A series that changes arrives whole, and instances that vanished are not
 *   listed one by one. Because every event names its resource as its series, the engine asks
 *   `listInstances` for the resource's instances now and removes the mirrors of the others.
 *   `listInstances` answers from the copy this run's listing just read. So the provider keeps
 *   no memory of its own, and the ledger stays the one record of what was mirrored.
 * - **Polling.** There is no push: CalDAV calendars are polled (BUSYSYNC_CALDAV_POLL_MINUTES).
 */
import { openRefreshToken } from "../auth/connection_secrets.ts";
import type { Keyring } from "../auth/crypto.ts";
import { listCalendars as listStoredCalendars } from "../db/calendars.ts";
import { getConnectionEntry } from "../db/connections.ts";
import { calendarKey, type CalendarRef } from "../model/calendar_ref.ts";
import type { SourceEvent } from "../model/events.ts";
import { MARKER_KEYS } from "../sync/marker.ts";
import type { TimeWindow } from "../model/time_window.ts";
import { isKnownTimeZone } from "../model/time_zone.ts";
import {
  type ApiMeter,
  CalendarNotFoundError,
  type CalendarProvider,
  type ChangeListing,
  type ChangePage,
  type MarkedEvent,
  MirrorConflictError,
  ProviderUnavailableError,
  ReconnectRequiredError,
  type UnreadableEvent,
  type Written,
} from "../sync/provider.ts";
import { calendarInfoOf } from "./calendar_info.ts";
import { listCalendars } from "./dav_calendars.ts";
import {
  AlreadyExistsError,
  CalDavAuthError,
  CalDavError,
  CalDavUnreachableError,
  PreconditionFailedError,
  SyncTokenInvalidError,
} from "./dav_errors.ts";
import { type ListedObject, MULTIGET_BATCH, multigetObjects } from "./dav_multiget.ts";
import { createObject, deleteObject, getObject, updateObject } from "./dav_objects.ts";
import { findObjectsByProperty, listEventObjects } from "./dav_query.ts";
import { syncCollection, type SyncCursor } from "./dav_sync.ts";
import type { DavClient, DavFetch } from "./dav_transport.ts";
import { buildMirrorObject } from "./ical_mirror.ts";
import { encodeMarkerValue, markerPropertyName } from "../ical/ical_marker.ts";
import { readCalendarObject } from "../ical/ical_events.ts";
import { hrefOfKey, resourceKeyOf } from "./resource_keys.ts";

export interface CalDavProviderDeps {
  kv: Deno.Kv;
  keyring: Keyring;
  /** The outbound-safety fetch (lib/net/): a server address is one a person typed. */
  fetch: DavFetch;
  now: () => Date;
  meter?: ApiMeter;
  /** Waits between retries; tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/** Attempts per request for answers that may pass (5xx, 429, no answer). */
const ATTEMPTS = 3;
const RETRY_BASE_MS = 500;

const YEAR_MS = 365 * 86_400_000;

/**
 * Wider than any rule's window, for reading an object for its marker rather than its times
 * (a write read back, a marker search): bounded, because a series may never end.
 */
function wideWindow(now: Date): TimeWindow {
  return {
    start: new Date(now.getTime() - 3 * YEAR_MS),
    end: new Date(now.getTime() + 5 * YEAR_MS),
  };
}

/**
 * A connection opened for this run: its client, its calendar home, and the addresses an
 * invitation names its owner by, for their PARTSTAT (a declined invitation blocks no time).
 */
interface Account {
  client: DavClient;
  homeUrl: string;
  self: readonly string[];
}

/** A resource read during this run's listing, for `listInstances`. */
interface ReadResource {
  href: string;
  ics: string;
}

/** The stored cursor: the token and the collection it belongs to (Cyrus takes foreign ones). */
function parseCursor(cursor: string | null, calendarUrl: string): SyncCursor | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(cursor) as Partial<SyncCursor>;
    if (typeof parsed.token !== "string" || parsed.calendarUrl !== calendarUrl) return undefined;
    return { calendarUrl, token: parsed.token };
  } catch {
    // A cursor from another provider or an older format: list everything.
    return undefined;
  }
}

/** The user's CalDAV connections as one provider (one per run: it keeps what it read). */
export function caldavProviderFor(deps: CalDavProviderDeps, userId: string): CalendarProvider {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const read = new Map<string, ReadResource>();
  /**
   * Full listings made during this run, by calendar, until busysync writes there. A first sync
   * lists the nearest weeks and then the whole window; sync-collection has no time range, so
   * the second listing would fetch the same objects again, and is read from here instead
   * (halving a first sync's requests), with the same cursor, so nothing since is missed.
   */
  const fullListings = new Map<string, { objects: ListedObject[]; cursor: SyncCursor }>();
  /** Writes begun per calendar: a listing that overlapped one is not kept. */
  const writes = new Map<string, number>();
  const wrote = (cal: CalendarRef) => {
    const key = calendarKey(cal);
    writes.set(key, (writes.get(key) ?? 0) + 1);
    fullListings.delete(key);
  };
  const zoneCache = new Map<string, Promise<Map<string, string>>>();

  // One read and one decryption per connection for the provider's life (a run), not per call.
  const accounts = new Map<string, Promise<Account>>();

  function accountOf(connectionId: string): Promise<Account> {
    let account = accounts.get(connectionId);
    if (!account) {
      account = openAccount(connectionId);
      // A failed read is not remembered: the next call tries again.
      account.catch(() => accounts.delete(connectionId));
      accounts.set(connectionId, account);
    }
    return account;
  }

  async function openAccount(connectionId: string) {
    const entry = await getConnectionEntry(deps.kv, userId, connectionId);
    const connection = entry?.connection;
    if (!connection?.caldav || !connection.tokens) {
      throw new ReconnectRequiredError(
        connectionId,
        "This CalDAV account is not connected any more; connect it again.",
        "caldav",
      );
    }
    const password = await openRefreshToken(
      deps.keyring,
      { userId, connectionId },
      connection.tokens,
    );
    const client: DavClient = {
      fetch: deps.fetch,
      username: connection.caldav.username,
      password,
      ...(deps.meter ? { meter: deps.meter } : {}),
    };
    // Records from before addresses were stored know the user name only.
    const self = connection.caldav.addresses.length
      ? connection.caldav.addresses
      : [connection.caldav.username].filter((u) => u.includes("@"));
    return { client, homeUrl: connection.caldav.homeUrl, self };
  }

  async function clientFor(connectionId: string): Promise<DavClient> {
    return (await accountOf(connectionId)).client;
  }

  /** Runs one DAV call with the retry rule, and turns what cannot pass into provider errors. */
  async function call<T>(cal: CalendarRef | string, fn: () => Promise<T>): Promise<T> {
    const connectionId = typeof cal === "string" ? cal : cal.connectionId;
    for (let attempt = 1;; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof CalDavAuthError) {
          throw new ReconnectRequiredError(
            connectionId,
            "The CalDAV server refused busysync's app password (it was revoked or changed); " +
              "connect the account again with a new one.",
            "caldav",
          );
        }
        const passing = err instanceof CalDavUnreachableError ||
          (err instanceof CalDavError && err.status !== undefined &&
            (err.status >= 500 || err.status === 429) && !(err instanceof SyncTokenInvalidError));
        if (!passing) {
          if (
            typeof cal !== "string" && err instanceof CalDavError &&
            (err.status === 404 || err.status === 410) && err.url === cal.calendarId
          ) {
            throw new CalendarNotFoundError(cal);
          }
          throw err;
        }
        if (attempt >= ATTEMPTS) {
          throw new ProviderUnavailableError(
            `${(err as Error).message} (tried ${ATTEMPTS} times)`,
            { cause: err },
          );
        }
        await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  /** The calendar's zone, for floating times and all-day dates (UTC when it names none). */
  async function zoneOf(cal: CalendarRef): Promise<string> {
    let zones = zoneCache.get(cal.connectionId);
    if (!zones) {
      zones = listStoredCalendars(deps.kv, userId).then((all) =>
        new Map(
          all.filter((c) => c.connectionId === cal.connectionId).map((c) => [c.id, c.timeZone]),
        )
      );
      zoneCache.set(cal.connectionId, zones);
    }
    const zone = (await zones).get(cal.calendarId) ?? "UTC";
    return isKnownTimeZone(zone) ? zone : "UTC";
  }

  /**
   * One resource's events in `window`, each naming the resource as its series, so the engine
   * asks `listInstances` for what else of it vanished. A resource with nothing left in the
   * window is listed as its key, cancelled: its mirrors go. An unreadable one lists nothing and
   * is reported: its instances are unknown, not gone.
   */
  function eventsOf(
    href: string,
    ics: string,
    window: TimeWindow,
    zone: string,
    self: readonly string[],
    unreadable: UnreadableEvent[],
  ): SourceEvent[] {
    const key = resourceKeyOf(href);
    read.set(key, { href, ics });
    const parsed = readCalendarObject(ics, {
      resourceKey: key,
      window,
      calendarZone: zone,
      selfAddresses: self,
    });
    unreadable.push(...parsed.problems);
    if (!parsed.readable) return [];
    if (!parsed.events.length) return [{ id: key, status: "cancelled" }];
    return parsed.events.map((e) => ({ ...e, recurringEventId: key }));
  }

  return {
    async listCalendars(connectionId) {
      const { client, homeUrl } = await accountOf(connectionId);
      const calendars = await call(connectionId, () => listCalendars(client, homeUrl));
      return calendars.map(calendarInfoOf).map((c) => ({
        calendarId: c.id,
        summary: c.summary,
        primary: c.primary,
        accessRole: c.accessRole,
        timeZone: c.timeZone,
        ...(c.color ? { color: c.color } : {}),
      }));
    },

    async listChanges(cal, cursor, window): Promise<ChangeListing> {
      const { client, self } = await accountOf(cal.connectionId);
      const since = parseCursor(cursor, cal.calendarId);
      let full = since === undefined;
      let listed = full ? fullListings.get(calendarKey(cal)) : undefined;
      const writesBefore = writes.get(calendarKey(cal)) ?? 0;
      const gone: string[] = [];
      if (!listed) {
        let result;
        try {
          result = await call(cal, () => syncCollection(client, cal.calendarId, since));
        } catch (err) {
          if (!(err instanceof SyncTokenInvalidError) || full) throw err;
          full = true;
          result = await call(cal, () => syncCollection(client, cal.calendarId));
        }
        const withData = result.changed.filter((c) => c.calendarData !== undefined);
        const missing = result.changed.filter((c) => c.calendarData === undefined)
          .map((c) => c.href);
        const fetched = await fetchData(client, cal, missing);
        listed = {
          objects: [...withData, ...fetched.objects] as ListedObject[],
          cursor: result.cursor,
        };
        const unwritten = (writes.get(calendarKey(cal)) ?? 0) === writesBefore;
        if (full && unwritten) fullListings.set(calendarKey(cal), listed);
        else gone.push(...result.deleted, ...fetched.missing);
      }
      const zone = await zoneOf(cal);
      const unreadable: UnreadableEvent[] = [];
      const events: SourceEvent[] = [];
      for (const object of listed.objects) {
        events.push(
          ...eventsOf(object.href, object.calendarData, window, zone, self, unreadable),
        );
      }
      for (const href of gone) events.push({ id: resourceKeyOf(href), status: "cancelled" });
      const page: ChangePage = {
        events,
        cursor: JSON.stringify(listed.cursor),
        ...(unreadable.length ? { unreadable } : {}),
      };
      return {
        full,
        pages: (async function* () {
          yield page;
        })(),
      };
    },

    async putMirror(cal, id, mirror, options): Promise<Written> {
      wrote(cal);
      const client = await clientFor(cal.connectionId);
      const url = hrefOfKey(cal.calendarId, id);
      const ics = buildMirrorObject(id, mirror, { now: deps.now() });
      let outcome: Written["outcome"] = "created";
      if (!options?.existing) {
        try {
          await call(cal, () => createObject(client, url, ics));
        } catch (err) {
          if (!(err instanceof AlreadyExistsError)) throw err;
          outcome = "patched";
        }
      } else outcome = "patched";
      if (outcome === "patched") await replaceOwn(client, cal, url, id, ics);
      const stored = await call(cal, () => getObject(client, url));
      const event = stored &&
        readCalendarObject(stored.body, {
          resourceKey: id,
          window: wideWindow(deps.now()),
          calendarZone: "UTC",
        })
          .events[0];
      return { id, outcome, event };
    },

    async deleteMirror(cal, id) {
      wrote(cal);
      const client = await clientFor(cal.connectionId);
      return await call(cal, () => deleteObject(client, hrefOfKey(cal.calendarId, id)));
    },

    async listInstances(cal, seriesId, window) {
      let resource = read.get(seriesId);
      if (!resource) {
        const href = hrefOfKey(cal.calendarId, seriesId);
        const client = await clientFor(cal.connectionId);
        const object = await call(cal, () => getObject(client, href));
        if (!object) return null;
        resource = { href, ics: object.body };
      }
      const parsed = readCalendarObject(resource.ics, {
        resourceKey: seriesId,
        window,
        calendarZone: await zoneOf(cal),
      });
      // Unreadable: what it holds now is unknown, so nothing may be concluded from it.
      if (!parsed.readable) return null;
      return parsed.events.map((e) => ({ ...e, recurringEventId: seriesId }));
    },

    async *listMarked(cal, key, value): AsyncIterable<MarkedEvent> {
      const client = await clientFor(cal.connectionId);
      const objects = await call(
        cal,
        () =>
          findObjectsByProperty(
            client,
            cal.calendarId,
            markerPropertyName(key),
            encodeMarkerValue(value),
          ),
      );
      for (const object of objects) {
        const parsed = readCalendarObject(object.calendarData, {
          resourceKey: resourceKeyOf(object.href),
          window: wideWindow(deps.now()),
          calendarZone: "UTC",
        });
        for (const event of parsed.events) {
          yield {
            id: event.id,
            ...(event.recurringEventId && event.recurringEventId !== event.id
              ? { recurringEventId: event.recurringEventId }
              : {}),
            privateProps: event.privateProps ?? {},
            status: event.status,
          };
        }
      }
    },
  };

  /**
   * The data of objects a sync report listed without it (Xandikos): a multiget for a few, one
   * calendar-query of every event for many, which on Xandikos takes 0.75 s for 1,000 objects
   * where multigets take 20 s (bench/results/caldav_listing.json). `missing`: hrefs the server
   * no longer has.
   */
  async function fetchData(
    client: DavClient,
    cal: CalendarRef,
    hrefs: string[],
  ): Promise<{ objects: { href: string; calendarData: string }[]; missing: string[] }> {
    if (!hrefs.length) return { objects: [], missing: [] };
    if (hrefs.length <= MULTIGET_BATCH) {
      return await call(cal, () => multigetObjects(client, cal.calendarId, hrefs));
    }
    const all = await call(cal, () => listEventObjects(client, cal.calendarId));
    const wanted = new Set(hrefs);
    const objects = all.filter((o) => wanted.has(o.href));
    const found = new Set(objects.map((o) => o.href));
    return { objects, missing: hrefs.filter((h) => !found.has(h)) };
  }

  /**
   * Replaces the resource at `url` with `ics` when it is busysync's mirror `id`: read, check
   * the marker, write with If-Match. A resource that is not a mirror is never overwritten; one
   * changed between the read and the write is read again once.
   */
  async function replaceOwn(
    client: DavClient,
    cal: CalendarRef,
    url: string,
    id: string,
    ics: string,
  ): Promise<void> {
    for (let attempt = 1;; attempt++) {
      const current = await call(cal, () => getObject(client, url));
      if (!current) {
        try {
          await call(cal, () => createObject(client, url, ics));
          return;
        } catch (err) {
          if (err instanceof AlreadyExistsError && attempt < 2) continue;
          throw err;
        }
      }
      const event = readCalendarObject(current.body, {
        resourceKey: id,
        window: wideWindow(deps.now()),
        calendarZone: "UTC",
      }).events[0];
      if (!event?.privateProps?.[MARKER_KEYS.flag]) throw new MirrorConflictError(cal, id);
      if (!current.etag) {
        throw new ProviderUnavailableError(
          `${url} came without an ETag, so busysync cannot update it safely`,
        );
      }
      try {
        await call(cal, () => updateObject(client, url, ics, current.etag!));
        return;
      } catch (err) {
        if (err instanceof PreconditionFailedError && attempt < 2) continue;
        throw err;
      }
    }
  }
}
