/** How busysync names one calendar of one connected account, in rules, keys and messages. */
import { z } from "zod";

/** Ids we generate (ULIDs) and connection ids: a safe alphabet keeps calendar keys unambiguous. */
export const IdSchema = z.string().regex(
  /^[A-Za-z0-9_-]{1,64}$/,
  "expected 1-64 letters, digits, _ or -",
);

export const CalendarRefSchema = z.object({
  connectionId: IdSchema,
  calendarId: z.string().min(1).max(1024),
});

/** One calendar of one connected account. */
export type CalendarRef = z.infer<typeof CalendarRefSchema>;

/**
 * The string that names a calendar in KV keys, markers and messages: `connectionId:calendarId`.
 * Unambiguous because connection ids never contain ":" (IdSchema restricts their alphabet).
 */
export function calendarKey(ref: CalendarRef): string {
  return `${ref.connectionId}:${ref.calendarId}`;
}
