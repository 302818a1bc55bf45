/**
 * An ICS feed (a published calendar: a timetable, TripIt, an Outlook "publish calendar" link)
 * as groups of VEVENTs: unlike a CalDAV resource, a feed is one VCALENDAR holding every event,
 * so it is split per UID (a master and its overrides) and each group is read like a resource
 * (readEventGroup) with the feed's VTIMEZONEs. Each group also has a content fingerprint, for
 * feeds that give every event a new UID on every fetch (lib/ics/feed_identity.ts).
 */
import ICAL from "ical.js";
import { parseCalendar } from "./ical_events.ts";
import { ianaNameOf } from "./ical_zones.ts";

/** One UID's VEVENTs (master first when it has one), or one VEVENT that has no UID. */
export interface FeedGroup {
  uid?: string;
  vevents: ICAL.Component[];
  /**
   * What the series is, apart from its UID: the master's (else the first override's) start,
   * end or duration, recurrence rule and dates, and title, as the feed wrote them.
   */
  content: string;
}

export interface Feed {
  root: ICAL.Component;
  /** X-WR-CALNAME, the name most publishers give their feed. */
  name?: string;
  /** X-WR-TIMEZONE as an IANA zone: floating times and all-day dates are placed in it. */
  timeZone?: string;
  /** In the order the feed first names them. */
  groups: FeedGroup[];
  /** VEVENTs in the feed, cancelled ones and those outside any window included. */
  eventCount: number;
}

/** The properties a series' content fingerprint is made of (RFC 5545 names). */
const CONTENT_PROPERTIES = ["dtstart", "dtend", "duration", "rrule", "rdate", "exdate", "summary"];

/**
 * Parses a feed. Throws an Error naming what is wrong when the text is not one VCALENDAR (an
 * HTML login page, a JSON error, a truncated body): such an answer is never an empty feed.
 */
export function parseFeed(ics: string): Feed {
  const root = parseCalendar(ics);
  const byUid = new Map<string, FeedGroup>();
  const groups: FeedGroup[] = [];
  const vevents = root.getAllSubcomponents("vevent");
  for (const vevent of vevents) {
    const uid = vevent.getFirstPropertyValue("uid");
    if (typeof uid !== "string" || uid === "") {
      groups.push({ vevents: [vevent], content: contentOf([vevent]) });
      continue;
    }
    let group = byUid.get(uid);
    if (!group) {
      group = { uid, vevents: [], content: "" };
      byUid.set(uid, group);
      groups.push(group);
    }
    group.vevents.push(vevent);
  }
  for (const group of byUid.values()) {
    // The master first: readEventGroup does not mind, but the fingerprint reads the first.
    group.vevents.sort((a, b) =>
      Number(a.hasProperty("recurrence-id")) - Number(b.hasProperty("recurrence-id"))
    );
    group.content = contentOf(group.vevents);
  }
  const name = textOf(root, "x-wr-calname");
  const zoneName = textOf(root, "x-wr-timezone");
  const timeZone = zoneName === undefined ? undefined : ianaNameOf(zoneName);
  return {
    root,
    ...(name ? { name } : {}),
    ...(timeZone ? { timeZone } : {}),
    groups,
    eventCount: vevents.length,
  };
}

function textOf(component: ICAL.Component, name: string): string | undefined {
  const value = component.getFirstPropertyValue(name);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * The series' defining properties as the feed wrote them (value and parameters, so a TZID
 * counts), one per line in a fixed order.
 */
function contentOf(vevents: ICAL.Component[]): string {
  const first = vevents[0];
  return CONTENT_PROPERTIES.map((name) =>
    first.getAllProperties(name).map((p) => p.toICALString()).join("\n")
  ).join("\n");
}
