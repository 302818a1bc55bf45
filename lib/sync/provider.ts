/**
 * The narrow interface the engine sees a calendar service through. Google is the first
 * implementation (lib/google/provider.ts); CalDAV and ICS feeds fit behind the same shape
 * without the engine changing.
 */
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Mirror, SourceEvent } from "../model/events.ts";
import type { TimeWindow } from "../model/time_window.ts";

/** A calendar as a connection sees it. */
export interface CalendarInfo {
  calendarId: string;
  summary: string;
  primary: boolean;
  /** Google's roles; providers map theirs onto these. */
  accessRole: "freeBusyReader" | "reader" | "writer" | "owner";
  timeZone: string;
  /** The calendar's colour in the person's list (`#rrggbb`), when the service has one. */
  color?: string;
}

/** One page of a listing. `cursor` is set only on the last page (Google's nextSyncToken). */
export interface ChangePage {
  events: SourceEvent[];
  cursor?: string;
  /** Items the provider could not read as events (reported so they are never silently lost). */
  unreadable?: UnreadableEvent[];
}

/** A listed item that is not a usable event (no id, unknown status, a live event without times). */
export interface UnreadableEvent {
  id?: string;
  problem: string;
}

/**
 * The result of a changes listing. `full` is true when the provider listed everything in the
 * window (no cursor, or the old cursor expired): the engine then reconciles against its ledger.
 */
export interface ChangeListing {
  full: boolean;
  pages: AsyncIterable<ChangePage>;
  /**
   * Set on a full listing of a source that holds no event at all now, which the provider can
   * tell from a calendar emptied by a failed read (an ICS feed answers its whole content every
   * time). The engine then removes no mirror of it unless the person confirmed, whatever the
   * delete guard's thresholds: a feed its publisher emptied by mistake must not wipe every busy
   * block, and for a feed of five events five removals are under the guard's minimum.
   */
  sourceEmptied?: true;
}

/** What a write left in the target, as the provider reports it. */
export interface Written {
  /** The id the service answered with: the engine checks it is the id it asked for. */
  id: string;
  /** "created" for a fresh insert, "restored" for a cancelled event brought back, "patched". */
  outcome: "created" | "restored" | "patched";
  /**
   * The event as the service answered the write, for the engine to compare with what it sent;
   * undefined when the answer could not be read as an event.
   */
  event: SourceEvent | undefined;
}

/** What a delete found: the event was deleted now, or was gone already (not a write). */
export type Deleted = "deleted" | "already_gone";

/**
 * Counts a provider's HTTP requests by API method ("events.insert", ...), retries included, so
 * a run's history says what it cost in the service's own terms.
 */
export interface ApiMeter {
  count(method: string): void;
}

export interface PutMirrorOptions {
  /**
   * The engine's ledger says this mirror was written before: try an update first (one call)
   * instead of an insert that would answer "already exists". A mirror that vanished meanwhile
   * is still recreated.
   */
  existing?: boolean;
}

/** An event in a target that carries a busysync marker (for rebuilding a lost ledger). */
export interface MarkedEvent {
  id: string;
  recurringEventId?: string;
  privateProps: Record<string, string>;
  status: "confirmed" | "tentative" | "cancelled";
}

export interface CalendarProvider {
  listCalendars(connectionId: string): Promise<CalendarInfo[]>;
  /**
   * Lists changes since `cursor`, or everything in `window` when the cursor is null or the
   * service says it expired (then `full` is true). `full` is settled before this returns: a
   * cursor found invalid part-way through restarts the listing as a full one, so the engine
   * never gets half a change set. Recurring series are expanded into instances. A failed read
   * throws; it is never reported as an empty calendar.
   */
  listChanges(cal: CalendarRef, cursor: string | null, window: TimeWindow): Promise<ChangeListing>;
  /**
   * Makes the event `id` in `cal` equal `mirror`: inserts it, or when the id exists (a retried
   * insert, a mirror deleted earlier) restores or adopts it with a patch. Idempotent.
   */
  putMirror(
    cal: CalendarRef,
    id: string,
    mirror: Mirror,
    options?: PutMirrorOptions,
  ): Promise<Written>;
  /** Deletes the event `id`; an event already gone counts as done and says so. */
  deleteMirror(cal: CalendarRef, id: string): Promise<Deleted>;
  /**
   * The live instances of the series `seriesId` in `window`, as a listing shows them; null when
   * the series is gone. For finding instances a series edit removed without a trace.
   */
  listInstances(
    cal: CalendarRef,
    seriesId: string,
    window: TimeWindow,
  ): Promise<SourceEvent[] | null>;
  /** Every event in `cal` whose private properties carry `key=value` (marker search). */
  listMarked(cal: CalendarRef, key: string, value: string): AsyncIterable<MarkedEvent>;
  /**
   * Opens a push channel: the service POSTs a notification to `address`, carrying `token`, on
   * every change to `cal` until the returned expiry (which may be sooner than asked for).
   * Optional: a provider without push (CalDAV) leaves it out and is polled only.
   */
  watch?(cal: CalendarRef, channel: WatchRequest): Promise<WatchedChannel>;
  /** Stops a channel `watch` opened; a channel already gone counts as stopped. */
  stopChannel?(connectionId: string, channel: { id: string; resourceId: string }): Promise<void>;
}

