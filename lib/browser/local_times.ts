/**
 * Redraws the server's `<time data-format>` elements (components/LocalTime.tsx) on the
 * reader's clock: 12- or 24-hour as the browser's locale counts, zone names as it writes
 * them, in the zone the server chose (the person's setting, not the browser's zone).
 */
import { type Clock, formatDateTime, formatEventTime, zoneName } from "./format.ts";

type EventTimeValue = { date: string } | { dateTime: string };

/** Whether the browser's locale counts hours to 12 (en-US) or to 24 (en-GB, de). */
export function readerUsesHour12(): boolean {
  return new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions().hour12 ===
    true;
}

/** The reader's clock for times at `iso` in `zone`, with the zone's name in their locale. */
export function readerClock(iso: string, zone: string, withZoneName: boolean): Clock {
  return {
    hour12: readerUsesHour12(),
    zoneName: withZoneName ? zoneName(iso, zone, undefined) : undefined,
  };
}

/**
 * Rewrites the text of every `time[data-format]` under `root`. One that cannot be drawn (a zone
 * this browser's Intl does not know, a malformed element) keeps the server's text and is
 * reported on the console: it must not stop the page's islands from hydrating after it.
 */
export function localizeTimes(root: ParentNode, now = new Date()): void {
  for (const el of root.querySelectorAll<HTMLTimeElement>("time[data-format]")) {
    try {
      localizeTime(el, now);
    } catch (err) {
      console.error(`busysync: <time datetime="${el.dateTime}"> kept the server's text:`, err);
    }
  }
}

function localizeTime(el: HTMLTimeElement, now: Date): void {
  const zone = el.dataset.zone;
  if (!zone) throw new Error(`<time datetime="${el.dateTime}"> has no data-zone`);
  const clock = readerClock(el.dateTime, zone, el.dataset.zoneName !== undefined);
  el.textContent = el.dataset.format === "event"
    ? formatEventTime(
      JSON.parse(el.dataset.start ?? "") as EventTimeValue,
      JSON.parse(el.dataset.end ?? "") as EventTimeValue,
      zone,
      now,
      clock,
    )
    : formatDateTime(el.dateTime, zone, now, clock);
}
