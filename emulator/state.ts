/**
 * The emulator's in-memory world: calendars and their events, who sees which calendar with which
 * role, and the change sequence that sync tokens point into.
 *
 * Every write gets the next number of one global sequence and stamps it on the event
 * (`changeSeq`). Deleted events stay stored as `cancelled`, so "all changes after position N" is
 * exactly "events whose changeSeq > N": the stored events are the change log, compacted to the
 * latest version of each event, which is all an incremental sync may return anyway. `commit` is
 * also the one place every write (API, admin, seed) passes, so change listeners hang off it.
 */
import { defaultColorId } from "./calendar_colors.ts";
import type { StoredEvent } from "./event_resource.ts";
import { fullSyncRequired } from "./google_errors.ts";

export type AccessRole = "freeBusyReader" | "reader" | "writer" | "owner";

const ROLE_RANK: Record<AccessRole, number> = { freeBusyReader: 0, reader: 1, writer: 2, owner: 3 };

/** True when `role` grants at least what `minimum` grants. */
export function roleAtLeast(role: AccessRole, minimum: AccessRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}

export interface CalendarRecord {
  id: string;
  summary: string;
  description?: string;
  timeZone: string;
  etag: string;
  events: Map<string, StoredEvent>;
  /**
   * Ids of events purged from the store: they answer 404 to reads and writes, yet an insert of
   * one still answers 409, because Google keeps a deleted event's id reserved (notes §10).
   */
  reservedIds: Set<string>;
  /**
   * The change position of the latest purged deletion: a sync token from before it would miss
   * that deletion, so it answers 410 like an expired token.
   */
  purgedThrough: number;
  /** Bumped to invalidate every sync token issued for this calendar. */
  generation: number;
}

export interface CalendarListEntry {
  calendar: CalendarRecord;
  accessRole: AccessRole;
  primary: boolean;
  /** Google's palette id ("1"–"24", calendar_colors.ts): per list entry, not per calendar. */
  colorId: string;
}

/** Hears of a committed change: which calendar, and the change's position in the sequence. */
export type CommitListener = (calendarId: string, seq: number) => void;

/**
 * Ways a server other than Google's may behave, switched on by tests through the admin API: a
 * third-party Google stand-in was seen to assign its own ids and to drop extendedProperties,
 * and Google itself does not promise to detect every id collision at insert time (Event.id:
 * "we cannot guarantee that ID collisions will be detected at event creation time").
 */
export interface Quirks {
  /** Inserts ignore a client-chosen id and get a server-generated one. */
  assignOwnIds: boolean;
  /** Writes store no extendedProperties. */
  dropExtendedProperties: boolean;
  /** An insert whose id is taken is stored under a new server id instead of answering 409. */
  undetectedCollisions: boolean;
}

export const NO_QUIRKS: Quirks = {
  assignOwnIds: false,
  dropExtendedProperties: false,
  undetectedCollisions: false,
};

/** A deletion waiting to be purged once it is old enough. */
interface PendingPurge {
  calendarId: string;
  eventId: string;
  changeSeq: number;
  cancelledAt: number;
}

interface SyncPosition {
  epoch: string;
  calendarId: string;
  generation: number;
  seq: number;
}

export class EmulatorState {
  #seq = 0;
  /** Changes on every reset, so tokens from before a reset are unknown rather than misread. */
  #epoch = crypto.randomUUID().slice(0, 8);
  #calendars = new Map<string, CalendarRecord>();
  /** email → calendarId → entry data, in the order calendars were added to the user's list. */
  #lists = new Map<
    string,
    Map<string, { accessRole: AccessRole; primary: boolean; colorId: string }>
  >();
  #listVersions = new Map<string, number>();
  #commitListeners: CommitListener[] = [];
  /** Deletions in the order they happened, so purging looks only at the oldest. */
  #purgeQueue: PendingPurge[] = [];
  quirks: Quirks = { ...NO_QUIRKS };

  /**
   * `purgeCancelledAfterMs`: how long a deleted event stays readable as `cancelled` before it
   * is purged ("cancelled events will eventually disappear", Event.status; Google says not
   * when). Infinity keeps deletions forever. Settable, so a test can shorten it on a running
   * emulator; deletions already due are purged at the next calendar lookup.
   */
  constructor(
    private readonly clock: () => number = Date.now,
    public purgeCancelledAfterMs = Infinity,
  ) {}

  /** Current time in ms (the injected clock). */
  now(): number {
    return this.clock();
  }

