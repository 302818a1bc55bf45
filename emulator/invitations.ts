/**
 * Invitations (notes §10: "one meeting, one copy per attendee calendar"): an event with attendees
 * written in its organizer's calendar puts a copy of it into the primary calendar of every
 * attendee the emulator knows (an attendee's email is their primary calendar's id, as at Google),
 * with its own id and the same `iCalUID`; an attendee's answer in their copy reaches every other
 * copy. Writes of copies themselves never invite anyone. Google's Event resource says as much:
 * `extendedProperties.private` are "private to the copy of the event that appears on this
 * calendar", `.shared` are "shared between copies of the event on other attendees' calendars",
 * and `iCalUID` identifies an event "across calendaring systems".
 */
import type { Attendee, EventResource, StoredEvent } from "./event_resource.ts";
import { newEventId, parseEventInput } from "./event_input.ts";
import { deleteEvent, findEvent, replaceEvent, storeNewEvent } from "./event_writes.ts";
import type { CalendarRecord, EmulatorState } from "./state.ts";

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Runs `write` (an insert, patch, update or delete of `eventId` in `calendar`; undefined for an
 * insert) and then brings the copies of the written event up to date: what every write path
 * (API and admin) calls, so both invite alike. Returns what `write` returned.
 */
export function writeInviting<T extends StoredEvent | void>(
  state: EmulatorState,
  calendar: CalendarRecord,
  eventId: string | undefined,
  write: () => T,
): T {
  const before = eventId === undefined ? undefined : findEvent(calendar, eventId)?.resource;
  const result = write();
  const id = result ? result.resource.id : eventId;
  const after = id === undefined ? undefined : calendar.events.get(id);
  // Exceptions of a series are not copied on their own (a guess, see README).
  if (!after || after.resource.recurringEventId) return result;
  if (same(after.resource.organizer.email, calendar.id)) {
    updateCopies(state, calendar, before, after.resource);
  } else shareResponse(state, calendar, before, after.resource);
  return result;
}

/** Attendee emails other than the organizer's own calendar, of a live event. */
function invitees(resource: EventResource | undefined, calendarId: string): Set<string> {
  if (!resource || resource.status === "cancelled") return new Set();
  return new Set(
    (resource.attendees ?? []).map((a) => a.email.toLowerCase()).filter((e) =>
      !same(e, calendarId)
    ),
  );
}

/** The copy of a meeting (by iCalUID) an attendee's calendar holds, cancelled or not. */
function copyIn(calendar: CalendarRecord, iCalUID: string): StoredEvent | undefined {
  for (const e of calendar.events.values()) {
    if (e.resource.iCalUID === iCalUID && !e.resource.recurringEventId) return e;
  }
  return undefined;
}

/** The primary calendar an attendee address names, when the emulator knows one. */
function attendeeCalendar(state: EmulatorState, email: string): CalendarRecord | undefined {
  return state.isPrimary(email) ? state.calendar(email) : undefined;
}

/**
 * Creates, updates or removes the copies of an organizer's event: every invitee gets one,
 * an attendee taken off the list (or every attendee, when the organizer deleted it) loses theirs.
 */
function updateCopies(
  state: EmulatorState,
  calendar: CalendarRecord,
  before: EventResource | undefined,
  original: EventResource,
): void {
  const now = invitees(original, calendar.id);
  const all = new Set([...invitees(before, calendar.id), ...now]);
  for (const email of all) {
    const target = attendeeCalendar(state, email);
    if (!target || target.id === calendar.id) continue;
    const copy = copyIn(target, original.iCalUID);
    if (!now.has(email)) {
      if (copy && copy.resource.status !== "cancelled") {
        deleteEvent(state, target, copy.resource.id);
      }
      continue;
    }
    const body = sharedFields(original, copy?.resource, target.id);
    if (copy) {
      // What the attendee set for themselves stays: transparency, reminders, private properties.
      const own = copy.resource;
      replaceEvent(state, target, copy, {
        ...body,
        ...(own.transparency ? { transparency: own.transparency } : {}),
        reminders: own.reminders,
        ...(own.extendedProperties?.private
          ? {
            extendedProperties: {
              ...body.extendedProperties as object,
              private: own.extendedProperties.private,
            },
          }
          : {}),
      });
    } else {
      storeNewEvent(
        state,
        target,
        parseEventInput({
          ...body,
          ...(original.transparency ? { transparency: original.transparency } : {}),
        }),
        {
          id: newEventId(),
          created: new Date(state.now()).toISOString(),
          creator: original.creator,
          organizer: original.organizer,
          iCalUID: original.iCalUID,
        },
      );
    }
  }
}

/**
 * What every copy shares with the organizer's event: the meeting itself and its guest list. The
 * attendee's own answer in an existing copy is theirs, not the organizer's to set.
 */
function sharedFields(
  original: EventResource,
  copy: EventResource | undefined,
  copyCalendarId: string,
): Record<string, unknown> {
  const ownAnswer = copy?.attendees?.find((a) => same(a.email, copyCalendarId))?.responseStatus;
  const attendees = (original.attendees ?? []).map((a) => {
    const { organizer: _o, self: _s, ...rest } = a;
    return ownAnswer && same(a.email, copyCalendarId)
      ? { ...rest, responseStatus: ownAnswer }
      : rest;
  });
  const shared = original.extendedProperties?.shared;
  return {
    status: original.status,
    start: original.start,
    end: original.end,
    attendees,
    ...pick(original, ["summary", "description", "location", "recurrence", "visibility"]),
    ...(shared ? { extendedProperties: { shared } } : {}),
  };
}

function pick(r: EventResource, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]));
}

/**
 * An attendee answering in their copy: the organizer's event and every other copy show the new
 * response for that attendee (Google shows guests' answers to everyone invited).
 */
function shareResponse(
  state: EmulatorState,
  calendar: CalendarRecord,
  before: EventResource | undefined,
  copy: EventResource,
): void {
  const answer = (r: EventResource | undefined) =>
    r?.attendees?.find((a) => same(a.email, calendar.id))?.responseStatus;
  const response = answer(copy);
  if (!response || response === answer(before)) return;
  const holders = [copy.organizer.email, ...(copy.attendees ?? []).map((a) => a.email)];
  for (const email of new Set(holders.map((e) => e.toLowerCase()))) {
    const other = state.calendar(email);
    if (!other || other.id === calendar.id) continue;
    const event = copyIn(other, copy.iCalUID);
    const attendees = event?.resource.attendees;
    if (!event || !attendees?.some((a) => same(a.email, calendar.id))) continue;
    if (attendees.find((a) => same(a.email, calendar.id))!.responseStatus === response) continue;
    const answered: Attendee[] = attendees.map((a) =>
      same(a.email, calendar.id) ? { ...a, responseStatus: response } : a
    );
    replaceEvent(state, other, event, { ...event.resource, attendees: answered });
  }
}
