/** The one calendar of a feed connection, as the calendar list and rules name it. */

/** Every feed connection has this one calendar: the feed. */
export const FEED_CALENDAR_ID = "feed";

/**
 * The feed's calendar as a calendar list shows it: named as the person named the feed, in the
 * feed's zone, and read only (`reader`), so it is offered as a source only.
 */
export function feedCalendarInfo(name: string, timeZone: string) {
  return {
    calendarId: FEED_CALENDAR_ID,
    summary: name,
    primary: false,
    accessRole: "reader" as const,
    timeZone,
  };
}
