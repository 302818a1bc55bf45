/** A fetched feed's text as a feed, or an error naming the host and what came instead. */
import { type Feed, parseFeed } from "../ical/ical_feed.ts";
import { isMirrorUid } from "../sync/marker.ts";
import { FeedNotCalendarError } from "./feed_errors.ts";

/** Parses the feed `host` answered; throws FeedNotCalendarError when the text is no VCALENDAR. */
export function readFeedText(host: string, text: string): Feed {
  let feed: Feed;
  try {
    feed = parseFeed(text);
  } catch {
    // In general words: ical.js quotes the text it choked on, which may be anything.
    const why = /^\s*</.test(text) ? "a web page" : "text that is not iCalendar";
    throw new FeedNotCalendarError(host, why);
  }
  // busysync's own busy blocks, published with the calendar it wrote them into, are not events.
  return { ...feed, groups: feed.groups.filter((g) => g.uid === undefined || !isMirrorUid(g.uid)) };
}
