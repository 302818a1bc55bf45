/**
 * A CalDAV calendar on a real server as the soak's workload and reference model see calendars:
 * the owner's edits arrive in Google's shape (an event body, a patch of one, a delete by id) and
 * are made as a CalDAV client would make them, straight at the server (never through the fault
 * proxy: the owner's own client is not busysync's network), and the calendar's objects are read
 * back as Google-shaped raw events for the model.
 *
 * The reading is this file's own, with ical.js, not lib/caldav's reader, so a bug in busysync's
 * reading cannot hide itself. What it states of CalDAV: one resource per UID named `{uid}.ics`; a
 * series is a master with one RRULE in UTC, EXDATEs for cancelled instances and RECURRENCE-ID
 * overrides for moved ones; an instance is named `{uid}:{RECURRENCE-ID in UTC}` (busysync's
 * naming, lib/caldav/ical_events.ts, which mirrors carry as their source event). Changing a
 * series' times drops its overrides and EXDATEs, as Google does with a series' exceptions.
 * Invitations, declines, splits, purges and restores are Google's; the workload makes something
 * else here.
 */
import ICAL from "ical.js";
import { decodeMarkerValue, privatePropKey } from "../../lib/ical/ical_marker.ts";
import { listEventObjects } from "../../lib/caldav/dav_query.ts";
import type { RawEvent } from "../sync/support.ts";
import { basic, type CalDavUser } from "../support/caldav_servers.ts";
import type { EventStore } from "./event_store.ts";

/** The instance id's separator between resource key and RECURRENCE-ID. */
export const CALDAV_INSTANCE_SEPARATOR = ":";

/** `20261205T090000Z` for an instant. */
const basicUtc = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");

/** The instant a Google time body names (`dateTime` with an offset, or wall time + zone). */
function instantOf(t: { dateTime: string; timeZone?: string }): number {
  if (/(?:Z|[+-]\d{2}:\d{2})$/.test(t.dateTime)) return Date.parse(t.dateTime);
  return Temporal.PlainDateTime.from(t.dateTime).toZonedDateTime(t.timeZone ?? "UTC")
    .epochMilliseconds;
}

function icalTime(t: { date?: string; dateTime?: string; timeZone?: string }): ICAL.Time {
  if (t.date !== undefined) return ICAL.Time.fromDateString(t.date);
  return ICAL.Time.fromJSDate(new Date(instantOf(t as { dateTime: string })), true);
}

/** A time as Google shows it: a date, or an instant in UTC. */
function googleTime(time: ICAL.Time): { date: string } | { dateTime: string } {
  if (time.isDate) return { date: time.toString() };
  return { dateTime: time.toJSDate().toISOString() };
}

function setTime(vevent: ICAL.Component, name: "dtstart" | "dtend", t: ICAL.Time) {
  vevent.removeAllProperties(name);
  vevent.addPropertyWithValue(name, t);
}

/**
 * Sets what a Google body or patch says of one VEVENT: title (blank: none), times, free/busy and
 * status. Fields a body leaves out stay as they are.
 */
function apply(vevent: ICAL.Component, body: RawEvent): void {
  if ("summary" in body) {
    vevent.removeAllProperties("summary");
    if (body.summary.trim() !== "") vevent.addPropertyWithValue("summary", body.summary);
  }
  if (body.start) setTime(vevent, "dtstart", icalTime(body.start));
  if (body.end) setTime(vevent, "dtend", icalTime(body.end));
  if (body.transparency) {
    vevent.updatePropertyWithValue(
      "transp",
      body.transparency === "transparent" ? "TRANSPARENT" : "OPAQUE",
    );
  }
}

function stampOf(vevent: ICAL.Component) {
  vevent.updatePropertyWithValue("dtstamp", ICAL.Time.fromJSDate(new Date(), true));
}

