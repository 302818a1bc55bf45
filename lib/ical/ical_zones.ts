/**
 * Where an iCalendar wall-clock time sits on the timeline. A TZID names a VTIMEZONE inside the
 * object, or (servers accept it without one: caldav.md §2) an IANA zone, a Windows zone name or a
 * vendor-prefixed IANA name; a time without TZID or `Z` is floating and is read in the calendar's
 * zone. Zones are resolved per object and never registered with ical.js's global
 * TimezoneService, so two objects defining the same TZID differently cannot affect each other.
 */
import ICAL from "ical.js";
import { isKnownTimeZone } from "../model/time_zone.ts";

/** Converts between a wall clock in one zone and epoch milliseconds. */
export interface Zone {
  /**
   * The instant of a wall-clock time. A time in a DST gap moves forward by the gap, and one in
   * an overlap is its first occurrence: what RFC 5545 §3.3.5 asks for.
   */
  toInstant(wall: Temporal.PlainDateTime): number;
  /** The wall clock of an instant. */
  toWall(instant: number): Temporal.PlainDateTime;
  /** The IANA name, when the zone has one (a VTIMEZONE with a private TZID has none). */
  ianaName?: string;
}

const UTC_ZONE: Zone = ianaZone("UTC");

/** A zone of the runtime's zone data (Temporal, the same ICU data as Intl). */
export function ianaZone(name: string): Zone {
  return {
    ianaName: name,
    toInstant: (wall) =>
      wall.toZonedDateTime(name, { disambiguation: "compatible" }).epochMilliseconds,
    toWall: (instant) =>
      Temporal.Instant.fromEpochMilliseconds(instant).toZonedDateTimeISO(name).toPlainDateTime(),
  };
}

/** A zone defined by a VTIMEZONE of the object, its offsets computed by ical.js. */
function vtimezoneZone(tz: ICAL.Timezone, tzid: string): Zone {
  const toWall = (instant: number) => {
    const t = ICAL.Time.fromJSDate(new Date(instant), true).convertToZone(tz);
    return new Temporal.PlainDateTime(t.year, t.month, t.day, t.hour, t.minute, t.second);
  };
  const name = ianaNameOf(tzid);
  return { ...(name ? { ianaName: name } : {}), toWall, toInstant: instantFromWalls(toWall) };
}

const DAY_MS = 86_400_000;

/**
 * A wall clock's instant, from a zone's instant → wall clock conversion, with RFC 5545's
 * rules for gaps and overlaps (ical.js moves a time in a spring gap backwards instead). The
 * offsets a day before and after are the candidates: zones change at most once in two days.
 */
function instantFromWalls(toWall: (instant: number) => Temporal.PlainDateTime) {
  const offsetAt = (instant: number) => asUtc(toWall(instant)) - instant;
  return (wall: Temporal.PlainDateTime): number => {
    const local = asUtc(wall);
    const before = local - offsetAt(local - DAY_MS);
    const after = local - offsetAt(local + DAY_MS);
    const fits = [before, after].filter((t) => asUtc(toWall(t)) === local);
    // In an overlap both fit and the first is meant; in a gap neither does, and the time is
    // read with the offset from before the gap, which moves it forward by the gap's length.
    return fits.length ? Math.min(...fits) : before;
  };
}

