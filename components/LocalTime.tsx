import { formatDateTime, formatEventTime, zoneName as nameOfZone } from "../lib/browser/format.ts";

type EventTimeValue = { date: string } | { dateTime: string };

/**
 * An instant in the person's zone, as a `<time>` the boot script redraws on the reader's
 * clock (lib/browser/local_times.ts): the server cannot know whether the browser counts 12 or
 * 24 hours, so it renders 24-hour text that stands until then (and without JavaScript).
 * `zoneName` appends the zone's short name, for times a reader elsewhere could misread.
 */
export function LocalTime(
  { iso, zone, now, zoneName = false }: {
    iso: string;
    zone: string;
    now: Date;
    zoneName?: boolean;
  },
) {
  return (
    <time
      dateTime={iso}
      data-format="datetime"
      data-zone={zone}
      data-zone-name={zoneName ? "" : undefined}
    >
      {formatDateTime(iso, zone, now, {
        zoneName: zoneName ? nameOfZone(iso, zone, "en-US") : undefined,
      })}
    </time>
  );
}

/** When an event happens (formatEventTime), redrawn on the reader's clock like LocalTime. */
export function LocalEventTime(
  { start, end, zone, now }: {
    start: EventTimeValue;
    end: EventTimeValue;
    zone: string;
    now: Date;
  },
) {
  return (
    <time
      dateTime={"date" in start ? start.date : start.dateTime}
      data-format="event"
      data-zone={zone}
      data-start={JSON.stringify(start)}
      data-end={JSON.stringify(end)}
    >
      {formatEventTime(start, end, zone, now)}
    </time>
  );
}