  /** Forgets every calendar, event and grant; old sync and page tokens become unknown. */
  reset(): void {
    this.#calendars.clear();
    this.#lists.clear();
    this.#listVersions.clear();
    this.#purgeQueue = [];
    this.quirks = { ...NO_QUIRKS };
    this.#epoch = crypto.randomUUID().slice(0, 8);
  }

  /** Position of the latest change. */
  currentSeq(): number {
    return this.#seq;
  }

  /** Identifies this state's lifetime; part of every token the emulator issues. */
  epoch(): string {
    return this.#epoch;
  }

  /** Creates the calendar, or replaces its metadata (keeping its events) if it exists. */
  upsertCalendar(c: { id: string; summary: string; timeZone: string; description?: string }) {
    const existing = this.#calendars.get(c.id);
    const record: CalendarRecord = {
      id: c.id,
      summary: c.summary,
      timeZone: c.timeZone,
      ...(c.description ? { description: c.description } : {}),
      etag: `"${this.now()}${++this.#seq}"`,
      events: existing?.events ?? new Map(),
      reservedIds: existing?.reservedIds ?? new Set(),
      purgedThrough: existing?.purgedThrough ?? 0,
      generation: existing?.generation ?? 0,
    };
    this.#calendars.set(c.id, record);
    return record;
  }

  /**
   * Puts the calendar on the user's calendar list with `accessRole`, in colour `colorId` (by
   * default the one it has there already, else one Google would pick).
   */
  grantAccess(
    email: string,
    calendarId: string,
    accessRole: AccessRole,
    primary: boolean,
    colorId?: string,
  ): void {
    const key = email.toLowerCase();
    let list = this.#lists.get(key);
    if (!list) this.#lists.set(key, list = new Map());
    const color = colorId ?? list.get(calendarId)?.colorId ?? defaultColorId(calendarId);
    list.set(calendarId, { accessRole, primary, colorId: color });
    this.#listVersions.set(key, (this.#listVersions.get(key) ?? 0) + 1);
  }

  /** The calendar, with deletions past their time purged first. */
  calendar(id: string): CalendarRecord | undefined {
    this.purgeDue();
    return this.#calendars.get(id);
  }

  /** The user's role on the calendar, undefined when it is not on their list. */
  accessRole(email: string, calendarId: string): AccessRole | undefined {
    return this.#lists.get(email.toLowerCase())?.get(calendarId)?.accessRole;
  }

  /** True when the calendar is the primary calendar of someone who has it on their list. */
  isPrimary(calendarId: string): boolean {
    for (const list of this.#lists.values()) if (list.get(calendarId)?.primary) return true;
    return false;
  }

  /** The id the alias `primary` stands for, for this user. */
  primaryCalendarId(email: string): string | undefined {
    for (const [id, entry] of this.#lists.get(email.toLowerCase()) ?? []) {
      if (entry.primary) return id;
    }
    return undefined;
  }

  /** The user's calendar list, in insertion order. */
  calendarList(email: string): CalendarListEntry[] {
    const out: CalendarListEntry[] = [];
    for (const [id, entry] of this.#lists.get(email.toLowerCase()) ?? []) {
      const calendar = this.#calendars.get(id);
      if (calendar) out.push({ calendar, ...entry });
    }
    return out;
  }

  /** Bumped whenever the user's calendar list changes (drives calendarList sync tokens). */
  calendarListVersion(email: string): number {
    return this.#listVersions.get(email.toLowerCase()) ?? 0;
  }

  /** The first owner found for the calendar, used when someone acts "as the calendar's user". */
  ownerOf(calendarId: string): string | undefined {
    for (const [email, list] of this.#lists) {
      if (list.get(calendarId)?.accessRole === "owner") return email;
    }
    return undefined;
  }

  /**
   * Calls `listener` after every committed event change, synchronously: it must only note the
   * change (push delivery queues a notification), never block the write or throw.
   */
  onCommit(listener: CommitListener): void {
    this.#commitListeners.push(listener);
  }

  /**
   * Stores a new version of an event: gives it the next change position, a fresh `updated`
   * (strictly later than its previous one, so orderBy=updated and etags always move) and an
   * etag derived from both.
   */
  commit(event: StoredEvent): StoredEvent {
    const calendar = this.#calendars.get(event.calendarId);
    if (!calendar) throw new Error(`unknown calendar ${event.calendarId}`);
    const seq = ++this.#seq;
    const previous = calendar.events.get(event.resource.id);
    const previousUpdated = previous ? Date.parse(previous.resource.updated) : 0;
    const updated = Math.max(this.now(), previousUpdated + 1);
    event.changeSeq = seq;
    if (!previous) event.createdSeq = seq;
    event.resource.updated = new Date(updated).toISOString();
    // Google's etags are quoted decimal strings (e.g. "3181161784712000"); the format is not
    // documented (notes "Not verified"), only that it changes with every write.
    event.resource.etag = `"${updated * 1000 + (seq % 1000)}"`;
    calendar.events.set(event.resource.id, event);
    if (event.resource.status === "cancelled" && previous?.resource.status !== "cancelled") {
      this.#purgeQueue.push({
        calendarId: calendar.id,
        eventId: event.resource.id,
        changeSeq: seq,
        cancelledAt: updated,
      });
    }
    for (const listener of this.#commitListeners) listener(calendar.id, seq);
    return event;
  }

