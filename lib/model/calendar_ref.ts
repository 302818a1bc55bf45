/**
 * How busysync names one calendar of one connected account, in rules, keys and messages. Free of
 * zod (its schema is CalendarRefSchema in rule.ts), so the islands' bundles can use it.
 */

/** One calendar of one connected account. */
export interface CalendarRef {
  connectionId: string;
  calendarId: string;
}

/**
 * The string that names a calendar in KV keys, markers and messages: `connectionId:calendarId`.
 * Unambiguous because connection ids never contain ":" (RuleSchema restricts their alphabet).
 */
export function calendarKey(ref: CalendarRef): string {
  return `${ref.connectionId}:${ref.calendarId}`;
}
