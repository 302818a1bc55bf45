/**
 * The fields of one VEVENT (a master or an override) other than its times, in the sync core's
 * terms, with the semantics lib/google/event_mapping.ts gives Google's: a field that is missing
 * or not understood is left out, never fatal.
 */
import ICAL from "ical.js";
import type { Attendee, LiveSourceEvent, ResponseStatus, Visibility } from "../model/events.ts";
import { readMarkerProperties } from "./ical_marker.ts";

/** What a VEVENT says besides its times and ids; `cancelled` when its STATUS is CANCELLED. */
export type Details =
  | { cancelled: true }
  | { cancelled: false }
    & Omit<
      LiveSourceEvent,
      "id" | "recurringEventId" | "originalStartTime" | "start" | "end"
    >;

/** RFC 5545 §3.2.12 PARTSTAT for a VEVENT; DELEGATED hands the seat to someone else. */
const PARTSTATS: Record<string, ResponseStatus> = {
  "NEEDS-ACTION": "needsAction",
  "ACCEPTED": "accepted",
  "DECLINED": "declined",
  "TENTATIVE": "tentative",
  "DELEGATED": "declined",
};

const CLASSES: Record<string, Visibility> = {
  "PUBLIC": "public",
  "PRIVATE": "private",
  "CONFIDENTIAL": "confidential",
};

/** Whether the VEVENT's STATUS is CANCELLED: a master so removes its series, an override its slot. */
export function isCancelled(vevent: ICAL.Component): boolean {
  return text(vevent, "status")?.toUpperCase() === "CANCELLED";
}

/**
 * Reads the details of `vevent`. `selfAddresses` are the calendar owner's addresses (compared
 * without case): their ATTENDEE's PARTSTAT is selfResponseStatus, like Google's `self: true`.
 */
export function readDetails(vevent: ICAL.Component, selfAddresses: readonly string[]): Details {
  if (isCancelled(vevent)) return { cancelled: true };
  const status = text(vevent, "status")?.toUpperCase();
  const self = new Set(selfAddresses.map((a) => a.toLowerCase()));
  const guests = attendees(vevent);
  const selfResponse = guests.find((g) => self.has(g.email.toLowerCase()))?.responseStatus;
  return compact({
    cancelled: false as const,
    // TENTATIVE and CONFIRMED are a VEVENT's other values; anything else is read as the
    // default, confirmed, as Google's absent status is.
    // Outlook marks a tentatively accepted event with its busy status, not with STATUS.
    status: status === "TENTATIVE" || busyStatus(vevent) === "TENTATIVE"
      ? "tentative" as const
      : "confirmed" as const,
    summary: text(vevent, "summary"),
    description: text(vevent, "description"),
    location: text(vevent, "location"),
    transparency: transparency(vevent),
    visibility: CLASSES[text(vevent, "class")?.toUpperCase() ?? ""],
    selfResponseStatus: selfResponse,
    iCalUID: text(vevent, "uid"),
    organizerEmail: addressOf(vevent.getFirstProperty("organizer")),
    attendees: guests.length ? guests : undefined,
    privateProps: readMarkerProperties(vevent),
    updated: updated(vevent),
  });
}

function text(vevent: ICAL.Component, name: string): string | undefined {
  const value = vevent.getFirstPropertyValue(name);
  return typeof value === "string" ? value : undefined;
}

/**
 * Outlook's and Exchange's own busy status (`X-MICROSOFT-CDO-BUSYSTATUS`), which calendars they
 * publish carry beside or instead of TRANSP; upper-cased, undefined when absent.
 */
function busyStatus(vevent: ICAL.Component): string | undefined {
  return text(vevent, "x-microsoft-cdo-busystatus")?.trim().toUpperCase() || undefined;
}

/**
 * TRANSP, unless Outlook's busy status says more: it marks a free event FREE, sometimes without
 * TRANSP:TRANSPARENT, and "working elsewhere" (WORKINGELSEWHERE) is time the person is
 * available, so both are free time; BUSY, OOF (out of office) and TENTATIVE are busy. An
 * unknown busy status leaves TRANSP to decide.
 */
function transparency(vevent: ICAL.Component): "opaque" | "transparent" | undefined {
  const transp = text(vevent, "transp")?.toUpperCase();
  const busy = busyStatus(vevent);
  if (busy === "FREE" || busy === "WORKINGELSEWHERE") return "transparent";
  if (busy === "BUSY" || busy === "OOF" || busy === "TENTATIVE") return "opaque";
  if (transp === "TRANSPARENT") return "transparent";
  return transp === "OPAQUE" ? "opaque" : undefined;
}

/**
 * The mail address of an ATTENDEE or ORGANIZER: its `mailto:` value, else its EMAIL parameter
 * (RFC 7986 §6.2), which servers add when the value is another kind of URI (`urn:uuid:`).
 */
function addressOf(prop: ICAL.Property | null): string | undefined {
  if (!prop) return undefined;
  const value = prop.getFirstValue();
  const match = typeof value === "string" ? /^mailto:(.+)$/i.exec(value.trim()) : null;
  if (match) return match[1];
  const email = prop.getParameter("email");
  return typeof email === "string" && email.includes("@") ? email : undefined;
}

/** Every ATTENDEE with a mail address; a missing PARTSTAT is NEEDS-ACTION (RFC 5545). */
function attendees(vevent: ICAL.Component): Attendee[] {
  const out: Attendee[] = [];
  for (const prop of vevent.getAllProperties("attendee")) {
    const email = addressOf(prop);
    if (email === undefined) continue;
    const partstat = prop.getParameter("partstat");
    const answer = typeof partstat === "string" ? PARTSTATS[partstat.toUpperCase()] : undefined;
    out.push({ email, responseStatus: answer ?? "needsAction" });
  }
  return out;
}

/**
 * LAST-MODIFIED, else DTSTAMP, as RFC 3339. Both are UTC by RFC 5545; a value without `Z` is
 * read as UTC too rather than in the host's zone.
 */
function updated(vevent: ICAL.Component): string | undefined {
  for (const name of ["last-modified", "dtstamp"]) {
    const t = vevent.getFirstPropertyValue(name);
    if (!(t instanceof ICAL.Time)) continue;
    const ms = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
    return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
  }
  return undefined;
}

/** Leaves out keys whose value is undefined, so an event holds only what the object said. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