  /** Purges the deletions older than the purge time (called on every calendar lookup). */
  purgeDue(): void {
    const before = this.now() - this.purgeCancelledAfterMs;
    while (this.#purgeQueue.length && this.#purgeQueue[0].cancelledAt <= before) {
      const due = this.#purgeQueue.shift()!;
      const calendar = this.#calendars.get(due.calendarId);
      const event = calendar?.events.get(due.eventId);
      // Restored or deleted again since: that later version decides.
      if (calendar && event?.changeSeq === due.changeSeq) this.#purge(calendar, event);
    }
  }

  /**
   * Purges every deleted event of one calendar (or of all) now, whatever its age; returns how
   * many were purged. A cancelled instance of a live series stays: it is what keeps that
   * instance deleted (Google keeps such exceptions while the series exists, notes §1).
   */
  purgeNow(calendarId?: string): number {
    let n = 0;
    for (const calendar of this.#calendars.values()) {
      if (calendarId !== undefined && calendar.id !== calendarId) continue;
      for (const event of [...calendar.events.values()]) {
        // A purged series has taken its exceptions along already.
        if (calendar.events.get(event.resource.id) !== event) continue;
        if (event.resource.status === "cancelled") n += this.#purge(calendar, event);
      }
    }
    return n;
  }

  /** Purges a cancelled event (a series with its exceptions); returns how many events went. */
  #purge(calendar: CalendarRecord, event: StoredEvent): number {
    const parentId = event.resource.recurringEventId;
    const parent = parentId === undefined ? undefined : calendar.events.get(parentId);
    if (parent && parent.resource.status !== "cancelled") return 0;
    const doomed = [event];
    if (event.series) {
      for (const e of calendar.events.values()) {
        if (e.resource.recurringEventId === event.resource.id) doomed.push(e);
      }
    }
    for (const e of doomed) {
      this.dropEvent(calendar, e.resource.id);
      calendar.purgedThrough = Math.max(calendar.purgedThrough, e.changeSeq);
    }
    return doomed.length;
  }

  /**
   * Removes an event from the store without a trace in the change log, its id staying reserved:
   * what a purge does, and what becomes of instances a series edit replaces (Google documents
   * no tombstones for those: notes §10).
   */
  dropEvent(calendar: CalendarRecord, eventId: string): void {
    calendar.events.delete(eventId);
    calendar.reservedIds.add(eventId);
  }

  /** Makes every sync token issued so far (for one calendar, or all) answer 410. */
  invalidateSyncTokens(calendarId?: string): number {
    let n = 0;
    for (const c of this.#calendars.values()) {
      if (calendarId === undefined || c.id === calendarId) {
        c.generation++;
        n++;
      }
    }
    return n;
  }

  /** An opaque token for "the calendar as of change position `seq`". */
  syncToken(calendar: CalendarRecord, seq: number): string {
    const pos: SyncPosition = {
      epoch: this.#epoch,
      calendarId: calendar.id,
      generation: calendar.generation,
      seq,
    };
    return encodeToken(pos);
  }

  /**
   * The change position a sync token stands for. Throws 410 fullSyncRequired for tokens that are
   * malformed, from another calendar, from before a reset or invalidated (notes §1).
   */
  readSyncToken(token: string, calendar: CalendarRecord): number {
    const pos = decodeToken<SyncPosition>(token);
    if (
      !pos || pos.epoch !== this.#epoch || pos.calendarId !== calendar.id ||
      pos.generation !== calendar.generation || typeof pos.seq !== "number" ||
      pos.seq > this.#seq || pos.seq < calendar.purgedThrough
    ) {
      throw fullSyncRequired();
    }
    return pos.seq;
  }
}

/** base64url(JSON): opaque to clients, readable when debugging. */
export function encodeToken(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** The value inside a token from `encodeToken`; null when it is not one. */
export function decodeToken<T>(token: string): T | null {
  try {
    const bin = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}
