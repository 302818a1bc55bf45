/**
 * A CalDAV calendar collection as busysync lists calendars: the collection URL is its id
 * (unique on the server, stable while it exists), and its zone UTC when it names none.
 */
import type { CalendarInfo } from "../db/calendars.ts";
import type { DavCalendar } from "./dav_calendars.ts";

export function calendarInfoOf(calendar: DavCalendar): CalendarInfo {
  return {
    id: calendar.url,
    summary: calendar.displayName || lastSegment(calendar.url),
    // CalDAV has no primary calendar: the person picks.
    primary: false,
    accessRole: calendar.accessRole,
    timeZone: calendar.timeZone ?? "UTC",
    ...(calendar.color ? { color: calendar.color } : {}),
  };
}

/** "…/alice/work/" → "work": the name a calendar without a display name goes by. */
function lastSegment(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split("/").filter(Boolean).at(-1) ?? url);
}
