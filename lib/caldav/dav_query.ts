/**
 * calendar-query (RFC 4791 §7.8) with its data: every event object of a calendar, or those
 * carrying a property (busysync's marker, `X-BUSYSYNC`) through a prop-filter text-match
 * (§9.7.2), which returned exactly the marked objects on Radicale, Xandikos and Cyrus (notes §5).
 * A VEVENT comp-filter is always there: iCloud refuses a calendar-query without one
 * (lfos/calcurse#60). No time-range: server-side recurrence matching differs (notes §2).
 */
import { CalDavError } from "./dav_errors.ts";
import { type ListedObject, multigetObjects } from "./dav_multiget.ts";
import { readObjectProps } from "./dav_object_props.ts";
import type { DavClient } from "./dav_transport.ts";
import { davXmlRequest, escapeXml, isMultistatus, NS, sameCollection } from "./dav_xml.ts";

/**
 * The objects of `calendarUrl` with a VEVENT whose `property` contains `value` (byte-wise,
 * collation `i;octet`), with their data (multigot when the server left it out). Throws
 * CalDavError when the server does not answer with a multistatus.
 */
export function findObjectsByProperty(
  client: DavClient,
  calendarUrl: string,
  property: string,
  value: string,
): Promise<ListedObject[]> {
  return queryEvents(
    client,
    calendarUrl,
    `<c:prop-filter name="${escapeXml(property)}">
      <c:text-match collation="i;octet">${escapeXml(value)}</c:text-match>
    </c:prop-filter>`,
  );
}

/**
 * Every object of `calendarUrl` holding a VEVENT, with its data, in one request: the full
 * listing's data where sync-collection leaves it out (Xandikos), instead of a multiget per 200
 * hrefs (bench/results/caldav_listing.json). Throws CalDavError as findObjectsByProperty does.
 */
export function listEventObjects(client: DavClient, calendarUrl: string): Promise<ListedObject[]> {
  return queryEvents(client, calendarUrl, "");
}

async function queryEvents(
  client: DavClient,
  calendarUrl: string,
  eventFilter: string,
): Promise<ListedObject[]> {
  const answer = await davXmlRequest(client, "caldav.report.query", calendarUrl, {
    method: "REPORT",
    depth: "1",
    body: `<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query ${NS}>
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
    ${eventFilter}
  </c:comp-filter></c:comp-filter></c:filter>
</c:calendar-query>`,
  });
  if (!isMultistatus(answer)) {
    throw new CalDavError(answer.status, calendarUrl, `calendar-query answered ${answer.status}`);
  }
  const found: ListedObject[] = [];
  const withoutData: string[] = [];
  for (const response of answer.responses) {
    // Some servers answer "no match" with a bare 404 response for the collection itself.
    if (sameCollection(response.href, calendarUrl)) continue;
    if (response.status < 200 || response.status >= 300) {
      throw new CalDavError(response.status, response.href, `query listed ${response.status}`);
    }
    const props = readObjectProps(response);
    if (props.calendarData === undefined) withoutData.push(response.href);
    else found.push({ href: response.href, etag: props.etag, calendarData: props.calendarData });
  }
  if (withoutData.length) {
    found.push(...(await multigetObjects(client, calendarUrl, withoutData)).objects);
  }
  return found;
}
