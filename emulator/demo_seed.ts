/**
 * The demo world: Alex Demo with a personal and a work Google account, and a realistic week of
 * events around `now` in Europe/Berlin, covering what a busy-sync has to handle (a weekly series
 * with a moved and a cancelled instance, all-day and multi-day events, a declined meeting, a free
 * event, a working-location event, a read-only shared calendar).
 */
import type { Seed } from "./seed.ts";
import {
  compactUtc,
  floatingToInstant,
  formatDate,
  instantToFloating,
  parseDateTime,
} from "./time_zones.ts";

const ZONE = "Europe/Berlin";
const DAY = 86_400_000;
const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";

/** Ids are base32hex (a-v, 0-9) as Google requires for client-chosen ids (notes §2). */
const STANDUP_ID = "standup0series0demo";
const FOOTBALL_ID = "football0series0demo";

/** Demo OAuth client; any redirect URI is accepted so every local setup can use it. */
export const DEMO_CLIENT = { clientId: "busysync-demo", clientSecret: "busysync-demo-secret" };

/** The demo seed for the week (Monday to Sunday, Berlin time) that contains `now`. */
export function demoSeed(now: Date): Seed {
  const today = instantToFloating(now.getTime(), ZONE);
  const midnight = today - (today % DAY);
  const monday = midnight - ((new Date(midnight).getUTCDay() + 6) % 7) * DAY;
  /** Day `n` of the week (0 = Monday; negative = earlier weeks) as yyyy-mm-dd. */
  const day = (n: number) => formatDate(monday + n * DAY);
  const local = (n: number, hhmm: string) => ({ dateTime: `${day(n)}T${hhmm}:00`, timeZone: ZONE });
  const timed = (n: number, from: string, to: string) => ({
    start: local(n, from),
    end: local(n, to),
  });
  const allDay = (n: number, days = 1) => ({
    start: { date: day(n) },
    end: { date: day(n + days) },
  });
  /** The id Google gives the instance of `seriesId` originally at day `n`, `hhmm` Berlin time. */
  const instance = (seriesId: string, n: number, hhmm: string) => {
    const floating = parseDateTime(`${day(n)}T${hhmm}:00`)!.ms;
    return `${seriesId}_${compactUtc(floatingToInstant(floating, ZONE))}`;
  };
  const person = (email: string, responseStatus: string, extra = {}) => ({
    email,
    responseStatus,
    ...extra,
  });

  return {
    clients: [DEMO_CLIENT],
    users: [
      {
        email: PERSONAL,
        name: "Alex Demo",
        calendars: [
          {
            id: PERSONAL,
            summary: PERSONAL,
            timeZone: ZONE,
            primary: true,
            colorId: "9",
            events: [
              {
                summary: "Dentist",
                location: "Zahnarztpraxis Mitte",
                ...timed(2, "08:00", "08:45"),
              },
              {
                summary: "Dinner with Jordan",
                location: "Trattoria Lucca",
                ...timed(4, "19:30", "22:00"),
              },
              { summary: "Mum's birthday", ...allDay(6), transparency: "transparent" },
            ],
          },
          {
            id: "family0demo0calendar@group.calendar.google.com",
            summary: "Family",
            timeZone: ZONE,
            colorId: "6",
            events: [
              {
                id: FOOTBALL_ID,
                summary: "Kids' football practice",
                location: "Sportplatz Jahnstraße",
                ...timed(-14 + 3, "17:30", "19:00"),
                recurrence: ["RRULE:FREQ=WEEKLY;BYDAY=TH"],
              },
              { summary: "School closed (teacher training)", ...allDay(4) },
              { summary: "Weekend trip to the lake", ...allDay(5, 2) },
            ],
          },
        ],
      },
      {
        email: WORK,
        name: "Alex Demo",
        hd: "work.example.com",
        calendars: [
          {
            id: WORK,
            summary: WORK,
            timeZone: ZONE,
            primary: true,
            colorId: "16",
            events: [
              {
                summary: "Office",
                eventType: "workingLocation",
                ...allDay(0),
                transparency: "transparent",
                visibility: "public",
                workingLocationProperties: {
                  type: "officeLocation",
                  officeLocation: { label: "Berlin office" },
                },
              },
              {
                id: STANDUP_ID,
                summary: "Team standup",
                ...timed(-14, "09:30", "09:45"),
                recurrence: ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
                attendees: [
                  person(WORK, "accepted"),
                  person("sam.lee@work.example.com", "accepted"),
                  person("priya.shah@work.example.com", "needsAction"),
                ],
              },
              // Wednesday's standup moved to 10:00, Friday's cancelled.
              {
                id: instance(STANDUP_ID, 2, "09:30"),
                summary: "Team standup (moved)",
                ...timed(2, "10:00", "10:15"),
              },
              {
                id: instance(STANDUP_ID, 4, "09:30"),
                status: "cancelled",
                summary: "Team standup",
                ...timed(4, "09:30", "09:45"),
              },
              { summary: "1:1 with Sam", ...timed(1, "11:00", "11:30") },
              {
                summary: "Quarterly planning",
                ...timed(3, "13:00", "15:00"),
                organizer: { email: "sam.lee@work.example.com", displayName: "Sam Lee" },
                creator: { email: "sam.lee@work.example.com", displayName: "Sam Lee" },
                attendees: [
                  person("sam.lee@work.example.com", "accepted"),
                  person(WORK, "declined"),
                  person("priya.shah@work.example.com", "accepted"),
                ],
              },
              {
                summary: "Tech talk: observability (optional)",
                ...timed(3, "16:00", "17:00"),
                transparency: "transparent",
              },
            ],
          },
          {
            id: "team0holidays0demo@group.calendar.google.com",
            summary: "Team holidays",
            timeZone: ZONE,
            colorId: "2",
            accessRole: "reader",
            events: [
              { summary: "Company offsite", ...allDay(10, 2) },
              { summary: "Priya out of office", ...allDay(1, 3) },
            ],
          },
          // Sam shares only free/busy: listed, but its events answer 404.
          {
            id: "sam.lee@work.example.com",
            summary: "Sam Lee",
            timeZone: ZONE,
            colorId: "19",
            accessRole: "freeBusyReader",
          },
        ],
      },
    ],
  };
}
