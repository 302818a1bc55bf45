/**
 * Event reads by id and every event write, with Google's semantics (notes §2, §3). Used by the
 * Calendar API (after auth and access checks) and by the admin API ("a user editing their
 * calendar"), so both produce the same resources and the same change log entries.
 */
import {
  type CalendarContext,
  isValidEventId,
  mergePatch,
  newEventId,
  normalizeEvent,
  parseEventInput,
  type ServerFields,
} from "./event_input.ts";
import type { EventResource, Person, StoredEvent } from "./event_resource.ts";
import {
  alreadyDeleted,
  badRequest,
  conditionNotMet,
  duplicate,
  forbidden,
  notFound,
} from "./google_errors.ts";
import { findGeneratedInstance } from "./instances.ts";
import type { CalendarRecord, EmulatorState } from "./state.ts";

/** Who performs a write; becomes the creator of events they insert. */
export interface Actor {
  email: string;
  displayName?: string;
}

/** How a patch, update or delete is made. */
export interface WriteOptions {
  /** The If-Match header (notes §3). */
  ifMatch?: string;
  /**
   * The calendar's owner acting in the web UI (the admin API) rather than a client of the API:
   * their deletions lock the event against API writes (see StoredEvent.deletedByOwner).
   */
  asOwner?: boolean;
}

type EventInput = ReturnType<typeof parseEventInput>;

/** What event validation needs to know of the calendar an event is written to. */
export function contextOf(state: EmulatorState, calendar: CalendarRecord): CalendarContext {
  return { id: calendar.id, timeZone: calendar.timeZone, primary: state.isPrimary(calendar.id) };
}

/** A stored event or exception, or the generated instance an instance id names. */
export function findEvent(calendar: CalendarRecord, eventId: string): StoredEvent | undefined {
  return calendar.events.get(eventId) ?? findGeneratedInstance(calendar, eventId);
}

/** Like findEvent; throws 404 notFound. Cancelled events are returned (notes §1). */
export function getEvent(calendar: CalendarRecord, eventId: string): StoredEvent {
  const event = findEvent(calendar, eventId);
  if (!event) throw notFound();
  return event;
}

