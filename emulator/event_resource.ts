/**
 * The event resource as the emulator stores it (Google's shape, notes §2) and the derived timing
 * used for windowing and expansion.
 */
import type { Series } from "./recurrence.ts";
import { formatDate, formatDateTime } from "./time_zones.ts";

export interface EventTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export interface Person {
  email: string;
  displayName?: string;
  self?: boolean;
}

export interface Attendee {
  email: string;
  displayName?: string;
  responseStatus: "needsAction" | "declined" | "tentative" | "accepted";
  organizer?: boolean;
  self?: boolean;
  optional?: boolean;
  [extra: string]: unknown;
}

export interface ExtendedProperties {
  private?: Record<string, string>;
  shared?: Record<string, string>;
}

export type EventStatus = "confirmed" | "tentative" | "cancelled";

/** An event as stored: Google's resource without the viewer-dependent `self` flags. */
export interface EventResource {
  kind: "calendar#event";
  etag: string;
  id: string;
  status: EventStatus;
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  location?: string;
  creator: Person;
  organizer: Person;
  start: EventTime;
  end: EventTime;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: EventTime;
  transparency?: "transparent";
  visibility?: "public" | "private" | "confidential";
  iCalUID: string;
  sequence: number;
  attendees?: Attendee[];
  extendedProperties?: ExtendedProperties;
  reminders: unknown;
  eventType: EventType;
  [extra: string]: unknown;
}

/**
 * When an event happens. Timed events hold instants; all-day events hold floating midnights,
 * which become instants only in a zone (the calendar's) because a date has no zone of its own.
 */
export interface Timing {
  allDay: boolean;
  start: number;
  end: number;
}

/** An event in the store, or a generated instance of a series (same shape, never stored). */
export interface StoredEvent {
  calendarId: string;
  resource: EventResource;
  timing: Timing;
  /** Present on series parents only. */
  series?: Series;
  createdSeq: number;
  changeSeq: number;
  /**
   * Deleted by the calendar's owner in the web UI (the admin API), not through the API: Google
   * then refuses API writes to the event with 403 (notes §10, google-api-ruby-client #1811).
   */
  deletedByOwner?: boolean;
}

export const EVENT_TYPES = [
  "default",
  "birthday",
  "focusTime",
  "fromGmail",
  "outOfOffice",
  "workingLocation",
] as const;
export type EventType = typeof EVENT_TYPES[number];

/** The stored form of a start/end: timed values are written in their own zone, else the calendar's. */
export function formatTime(
  allDay: boolean,
  at: number,
  timeZone: string | undefined,
  calendarZone: string,
): EventTime {
  if (allDay) return { date: formatDate(at) };
  return {
    dateTime: formatDateTime(at, timeZone ?? calendarZone),
    ...(timeZone ? { timeZone } : {}),
  };
}
