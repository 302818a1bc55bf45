/**
 * What several pages derive from the same records: how a calendar is named and which zone
 * times are shown in.
 */
import type { StoredCalendar } from "../db/calendars.ts";
import type { Connection } from "../db/connections.ts";
import { calendarKey } from "../sync/calendar_key.ts";

/** A calendar as the pages name it: its title, and the account it belongs to. */
export interface CalendarLabel {
  key: string;
  name: string;
  account: string;
}

/**
 * Labels for every cached calendar, by calendarKey. A primary calendar's summary is the
 * account's address, which says nothing next to the account name: it is called "Main calendar".
 */
export function calendarLabels(
  connections: readonly Connection[],
  calendars: readonly StoredCalendar[],
): Map<string, CalendarLabel> {
  const emails = new Map(connections.map((c) => [c.id, c.email]));
  const out = new Map<string, CalendarLabel>();
  for (const cal of calendars) {
    const account = emails.get(cal.connectionId);
    if (!account) continue;
    const key = calendarKey({ connectionId: cal.connectionId, calendarId: cal.id });
    const name = cal.primary || cal.summary === account ? "Main calendar" : cal.summary;
    out.set(key, { key, name, account });
  }
  return out;
}

/** "Main calendar (alex@work.example.com)": a calendar named on its own, in running text. */
export function fullCalendarName(labels: Map<string, CalendarLabel>, key: string): string {
  const label = labels.get(key);
  if (!label) return `a calendar of a disconnected account`;
  return `${label.name} (${label.account})`;
}

/**
 * The zone pages show times in: the person's setting, else their first main calendar's zone
 * (the server cannot know the browser's), else UTC.
 */
export function displayZone(
  setting: string | undefined,
  calendars: readonly StoredCalendar[],
): string {
  return setting ?? calendars.find((c) => c.primary)?.timeZone ?? "UTC";
}
