/**
 * The two properties every object listing asks for (sync-collection, multiget, calendar-query),
 * read through zod from tsdav's parse: `getetag` and `calendar-data` (CDATA on Cyrus).
 */
import { z } from "zod";
import { CalDavError } from "./dav_errors.ts";
import { type DavResponse, optionalText } from "./dav_xml.ts";

const objectProps = z.object({ getetag: optionalText, calendarData: optionalText });

/** The ETag and data of one listed object, each undefined when the server left it out. */
export function readObjectProps(
  response: DavResponse,
): { etag?: string; calendarData?: string } {
  const parsed = objectProps.safeParse(response.props);
  if (!parsed.success) {
    throw new CalDavError(207, response.href, `unreadable object props: ${parsed.error.message}`);
  }
  return { etag: parsed.data.getetag, calendarData: parsed.data.calendarData };
}