/** Creates a CalDAV event store for `calendarUrl` (on the server, not the proxy) as `user`. */
export function caldavEventStore(calendarUrl: string, user: CalDavUser): EventStore {
  const auth = { authorization: basic(user) };
  const made = new Set<string>();
  const removed = new Set<string>();
  let counter = 0;

  const hrefOf = (key: string) => new URL(`${key}.ics`, calendarUrl).href;
  const send = async (method: string, key: string, init: RequestInit = {}) => {
    const response = await fetch(hrefOf(key), {
      ...init,
      method,
      headers: { ...auth, ...init.headers as Record<string, string> },
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${key}.ics answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return { text, etag: response.headers.get("etag") };
  };
  const put = (key: string, calendar: ICAL.Component, condition: Record<string, string>) =>
    send("PUT", key, {
      headers: { "content-type": "text/calendar; charset=utf-8", ...condition },
      body: calendar.toString() + "\r\n",
    });
  /** Reads a resource, changes it and writes it back only if nobody changed it meanwhile. */
  const edit = async (key: string, change: (calendar: ICAL.Component) => void) => {
    const { text, etag } = await send("GET", key);
    const calendar = new ICAL.Component(ICAL.parse(text));
    change(calendar);
    await put(key, calendar, etag ? { "if-match": etag } : {});
  };

  async function rawEvents(): Promise<RawEvent[]> {
    const client = { fetch, username: user.username, password: user.password };
    const out: RawEvent[] = [];
    for (const object of await listEventObjects(client, calendarUrl)) {
      const path = new URL(object.href).pathname;
      const key = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)).replace(/\.ics$/, "");
      out.push(...eventsOf(key, new ICAL.Component(ICAL.parse(object.calendarData))));
    }
    return out;
  }

  async function add(body: RawEvent): Promise<void> {
    const key = `soak${++counter}x${crypto.randomUUID().slice(0, 8)}`;
    const calendar = new ICAL.Component("vcalendar");
    calendar.addPropertyWithValue("prodid", "-//busysync//soak owner//EN");
    calendar.addPropertyWithValue("version", "2.0");
    const vevent = new ICAL.Component("vevent");
    vevent.addPropertyWithValue("uid", key);
    stampOf(vevent);
    apply(vevent, body);
    for (const line of body.recurrence ?? []) {
      vevent.addPropertyWithValue("rrule", ICAL.Recur.fromString(line.replace(/^RRULE:/, "")));
    }
    calendar.addSubcomponent(vevent);
    await put(key, calendar, { "if-none-match": "*" });
    made.add(key);
  }

  async function patch(id: string, body: RawEvent): Promise<void> {
    const [key, rid] = id.split(CALDAV_INSTANCE_SEPARATOR);
    await edit(key, (calendar) => {
      const vevents = calendar.getAllSubcomponents("vevent");
      const master = vevents.find((v) => !v.hasProperty("recurrence-id"))!;
      if (rid === undefined) {
        if (master.hasProperty("rrule") && (body.start || body.end)) {
          for (const v of vevents) if (v !== master) calendar.removeSubcomponent(v);
          master.removeAllProperties("exdate");
        }
        apply(master, body);
        stampOf(master);
        return;
      }
      let override = vevents.find((v) => ridOf(v) === rid);
      if (!override) {
        override = ICAL.Component.fromString(master.toString());
        override.removeAllProperties("rrule");
        override.removeAllProperties("exdate");
        const start = instanceStart(rid);
        const length = timeOf(master, "dtend").toUnixTime() -
          timeOf(master, "dtstart").toUnixTime();
        override.addPropertyWithValue("recurrence-id", start);
        setTime(override, "dtstart", start);
        setTime(
          override,
          "dtend",
          ICAL.Time.fromJSDate(new Date((start.toUnixTime() + length) * 1000), true),
        );
        calendar.addSubcomponent(override);
      }
      apply(override, body);
      stampOf(override);
    });
  }

  async function remove(id: string): Promise<void> {
    const [key, rid] = id.split(CALDAV_INSTANCE_SEPARATOR);
    if (rid === undefined) {
      await send("DELETE", key);
      removed.add(key);
      return;
    }
    await edit(key, (calendar) => {
      const vevents = calendar.getAllSubcomponents("vevent");
      for (const v of vevents) if (ridOf(v) === rid) calendar.removeSubcomponent(v);
      const master = vevents.find((v) => !v.hasProperty("recurrence-id"))!;
      master.addPropertyWithValue("exdate", instanceStart(rid));
      stampOf(master);
    });
  }

  async function lost(): Promise<number> {
    const present = new Set((await rawEvents()).map((e) => e.id));
    return [...made].filter((k) => !removed.has(k) && !present.has(k)).length;
  }

  return { rawEvents, add, patch, remove, lost, unsupported: CALDAV_UNSUPPORTED };
}

