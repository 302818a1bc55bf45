/**
 * The cached calendar list of each connection: what the user can pick as a source or target,
 * refreshed on demand from Google's calendarList.
 */
import { z } from "zod";
import { commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

export const ACCESS_ROLES = ["freeBusyReader", "reader", "writer", "owner"] as const;

/** One calendar as Google lists it for one connected account. */
export const CalendarInfoSchema = z.object({
  id: z.string().min(1),
  summary: z.string(),
  primary: z.boolean(),
  accessRole: z.enum(ACCESS_ROLES),
  timeZone: z.string(),
  /**
   * Its colour in the person's Google list (calendarList backgroundColor). Optional, so records
   * cached before colours were kept still parse; the next refresh adds it.
   */
  color: z.string().regex(/^#[0-9a-f]{6}$/).optional(),
});
export type CalendarInfo = z.infer<typeof CalendarInfoSchema>;

const StoredCalendarSchema = CalendarInfoSchema.extend({
  v: z.literal(1),
  connectionId: z.string(),
  fetchedAt: z.string(),
});
export type StoredCalendar = z.infer<typeof StoredCalendarSchema>;

/**
 * Replaces a connection's cached calendars with `calendars` in one operation, checked against
 * the connection record so a cache is never written for a connection deleted meanwhile.
 * Returns false when the connection no longer exists.
 */
export async function replaceCalendars(
  kv: Deno.Kv,
  userId: string,
  connectionId: string,
  calendars: CalendarInfo[],
  now: Date,
): Promise<boolean> {
  const res = await commitWithRetry(async () => {
    const connection = await kv.get(keys.connection(userId, connectionId));
    if (connection.value === null) return null;
    const op = kv.atomic().check(connection);
    const keep = new Set(calendars.map((c) => c.id));
    for await (const old of kv.list({ prefix: keys.calendarsOfConnection(userId, connectionId) })) {
      if (!keep.has(String(old.key.at(-1)))) op.delete(old.key);
    }
    for (const cal of calendars) {
      const stored: StoredCalendar = { v: 1, connectionId, fetchedAt: now.toISOString(), ...cal };
      op.set(keys.calendar(userId, connectionId, cal.id), stored);
    }
    return { op };
  });
  return res !== null;
}

/** Every cached calendar of every connection of the user, grouped by connection. */
export async function listCalendars(kv: Deno.Kv, userId: string): Promise<StoredCalendar[]> {
  const out: StoredCalendar[] = [];
  for await (const entry of kv.list({ prefix: keys.calendars(userId) })) {
    out.push(StoredCalendarSchema.parse(entry.value));
  }
  return out;
}

/** Whether busysync may write mirrors into a calendar with this role. */
export function isWritable(accessRole: CalendarInfo["accessRole"]): boolean {
  return accessRole === "writer" || accessRole === "owner";
}

/**
 * Whether busysync can read a calendar's events with this role. A `freeBusyReader` sees busy
 * intervals only (freebusy.query, which needs another scope and carries no event ids to mirror);
 * Google answers its events with 404.
 */
export function isReadable(accessRole: CalendarInfo["accessRole"]): boolean {
  return accessRole !== "freeBusyReader";
}
