/**
 * Seeds: users (with their OAuth identity), their calendars and roles, and events, as one JSON
 * document. A calendar id listed under several users is one shared calendar seen with different
 * roles. An event whose id is an instance id (`{seriesId}_{YYYYMMDDTHHMMSSZ}` or
 * `{seriesId}_{YYYYMMDD}`) of a series seeded before it becomes that instance's exception, so a
 * seed can move or cancel single instances.
 */
import { z } from "zod";
import { type Actor, findEvent, insertEvent, updateEvent } from "./event_writes.ts";
import type { OAuthServer } from "./oauth.ts";
import type { EmulatorState } from "./state.ts";
import { badRequest } from "./google_errors.ts";
import { isValidTimeZone } from "./time_zones.ts";
import { CALENDAR_COLORS } from "./calendar_colors.ts";

const SeedCalendar = z.object({
  id: z.string().min(1),
  summary: z.string(),
  timeZone: z.string().refine(isValidTimeZone, "unknown IANA time zone"),
  primary: z.boolean().optional(),
  accessRole: z.enum(["freeBusyReader", "reader", "writer", "owner"]).default("owner"),
  description: z.string().optional(),
  /** The entry's colour in this user's calendar list: Google's palette id ("1"–"24"). */
  colorId: z.string().refine((id) => id in CALENDAR_COLORS, "unknown calendar colorId")
    .optional(),
  /** Event resources as a client would send them; creator and organizer are kept if given. */
  events: z.array(z.record(z.string(), z.unknown())).optional(),
});

export const Seed = z.object({
  clients: z.array(z.object({
    clientId: z.string().min(1),
    clientSecret: z.string(),
    redirectUris: z.array(z.string()).optional(),
  })).optional(),
  users: z.array(z.object({
    email: z.email(),
    name: z.string(),
    sub: z.string().optional(),
    /** A Workspace account's domain: its id_tokens carry it as `hd`. */
    hd: z.string().min(1).optional(),
    /** false: id_tokens say `email_verified: false` (an address Google never confirmed). */
    emailVerified: z.boolean().optional(),
    calendars: z.array(SeedCalendar),
  })),
});
export type Seed = z.input<typeof Seed>;

/**
 * A stable, Google-looking numeric subject for users seeded without one (Google's `sub` is a
 * decimal string of about 21 digits).
 */
function subFor(email: string): string {
  let h = 0xcbf29ce484222325n;
  for (const ch of new TextEncoder().encode(email.toLowerCase())) {
    h = ((h ^ BigInt(ch)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `1${h.toString().padStart(20, "0")}`;
}

/**
 * Adds the seed's clients, users, calendars, grants and events to the current state. Throws a
 * ZodError for a malformed seed and a GoogleApiError for an event the API would refuse.
 */
export function applySeed(
  input: unknown,
  deps: { state: EmulatorState; oauth: OAuthServer },
): { users: number; calendars: number; events: number } {
  const seed = Seed.parse(input);
  const { state, oauth } = deps;
  for (const client of seed.clients ?? []) oauth.addClient(client);
  const calendarIds = new Set<string>();
  for (const user of seed.users) {
    oauth.addUser({
      sub: user.sub ?? subFor(user.email),
      email: user.email,
      name: user.name,
      ...(user.hd ? { hd: user.hd } : {}),
      ...(user.emailVerified === false ? { emailVerified: false } : {}),
    });
    for (const cal of user.calendars) {
      state.upsertCalendar(cal);
      state.grantAccess(user.email, cal.id, cal.accessRole, cal.primary ?? false, cal.colorId);
      calendarIds.add(cal.id);
    }
  }
  let events = 0;
  for (const user of seed.users) {
    const actor: Actor = { email: user.email, displayName: user.name };
    for (const cal of user.calendars) {
      const calendar = state.calendar(cal.id)!;
      for (const event of cal.events ?? []) {
        const id = typeof event.id === "string" ? event.id : undefined;
        if (id?.includes("_")) {
          if (!findEvent(calendar, id)) {
            throw badRequest("invalid", `Seed event ${id} names no instance of a seeded series.`);
          }
          updateEvent(state, calendar, id, event);
        } else insertEvent(state, calendar, event, actor, true);
        events++;
      }
    }
  }
  return { users: seed.users.length, calendars: calendarIds.size, events };
}
