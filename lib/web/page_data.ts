/**
 * What several pages derive from the same records: how a calendar is named and which zone
 * times are shown in.
 */
import { isReadable, isWritable, type StoredCalendar } from "../db/calendars.ts";
import type { Connection } from "../db/connections.ts";
import { type CalendarName, calendarTitle } from "../model/calendar_name.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import type { CalendarOption } from "../browser/rule_draft.ts";

/** A calendar as the pages name it, with its calendarKey. */
export interface CalendarLabel extends CalendarName {
  key: string;
}

/** Labels for every cached calendar of an account that is still connected, by calendarKey. */
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
    out.set(key, {
      key,
      name: calendarTitle(cal, account),
      account,
      ...(cal.color ? { color: cal.color } : {}),
    });
  }
  return out;
}

/** Every calendar of every connected account as the editor offers it, accounts in order. */
export function calendarOptions(
  connections: readonly Connection[],
  calendars: readonly StoredCalendar[],
): CalendarOption[] {
  const labels = calendarLabels(connections, calendars);
  return connections.flatMap((conn) =>
    calendars.filter((cal) => cal.connectionId === conn.id)
      .sort((a, b) => Number(b.primary) - Number(a.primary) || a.summary.localeCompare(b.summary))
      .map((cal) => {
        const key = calendarKey({ connectionId: conn.id, calendarId: cal.id });
        const label = labels.get(key)!;
        return {
          key,
          connectionId: conn.id,
          calendarId: cal.id,
          name: label.name,
          account: label.account,
          ...(label.color ? { color: label.color } : {}),
          writable: isWritable(cal.accessRole),
          readable: isReadable(cal.accessRole),
          timeZone: cal.timeZone,
        };
      })
  );
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