/** A wall clock's fields as if they were UTC, in epoch milliseconds. */
function asUtc(w: Temporal.PlainDateTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/**
 * The IANA zone a TZID stands for when the object has no VTIMEZONE for it: the name itself,
 * a Windows zone name (Outlook and Exchange write those), or the IANA name at the end of a
 * vendor path such as `/mozilla.org/20050126_1/Europe/Berlin`. Undefined when none fits.
 */
export function ianaNameOf(tzid: string): string | undefined {
  const name = tzid.trim();
  if (name === "") return undefined;
  if (Object.hasOwn(WINDOWS_ZONES, name)) return WINDOWS_ZONES[name];
  if (isKnownTimeZone(name)) return name;
  // The longest IANA names have three parts (America/Argentina/Buenos_Aires).
  const parts = name.split("/").filter((p) => p !== "");
  for (let n = Math.min(3, parts.length); n >= 1; n--) {
    const candidate = parts.slice(-n).join("/");
    if (isKnownTimeZone(candidate)) return candidate;
  }
  return undefined;
}

/** What a time property's zone resolved to: a zone, or why it could not be. */
export type ZoneLookup = { ok: true; zone: Zone } | { ok: false; problem: string };

/**
 * The zone of a DATE-TIME property value: UTC for a `Z` value, the object's VTIMEZONE for its
 * TZID (the object's own definition wins over the runtime's, as RFC 5545 §3.2.19 says), else the
 * IANA zone the TZID stands for; a floating value is in `floatingZone`.
 */
export function zoneOfProperty(
  prop: ICAL.Property,
  value: ICAL.Time,
  root: ICAL.Component,
  floatingZone: Zone,
): ZoneLookup {
  if (value.zone === ICAL.Timezone.utcTimezone) return { ok: true, zone: UTC_ZONE };
  const tzid = prop.getParameter("tzid");
  if (typeof tzid !== "string") return { ok: true, zone: floatingZone };
  const defined = root.getTimeZoneByID(tzid);
  if (defined) return { ok: true, zone: vtimezoneZone(defined, tzid) };
  const iana = ianaNameOf(tzid);
  if (iana) return { ok: true, zone: ianaZone(iana) };
  return {
    ok: false,
    problem: `the time zone "${tzid}" is neither defined in the event nor a known zone name`,
  };
}

/** The wall clock an ical.js time shows (a leap second is read as :59). */
export function wallOf(t: ICAL.Time): Temporal.PlainDateTime {
  return Temporal.PlainDateTime.from({
    year: t.year,
    month: t.month,
    day: t.day,
    hour: t.hour,
    minute: t.minute,
    second: t.second,
  });
}

/**
 * The Windows zone names Outlook and Exchange put in TZID, mapped as CLDR's windowsZones.xml
 * maps them for territory "001" (the zone's main city). Only the common ones: an unlisted name
 * without a VTIMEZONE is reported as a problem rather than guessed.
 */
const WINDOWS_ZONES: Record<string, string> = {
  "Dateline Standard Time": "Etc/GMT+12",
  "UTC-11": "Etc/GMT+11",
  "Hawaiian Standard Time": "Pacific/Honolulu",
  "Alaskan Standard Time": "America/Anchorage",
  "Pacific Standard Time (Mexico)": "America/Tijuana",
  "Pacific Standard Time": "America/Los_Angeles",
  "US Mountain Standard Time": "America/Phoenix",
  "Mountain Standard Time": "America/Denver",
  "Central America Standard Time": "America/Guatemala",
  "Central Standard Time": "America/Chicago",
  "Central Standard Time (Mexico)": "America/Mexico_City",
  "Canada Central Standard Time": "America/Regina",
  "SA Pacific Standard Time": "America/Bogota",
  "Eastern Standard Time (Mexico)": "America/Cancun",
  "Eastern Standard Time": "America/New_York",
  "US Eastern Standard Time": "America/Indiana/Indianapolis",
  "Venezuela Standard Time": "America/Caracas",
  "Paraguay Standard Time": "America/Asuncion",
  "Atlantic Standard Time": "America/Halifax",
  "SA Western Standard Time": "America/La_Paz",
  "Pacific SA Standard Time": "America/Santiago",
  "Newfoundland Standard Time": "America/St_Johns",
  "E. South America Standard Time": "America/Sao_Paulo",
  "SA Eastern Standard Time": "America/Cayenne",
  "Argentina Standard Time": "America/Buenos_Aires",
  "Montevideo Standard Time": "America/Montevideo",
  "UTC-02": "Etc/GMT+2",
  "Azores Standard Time": "Atlantic/Azores",
  "Cape Verde Standard Time": "Atlantic/Cape_Verde",
  "GMT Standard Time": "Europe/London",
  "Greenwich Standard Time": "Atlantic/Reykjavik",
  "Morocco Standard Time": "Africa/Casablanca",
  "W. Europe Standard Time": "Europe/Berlin",
  "Central Europe Standard Time": "Europe/Budapest",
  "Romance Standard Time": "Europe/Paris",
  "Central European Standard Time": "Europe/Warsaw",
  "W. Central Africa Standard Time": "Africa/Lagos",
  "Jordan Standard Time": "Asia/Amman",
  "GTB Standard Time": "Europe/Bucharest",
  "Middle East Standard Time": "Asia/Beirut",
  "Egypt Standard Time": "Africa/Cairo",
  "E. Europe Standard Time": "Europe/Chisinau",
  "Syria Standard Time": "Asia/Damascus",
  "South Africa Standard Time": "Africa/Johannesburg",
  "FLE Standard Time": "Europe/Kiev",
  "Israel Standard Time": "Asia/Jerusalem",
  "Kaliningrad Standard Time": "Europe/Kaliningrad",
  "Arabic Standard Time": "Asia/Baghdad",
  "Turkey Standard Time": "Europe/Istanbul",
  "Arab Standard Time": "Asia/Riyadh",
  "Belarus Standard Time": "Europe/Minsk",
  "Russian Standard Time": "Europe/Moscow",
  "E. Africa Standard Time": "Africa/Nairobi",
  "Iran Standard Time": "Asia/Tehran",
  "Arabian Standard Time": "Asia/Dubai",
  "Azerbaijan Standard Time": "Asia/Baku",
  "Georgian Standard Time": "Asia/Tbilisi",
  "Caucasus Standard Time": "Asia/Yerevan",
  "Afghanistan Standard Time": "Asia/Kabul",
  "Ekaterinburg Standard Time": "Asia/Yekaterinburg",
  "Pakistan Standard Time": "Asia/Karachi",
  "West Asia Standard Time": "Asia/Tashkent",
  "India Standard Time": "Asia/Calcutta",
  "Sri Lanka Standard Time": "Asia/Colombo",
  "Nepal Standard Time": "Asia/Katmandu",
  "Central Asia Standard Time": "Asia/Almaty",
  "Bangladesh Standard Time": "Asia/Dhaka",
  "Myanmar Standard Time": "Asia/Rangoon",
  "SE Asia Standard Time": "Asia/Bangkok",
  "N. Central Asia Standard Time": "Asia/Novosibirsk",
  "North Asia Standard Time": "Asia/Krasnoyarsk",
  "China Standard Time": "Asia/Shanghai",
  "North Asia East Standard Time": "Asia/Irkutsk",
  "Singapore Standard Time": "Asia/Singapore",
  "W. Australia Standard Time": "Australia/Perth",
  "Taipei Standard Time": "Asia/Taipei",
  "Tokyo Standard Time": "Asia/Tokyo",
  "Korea Standard Time": "Asia/Seoul",
  "Yakutsk Standard Time": "Asia/Yakutsk",
  "Cen. Australia Standard Time": "Australia/Adelaide",
  "AUS Central Standard Time": "Australia/Darwin",
  "E. Australia Standard Time": "Australia/Brisbane",
  "AUS Eastern Standard Time": "Australia/Sydney",
  "Tasmania Standard Time": "Australia/Hobart",
  "Vladivostok Standard Time": "Asia/Vladivostok",
  "UTC+12": "Etc/GMT-12",
  "New Zealand Standard Time": "Pacific/Auckland",
  "Fiji Standard Time": "Pacific/Fiji",
  "Tonga Standard Time": "Pacific/Tongatapu",
  "Samoa Standard Time": "Pacific/Apia",
};

/** The Windows names ianaNameOf knows, for tests that check every mapping is a real zone. */
export const WINDOWS_ZONE_NAMES: readonly string[] = Object.keys(WINDOWS_ZONES);
