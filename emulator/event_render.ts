/**
 * Turns stored events into what a particular reader sees: `self` flags depend on whose calendar
 * is read and who reads it (notes §2: read-only, viewer-relative), and deletions in incremental
 * results are tombstones with only the guaranteed fields (notes §1).
 */
import type { EventResource, EventTime, StoredEvent } from "./event_resource.ts";
import { formatDateTime } from "./time_zones.ts";

export interface View {
  /** The calendar being read: its id is the email of the attendee entry marked `self`. */
  calendarId: string;
  /** The signed-in user: the creator entry with this email is marked `self`. */
  viewerEmail: string;
  /** The `timeZone` request parameter: zone for dateTimes that carry no zone of their own. */
  timeZone?: string;
  /** Above this many attendees only the reader's own entry is returned ([V3] maxAttendees). */
  maxAttendees?: number;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function inZone(t: EventTime, zone: string | undefined): EventTime {
  if (!zone || !t.dateTime || t.timeZone) return t;
  return { ...t, dateTime: formatDateTime(Date.parse(t.dateTime), zone) };
}

/** The full resource as `view` sees it. */
export function renderEvent(event: StoredEvent, view: View): EventResource {
  const r = event.resource;
  const out: EventResource = {
    ...r,
    creator: { ...r.creator, ...(same(r.creator.email, view.viewerEmail) ? { self: true } : {}) },
    organizer: {
      ...r.organizer,
      ...(same(r.organizer.email, view.calendarId) ? { self: true } : {}),
    },
    start: inZone(r.start, view.timeZone),
    end: inZone(r.end, view.timeZone),
  };
  if (r.originalStartTime) out.originalStartTime = inZone(r.originalStartTime, view.timeZone);
  if (r.attendees) {
    const attendees = r.attendees.map((a) =>
      same(a.email, view.calendarId) ? { ...a, self: true } : a
    );
    if (view.maxAttendees !== undefined && attendees.length > view.maxAttendees) {
      out.attendees = attendees.filter((a) => a.self);
      out.attendeesOmitted = true;
    } else out.attendees = attendees;
  }
  return out;
}

/** A deletion as incremental results carry it: id and status, plus the instance identity. */
export function renderTombstone(event: StoredEvent): Record<string, unknown> {
  const r = event.resource;
  return {
    kind: "calendar#event",
    etag: r.etag,
    id: r.id,
    status: "cancelled",
    ...(r.recurringEventId
      ? { recurringEventId: r.recurringEventId, originalStartTime: r.originalStartTime }
      : {}),
  };
}
