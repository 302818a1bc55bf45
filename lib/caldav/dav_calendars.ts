/**
 * The calendars in a calendar home: one Depth-1 PROPFIND with every property busysync needs,
 * including the user's privileges (tsdav's `fetchCalendars` asks for fewer and adds one request
 * per calendar for its report set, notes §3).
 */
import { z } from "zod";
import type { CalendarInfo } from "../sync/provider.ts";
import { CalDavError } from "./dav_errors.ts";
import type { DavClient } from "./dav_transport.ts";
import {
  type DavResponse,
  davXmlRequest,
  isMultistatus,
  NS,
  oneOrMany,
  optionalText,
} from "./dav_xml.ts";

/** A calendar collection as its home lists it. */
export interface DavCalendar {
  url: string;
  displayName: string;
  /** `#rrggbb` (lower case, alpha dropped), when the server keeps a colour. */
  color?: string;
  /** The components it accepts; empty when the server does not say (then: any). */
  components: string[];
  /** The TZID of its `calendar-timezone`, when it has one. */
  timeZone?: string;
  accessRole: CalendarInfo["accessRole"];
  /** Changes whenever anything in the calendar does (Apple's `getctag`). */
  ctag?: string;
  /** The calendar's current RFC 6578 sync token, when it supports sync-collection. */
  syncToken?: string;
}

/**
 * Lists the calendar collections under `homeUrl` that can hold events (VEVENT, or no component
 * set given). Throws CalDavError when the home does not answer with a multistatus.
 */
export async function listCalendars(client: DavClient, homeUrl: string): Promise<DavCalendar[]> {
  const calendars = await propfindCalendars(client, homeUrl, "1");
  return calendars.filter((c) => c.components.length === 0 || c.components.includes("VEVENT"));
}

/**
 * One calendar's properties (Depth 0): a calendar shared with the user that the home does not
 * list (Cyrus, notes §3), or a fresh ctag and sync token. Undefined when `url` is no calendar;
 * throws CalDavError when it does not answer with a multistatus (404, 403).
 */
export async function getCalendar(
  client: DavClient,
  url: string,
): Promise<DavCalendar | undefined> {
  const [calendar] = await propfindCalendars(client, url, "0");
  return calendar;
}

async function propfindCalendars(
  client: DavClient,
  url: string,
  depth: "0" | "1",
): Promise<DavCalendar[]> {
  const answer = await davXmlRequest(client, "caldav.propfind", url, {
    method: "PROPFIND",
    depth,
    body: `<?xml version="1.0" encoding="utf-8"?>
<d:propfind ${NS}><d:prop>
  <d:resourcetype/><d:displayname/><a:calendar-color/><c:supported-calendar-component-set/>
  <c:calendar-timezone/><d:current-user-privilege-set/><cs:getctag/><d:sync-token/>
</d:prop></d:propfind>`,
  });
  if (!isMultistatus(answer)) {
    throw new CalDavError(answer.status, url, `${url} answered ${answer.status} to PROPFIND`);
  }
  return answer.responses.flatMap((response) => readCalendar(response) ?? []);
}

/**
 * busysync's role for a `current-user-privilege-set` (RFC 3744 §3): `all` → owner,
 * `write`/`write-content` → writer, `read` → reader, `read-free-busy` alone → freeBusyReader.
 * Privilege names are tsdav's camel-cased local names. A server that reports no privileges at
 * all is taken as writable: a write then fails with 403 and says so, while guessing read-only
 * would hide a calendar the user can use.
 */
export function accessRoleOf(privileges: string[] | undefined): CalendarInfo["accessRole"] {
  if (privileges === undefined) return "writer";
  if (privileges.includes("all")) return "owner";
  if (privileges.includes("write") || privileges.includes("writeContent")) return "writer";
  if (privileges.includes("read")) return "reader";
  return "freeBusyReader";
}

const calendarProps = z.object({
  displayname: optionalText,
  calendarColor: optionalText,
  supportedCalendarComponentSet: z.object({
    comp: oneOrMany(z.object({ _attributes: z.object({ name: z.string() }) })).optional(),
  }).optional(),
  calendarTimezone: optionalText,
  currentUserPrivilegeSet: z.object({
    privilege: oneOrMany(z.record(z.string(), z.unknown())),
  }).optional(),
  getctag: optionalText,
  syncToken: optionalText,
});

function readCalendar(response: DavResponse): DavCalendar | undefined {
  const type = z.record(z.string(), z.unknown()).safeParse(response.props.resourcetype);
  if (!type.success || !("calendar" in type.data)) return undefined;
  const parsed = calendarProps.safeParse(response.props);
  if (!parsed.success) {
    throw new CalDavError(
      207,
      response.href,
      `unreadable calendar properties: ${parsed.error.message}`,
    );
  }
  const props = parsed.data;
  const privileges = props.currentUserPrivilegeSet?.privilege.flatMap((p) => Object.keys(p));
  return {
    url: response.href,
    displayName: props.displayname || lastSegment(response.href),
    color: hexColor(props.calendarColor),
    components: props.supportedCalendarComponentSet?.comp?.map((c) => c._attributes.name) ?? [],
    timeZone: props.calendarTimezone?.match(/^TZID:(.+?)\r?$/m)?.[1],
    accessRole: accessRoleOf(privileges),
    ctag: props.getctag,
    syncToken: props.syncToken,
  };
}

/** `#RRGGBB` or `#RRGGBBAA` (Apple's form) as `#rrggbb`; anything else is no colour. */
function hexColor(value: string | undefined): string | undefined {
  const match = value?.trim().match(/^#([0-9a-f]{6})([0-9a-f]{2})?$/i);
  return match ? `#${match[1].toLowerCase()}` : undefined;
}

function lastSegment(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/\/$/, "").split("/").at(-1) ?? url);
}
