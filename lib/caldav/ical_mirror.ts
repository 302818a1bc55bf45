/**
 * A mirror as the calendar object resource busysync PUTs (caldav.md §4): one VEVENT whose UID is
 * the mirror id, its times in UTC (no VTIMEZONE to get wrong), always busy, and never a
 * scheduling object: no ORGANIZER or ATTENDEE, or servers doing implicit scheduling (iCloud,
 * Fastmail, Nextcloud) would send invitations [RFC6638 §3]. Reading it back with
 * readCalendarObject gives the mirror that was written (ical_mirror_test.ts checks).
 */
import ICAL from "ical.js";
import type { Mirror, Visibility } from "../model/events.ts";
import { readEventSpan } from "../model/time_window.ts";
import { writeMarkerProperties } from "../ical/ical_marker.ts";

/** Names busysync as the object's author (RFC 5545 §3.7.3). */
const PRODID = "-//busysync//busysync mirror//EN";

/**
 * CLASS per visibility. "default" leaves CLASS out: the calendar's default applies, as Google's
 * `default` does, and an absent CLASS reads back as "default" (CLASS:PUBLIC would read back as
 * "public" and never match).
 */
const CLASSES: Record<Visibility, string | undefined> = {
  default: undefined,
  public: "PUBLIC",
  private: "PRIVATE",
  confidential: "CONFIDENTIAL",
};

export interface MirrorObjectOptions {
  /** DTSTAMP: when the object was made (RFC 5545 requires it). */
  now: Date;
}

/**
 * The iCalendar text of mirror `id`. No VALARM: a mirror never rings (`reminders: "none"`);
 * RFC 9074's `ACTION:NONE` alarm is not written because servers and clients that do not know it
 * may treat it as an alarm. Throws a RangeError when the mirror's times cannot be read (the core
 * builds mirrors only from readable spans) or its private properties hold a key busysync cannot
 * name (see markerPropertyName).
 */
export function buildMirrorObject(id: string, mirror: Mirror, opts: MirrorObjectOptions): string {
  const span = readEventSpan(
    { id, status: "confirmed", start: mirror.start, end: mirror.end },
    "UTC",
  );
  if (!span) throw new RangeError(`mirror ${id} has unreadable times`);
  const calendar = new ICAL.Component("vcalendar");
  calendar.addPropertyWithValue("prodid", PRODID);
  calendar.addPropertyWithValue("version", "2.0");
  const vevent = new ICAL.Component("vevent");
  vevent.addPropertyWithValue("uid", id);
  vevent.addPropertyWithValue("dtstamp", utcTime(opts.now.getTime()));
  if (span.allDay) {
    vevent.addPropertyWithValue("dtstart", ICAL.Time.fromDateString(span.startDate));
    vevent.addPropertyWithValue("dtend", ICAL.Time.fromDateString(span.endDate));
  } else {
    vevent.addPropertyWithValue("dtstart", utcTime(span.start));
    vevent.addPropertyWithValue("dtend", utcTime(span.end));
  }
  vevent.addPropertyWithValue("summary", mirror.summary);
  if (mirror.description !== undefined) {
    vevent.addPropertyWithValue("description", mirror.description);
  }
  if (mirror.location !== undefined) vevent.addPropertyWithValue("location", mirror.location);
  vevent.addPropertyWithValue("status", "CONFIRMED");
  vevent.addPropertyWithValue("transp", "OPAQUE");
  const cls = CLASSES[mirror.visibility];
  if (cls) vevent.addPropertyWithValue("class", cls);
  writeMarkerProperties(vevent, mirror.privateProps);
  calendar.addSubcomponent(vevent);
  return calendar.toString() + "\r\n";
}

function utcTime(ms: number): ICAL.Time {
  return ICAL.Time.fromJSDate(new Date(ms), true);
}