/** The workload's changes a CalDAV owner cannot make as Google's UI does. */
const CALDAV_UNSUPPORTED = new Set(
  ["invite", "decline", "splitSeries", "purge", "restore"] as const,
);

function instanceStart(rid: string): ICAL.Time {
  const iso = rid.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z");
  return ICAL.Time.fromJSDate(new Date(iso), true);
}

function ridOf(vevent: ICAL.Component): string | undefined {
  return vevent.hasProperty("recurrence-id")
    ? basicUtc(timeOf(vevent, "recurrence-id").toJSDate().getTime())
    : undefined;
}

/** A time property every VEVENT the soak reads has (the servers refuse objects without). */
function timeOf(vevent: ICAL.Component, name: string): ICAL.Time {
  const value = vevent.getFirstPropertyValue(name);
  if (!(value instanceof ICAL.Time)) throw new Error(`a VEVENT without a ${name} time`);
  return value;
}

/** One resource's VEVENTs as Google-shaped raw events (a series' EXDATEs as cancelled ones). */
function eventsOf(key: string, calendar: ICAL.Component): RawEvent[] {
  const out: RawEvent[] = [];
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const rid = ridOf(vevent);
    const start = timeOf(vevent, "dtstart");
    const end = timeOf(vevent, "dtend");
    const summary = vevent.getFirstPropertyValue("summary") as string | null;
    const privateProps: Record<string, string> = {};
    for (const property of vevent.getAllProperties()) {
      const name = privatePropKey(property.name);
      const value = name && decodeMarkerValue(String(property.getFirstValue()));
      if (name && value !== undefined) privateProps[name] = value;
    }
    const rrule = vevent.getFirstPropertyValue("rrule") as ICAL.Recur | null;
    const event: RawEvent = {
      id: rid === undefined ? key : `${key}${CALDAV_INSTANCE_SEPARATOR}${rid}`,
      status: vevent.getFirstPropertyValue("status") === "CANCELLED" ? "cancelled" : "confirmed",
      ...(summary !== null ? { summary } : {}),
      start: rrule ? { ...googleTime(start), timeZone: "UTC" } : googleTime(start),
      end: googleTime(end),
      ...(vevent.getFirstPropertyValue("transp") === "TRANSPARENT"
        ? { transparency: "transparent" }
        : {}),
      ...(Object.keys(privateProps).length
        ? { extendedProperties: { private: privateProps } }
        : {}),
      ...(rrule
        ? {
          recurrence: [`RRULE:${rrule.toString()}`],
          instanceSeparator: CALDAV_INSTANCE_SEPARATOR,
        }
        : {}),
      ...(rid !== undefined
        ? {
          recurringEventId: key,
          originalStartTime: googleTime(timeOf(vevent, "recurrence-id")),
        }
        : {}),
    };
    out.push(event);
    for (const exdate of vevent.getAllProperties("exdate")) {
      for (const value of exdate.getValues() as ICAL.Time[]) {
        const at = value.toJSDate().getTime();
        out.push({
          id: `${key}${CALDAV_INSTANCE_SEPARATOR}${basicUtc(at)}`,
          recurringEventId: key,
          status: "cancelled",
          originalStartTime: { dateTime: new Date(at).toISOString() },
        });
      }
    }
  }
  return out;
}
