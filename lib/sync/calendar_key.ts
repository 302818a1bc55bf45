import type { CalendarRef } from "./types.ts";

/**
 * The string that names a calendar in KV keys, markers and messages: `connectionId:calendarId`.
 * Unambiguous because connection ids never contain ":" (RuleSchema restricts their alphabet).
 */
export function calendarKey(ref: CalendarRef): string {
  return `${ref.connectionId}:${ref.calendarId}`;
}
