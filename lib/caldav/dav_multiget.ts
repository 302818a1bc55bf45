/**
 * calendar-multiget (RFC 4791 §7.9): the data of named objects, for answers that listed hrefs
 * without it (Xandikos' sync-collection, notes §2). Batches of at most 200 hrefs, the size
 * measured in notes §6.
 */
import { CalDavError } from "./dav_errors.ts";
import type { DavClient } from "./dav_transport.ts";
import { davXmlRequest, escapeXml, hrefPath, isMultistatus, NS } from "./dav_xml.ts";
import { readObjectProps } from "./dav_object_props.ts";

export const MULTIGET_BATCH = 200;

/** An object with its data, as a REPORT lists it. */
export interface ListedObject {
  /** Absolute URL. */
  href: string;
  etag?: string;
  calendarData: string;
}

/** What a multiget found. */
export interface MultigetResult {
  objects: ListedObject[];
  /** Hrefs the server says are not there (deleted since they were listed). */
  missing: string[];
}

/**
 * Fetches `hrefs` (absolute URLs inside `calendarUrl`) in batches of MULTIGET_BATCH. Throws
 * CalDavError when a batch is not answered with a multistatus, or lists an object without data.
 */
export async function multigetObjects(
  client: DavClient,
  calendarUrl: string,
  hrefs: string[],
): Promise<MultigetResult> {
  const result: MultigetResult = { objects: [], missing: [] };
  for (let i = 0; i < hrefs.length; i += MULTIGET_BATCH) {
    const batch = hrefs.slice(i, i + MULTIGET_BATCH);
    const answer = await davXmlRequest(client, "caldav.report.multiget", calendarUrl, {
      method: "REPORT",
      depth: "1",
      body: `<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget ${NS}>
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
${batch.map((href) => `  <d:href>${escapeXml(hrefPath(href))}</d:href>`).join("\n")}
</c:calendar-multiget>`,
    });
    if (!isMultistatus(answer)) {
      throw new CalDavError(answer.status, calendarUrl, `multiget answered ${answer.status}`);
    }
    for (const response of answer.responses) {
      if (response.status === 404 || response.status === 410) {
        result.missing.push(response.href);
        continue;
      }
      const props = readObjectProps(response);
      if (props.calendarData === undefined) {
        throw new CalDavError(207, response.href, "multiget returned no calendar-data");
      }
      result.objects.push({
        href: response.href,
        etag: props.etag,
        calendarData: props.calendarData,
      });
    }
  }
  return result;
}