/** Throws 412 unless If-Match is absent, `*`, or names the event's current etag (notes §3). */
function checkIfMatch(event: StoredEvent, ifMatch: string | undefined): void {
  if (!ifMatch) return;
  const tags = ifMatch.split(",").map((t) => t.trim().replace(/^W\//, ""));
  if (!tags.includes("*") && !tags.includes(event.resource.etag)) throw conditionNotMet();
}

/**
 * events.insert. A client-chosen id must be base32hex of 5..1024 characters (400 otherwise) and
 * unused in the calendar, counting deleted and purged events (409 duplicate: notes §2, §10).
 * `trusted` (seeds) also keeps a given creator and organizer, which clients cannot set. The
 * quirks `assignOwnIds` and `undetectedCollisions` give the event a server id instead.
 */
export function insertEvent(
  state: EmulatorState,
  calendar: CalendarRecord,
  body: unknown,
  actor: Actor,
  trusted = false,
): StoredEvent {
  const input = parseEventInput(body);
  const wanted = input.id ?? undefined;
  if (wanted !== undefined && !isValidEventId(wanted)) {
    throw badRequest("invalid", "Invalid resource id value.", { type: "body", name: "id" });
  }
  const taken = wanted !== undefined &&
    (calendar.events.has(wanted) || calendar.reservedIds.has(wanted));
  if (taken && !state.quirks.undetectedCollisions) throw duplicate();
  const id = wanted === undefined || taken || state.quirks.assignOwnIds ? newEventId() : wanted;
  const creator: Person = trusted && input.creator
    ? { email: input.creator.email, ...optionalName(input.creator.displayName) }
    : { email: actor.email, ...optionalName(actor.displayName) };
  const server: ServerFields = {
    id,
    created: new Date(state.now()).toISOString(),
    creator,
    organizer: trusted && input.organizer
      ? { email: input.organizer.email, ...optionalName(input.organizer.displayName) }
      : defaultOrganizer(state, calendar),
    iCalUID: input.iCalUID ?? `${id}@google.com`,
  };
  return storeNewEvent(state, calendar, input, server);
}

/** Stores a new event under the id in `server`, which the caller has checked is free. */
export function storeNewEvent(
  state: EmulatorState,
  calendar: CalendarRecord,
  input: EventInput,
  server: ServerFields,
): StoredEvent {
  const normalized = normalizeEvent(input, server, contextOf(state, calendar));
  applyStorageQuirks(state, normalized.resource);
  return state.commit({ calendarId: calendar.id, ...normalized, createdSeq: 0, changeSeq: 0 });
}

/** A server that does not keep extendedProperties (quirk `dropExtendedProperties`). */
function applyStorageQuirks(state: EmulatorState, resource: EventResource): void {
  if (state.quirks.dropExtendedProperties) delete resource.extendedProperties;
}

function optionalName(displayName: string | null | undefined): { displayName?: string } {
  return displayName ? { displayName } : {};
}

/**
 * The organizer of an event created in a calendar is the calendar itself: a primary calendar's id
 * is its user's email, and secondary calendars show their summary as the display name.
 */
function defaultOrganizer(state: EmulatorState, calendar: CalendarRecord): Person {
  return state.isPrimary(calendar.id)
    ? { email: calendar.id }
    : { email: calendar.id, displayName: calendar.summary };
}

/**
 * events.patch: RFC 7386 merge of the body over the current event (so `null` deletes a key of an
 * extendedProperties map: notes §2). `start`, `end` replace the stored value whole, so a patch can
 * turn a timed event into an all-day one by sending only `date`. Patching an instance id creates
 * or updates the exception; patching a cancelled event to a live status restores it, unless its
 * owner deleted it in the web UI (403). Changing a series' time drops its exceptions.
 */
export function patchEvent(
  state: EmulatorState,
  calendar: CalendarRecord,
  eventId: string,
  body: unknown,
  opts: WriteOptions = {},
): StoredEvent {
  const current = writableEvent(calendar, eventId, opts);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw badRequest("invalid", "Invalid value for: body");
  }
  return rewrite(state, calendar, current, patchedBody(current.resource, body));
}

/** The body a patch amounts to: `start` and `end` replace whole, the rest merges (RFC 7386). */
export function patchedBody(resource: EventResource, patch: object): unknown {
  const base: Record<string, unknown> = { ...resource };
  for (const key of ["start", "end"]) if (key in patch) delete base[key];
  return mergePatch(base, patch);
}

/**
 * events.update: the body replaces every writable field (omitted ones are dropped: notes §2).
 * Same restrictions and series rule as a patch.
 */
export function updateEvent(
  state: EmulatorState,
  calendar: CalendarRecord,
  eventId: string,
  body: unknown,
  opts: WriteOptions = {},
): StoredEvent {
  return rewrite(state, calendar, writableEvent(calendar, eventId, opts), body);
}

/**
 * The event a patch or update may change. Google answers 403 to API writes of an event its owner
 * deleted in the web UI (notes §10, google-api-ruby-client #1811), while an event the API deleted
 * can be restored (notes §3).
 */
function writableEvent(calendar: CalendarRecord, eventId: string, opts: WriteOptions) {
  const current = getEvent(calendar, eventId);
  if (
    !opts.asOwner && current.deletedByOwner && current.resource.status === "cancelled"
  ) throw forbidden();
  checkIfMatch(current, opts.ifMatch);
  return current;
}

/**
 * A rewrite of a series parent that moves its start or end or changes its recurrence drops its
 * exceptions without tombstones, as a whole-series time change in Google's web UI does (a guess
 * from notes §10: the new instances get new ids, and Google documents no deletions for the old).
 */
function rewrite(
  state: EmulatorState,
  calendar: CalendarRecord,
  current: StoredEvent,
  body: unknown,
): StoredEvent {
  const written = replaceEvent(state, calendar, current, body);
  const timing = (r: EventResource) => JSON.stringify([r.start, r.end, r.recurrence ?? null]);
  if (current.series && timing(current.resource) !== timing(written.resource)) {
    for (const e of [...calendar.events.values()]) {
      if (e.resource.recurringEventId === current.resource.id) {
        state.dropEvent(calendar, e.resource.id);
      }
    }
  }
  return written;
}

/**
 * Stores `body` as the new content of `current` (server fields kept, sequence grown when the
 * time changes), leaving its exceptions alone.
 */
export function replaceEvent(
  state: EmulatorState,
  calendar: CalendarRecord,
  current: StoredEvent,
  body: unknown,
): StoredEvent {
  const input = parseEventInput(body);
  const c = current.resource;
  const server: ServerFields = {
    id: c.id,
    created: c.created,
    creator: c.creator,
    organizer: c.organizer,
    iCalUID: c.iCalUID,
    recurringEventId: c.recurringEventId,
    originalStartTime: c.originalStartTime,
  };
  const normalized = normalizeEvent(input, server, contextOf(state, calendar), c.eventType);
  normalized.resource.sequence = c.sequence + (isSignificantChange(c, normalized.resource) ? 1 : 0);
  applyStorageQuirks(state, normalized.resource);
  return state.commit({
    calendarId: calendar.id,
    ...normalized,
    createdSeq: current.createdSeq,
    changeSeq: current.changeSeq,
  });
}

/**
 * iCalendar's SEQUENCE grows when the time or recurrence of an event changes (RFC 5545 §3.8.7.4);
 * Google's exact rule is undocumented, so this is the RFC's.
 */
function isSignificantChange(before: EventResource, after: EventResource): boolean {
  const key = (r: EventResource) =>
    JSON.stringify([r.start, r.end, r.recurrence ?? null, r.status === "cancelled"]);
  return key(before) !== key(after);
}

/**
 * events.delete: marks the event cancelled (it stays readable: notes §1) and, for a series,
 * cancels its exceptions too so incremental syncs report them. Deleting an instance id cancels
 * that instance only. A second delete is 410 deleted (notes §3). A deletion `asOwner` marks the
 * events deleted by their owner.
 */
export function deleteEvent(
  state: EmulatorState,
  calendar: CalendarRecord,
  eventId: string,
  opts: WriteOptions = {},
): void {
  const current = getEvent(calendar, eventId);
  checkIfMatch(current, opts.ifMatch);
  if (current.resource.status === "cancelled") throw alreadyDeleted();
  const cancel = (e: StoredEvent) =>
    state.commit({
      ...e,
      resource: { ...e.resource, status: "cancelled" },
      ...(opts.asOwner ? { deletedByOwner: true } : {}),
    });
  cancel(current);
  if (!current.series) return;
  for (const e of [...calendar.events.values()]) {
    if (e.resource.recurringEventId === eventId && e.resource.status !== "cancelled") cancel(e);
  }
}