/** What a push channel is opened with. */
export interface WatchRequest {
  /** Unique per channel, at most 64 characters. */
  id: string;
  address: string;
  /** A per-channel secret echoed in every notification. */
  token: string;
  ttlSeconds: number;
}

/** An open push channel as the service reports it. */
export interface WatchedChannel {
  /** The service's id of the watched resource, needed to stop the channel. */
  resourceId: string;
  expiresAt: Date;
}

/** The provider's calendar is gone or no longer reachable for this connection (404). */
export class CalendarNotFoundError extends Error {
  constructor(readonly cal: CalendarRef) {
    super(`calendar ${cal.calendarId} was not found or is no longer accessible`);
    this.name = "CalendarNotFoundError";
  }
}

/**
 * The calendar is shared with this connection as free/busy only (Google's `freeBusyReader`):
 * its events cannot be read (events.list answers 404), only busy intervals through
 * freebusy.query, which busysync does not use. A rule reading it cannot work until its owner
 * shares the events themselves.
 */
export class FreeBusyOnlyError extends CalendarNotFoundError {
  constructor(cal: CalendarRef, summary: string) {
    super(cal);
    this.message = `“${summary}” is shared with this account as free/busy only, so busysync ` +
      "cannot read its events. Ask its owner to share “See all event details”, or delete " +
      "this rule.";
    this.name = "FreeBusyOnlyError";
  }
}

/** The connection's authorization is gone (revoked, expired refresh token): reconnect needed. */
export class ReconnectRequiredError extends Error {
  /**
   * `reason` in words for the person; for a CalDAV account or a feed a whole sentence saying
   * what to do (Google's are wrapped in words about the Google account by the engine).
   */
  constructor(
    readonly connectionId: string,
    reason: string,
    readonly service: "google" | "caldav" | "ics" = "google",
  ) {
    super(reason);
    this.name = "ReconnectRequiredError";
  }
}

/**
 * The id a mirror needs is taken by a live event that is not busysync's (no marker): the mirror
 * is not written, because a user's event is never overwritten.
 */
export class MirrorConflictError extends Error {
  constructor(readonly cal: CalendarRef, readonly eventId: string) {
    super(`event ${eventId} in calendar ${cal.calendarId} exists and is not a busysync mirror`);
    this.name = "MirrorConflictError";
  }
}

/**
 * The service will never again accept the mirror's id: the event under it was purged, or
 * deleted by its owner, and the id stays reserved (notes §10). The mirror must move to the
 * next id generation.
 */
export class MirrorIdRetiredError extends Error {
  constructor(readonly cal: CalendarRef, readonly eventId: string, reason: string) {
    super(`event id ${eventId} in calendar ${cal.calendarId} can no longer be used (${reason})`);
    this.name = "MirrorIdRetiredError";
  }
}

/**
 * The service refuses every write to the connection's account for hours; reads still work.
 * Google does this once an account created too many events in a short time (Calendar usage
 * limits: notes §10, support.google.com/a/answer/2905486), whichever calendar is written.
 */
export class AccountWritesRefusedError extends Error {
  constructor(readonly connectionId: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AccountWritesRefusedError";
  }
}

/** The service kept failing after retries (rate limits, 5xx, network). */
export class ProviderUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProviderUnavailableError";
  }
}
