/**
 * How a calendar is named for a person, on pages, in the rule editor and in messages. It lives
 * in the model, which imports nothing, so both the server and the island bundles (which must not
 * pull in zod or KV) can import it.
 */

/** A calendar as a person knows it: its title, and the account it belongs to. */
export interface CalendarName {
  name: string;
  account: string;
}

/** The name of an account's primary calendar. */
export const MAIN_CALENDAR = "Main calendar";

/** Where a calendar whose account busysync no longer holds is shown (the account is unknown). */
export const DISCONNECTED_ACCOUNT = "disconnected account";

/** A calendar busysync cannot name any more: its account was disconnected, or it is gone. */
export const DISCONNECTED_CALENDAR = `a calendar of a ${DISCONNECTED_ACCOUNT}`;

/**
 * A calendar's title. A primary calendar's summary is the account's address, which says
 * nothing next to the account name: it is called "Main calendar", and so is any calendar
 * titled with its account's address.
 */
export function calendarTitle(
  calendar: { primary: boolean; summary: string },
  account: string,
): string {
  return calendar.primary || calendar.summary === account ? MAIN_CALENDAR : calendar.summary;
}

/**
 * `“Main calendar” (alex@work.example.com)`: a calendar named on its own or in running text,
 * the title quoted so it reads apart from the words around it. Undefined: one busysync no
 * longer knows.
 */
export function fullCalendarName(calendar: CalendarName | undefined): string {
  if (!calendar) return DISCONNECTED_CALENDAR;
  return `“${calendar.name}” (${calendar.account})`;
}

/** The shortest name that tells calendars apart: the account for a main calendar. */
export function shortCalendarName(calendar: CalendarName): string {
  return calendar.name === MAIN_CALENDAR ? calendar.account : calendar.name;
}
