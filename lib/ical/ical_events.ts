/**
 * A CalDAV calendar object resource as the sync core's source events. One resource holds one
 * event or one whole series: the master VEVENT and its overrides, all of one UID (RFC 4791
 * §4.1). Series are expanded here into the live instances of a window, because server-side
 * expansion differs from server to server (caldav.md §2, §5). Reading never throws on what a
 * server sent: what cannot be read comes back as a problem in words.
 */
import ICAL from "ical.js";
import type { LiveSourceEvent } from "../model/events.ts";
import { isKnownTimeZone } from "../model/time_zone.ts";
import { overlapsWindow, readEventSpan, type TimeWindow } from "../model/time_window.ts";
import type { UnreadableEvent } from "../sync/provider.ts";
import { isCancelled, readDetails } from "./ical_details.ts";
import { expandSeries } from "./ical_recurrence.ts";
import {
  basicFormatOf,
  endOf,
  eventTimeOf,
  instantOf,
  keyOf,
  type Point,
  readPoint,
  readStartAndLength,
  type TimeContext,
} from "./ical_times.ts";
import { ianaZone } from "./ical_zones.ts";

export interface ReadObjectOptions {
  /**
   * Names the resource (the provider's choice, e.g. its href's last segment): a single event's
   * id, and the series id of every instance (`{resourceKey}:{RECURRENCE-ID in UTC}`).
   */
  resourceKey: string;
  /** Instances overlapping it are returned; an unbounded series is expanded up to its end. */
  window: TimeWindow;
  /** The calendar's IANA zone: floating times and all-day dates are placed in it. */
  calendarZone: string;
  /** The calendar owner's addresses: their ATTENDEE's PARTSTAT is selfResponseStatus. */
  selfAddresses?: readonly string[];
}

/** What one calendar object resource holds. */
export interface CalendarObject {
  /**
   * False when the object, or its series as a whole, could not be read: its instances are then
   * unknown, not gone (the provider then concludes nothing about them).
   */
  readable: boolean;
  uid?: string;
  /** The live events and instances overlapping the window, soonest first. */
  events: LiveSourceEvent[];
  problems: UnreadableEvent[];
}

/**
 * Reads a calendar object resource. A CANCELLED master has no events; a CANCELLED override or
 * an EXDATE removes its instance; an override whose RECURRENCE-ID the rule does not produce is
 * still an instance (clients keep such overrides after editing the rule, and a missed busy
 * block costs more than an extra one). Throws a RangeError only for an unknown `calendarZone`.
 */
export function readCalendarObject(ics: string, opts: ReadObjectOptions): CalendarObject {
  if (!isKnownTimeZone(opts.calendarZone)) {
    throw new RangeError(`unknown calendar time zone "${opts.calendarZone}"`);
  }
  try {
    const root = parseCalendar(ics);
    return readParsed(root, root.getAllSubcomponents("vevent"), opts);
  } catch (e) {
    // ical.js reports malformed input with plain Errors, some thrown only when a value is first
    // read; catching them around one object keeps it from stopping the sync of the others, and
    // its message is kept in the problem.
    if (!(e instanceof Error)) throw e;
    return unreadable(opts.resourceKey, `the calendar object cannot be read: ${e.message}`);
  }
}

/** Parses one VCALENDAR; throws (ical.js's Error, or ours) when the text is not one. */
export function parseCalendar(ics: string): ICAL.Component {
  const parsed = ICAL.parse(ics);
  // Several top-level components come back as a list of them; a resource holds one VCALENDAR.
  const jcal = Array.isArray(parsed[0]) ? parsed[0] : parsed;
  const root = new ICAL.Component(jcal);
  if (root.name !== "vcalendar") throw new Error(`it holds ${root.name}, not VCALENDAR`);
  return root;
}

function unreadable(id: string, problem: string): CalendarObject {
  return { readable: false, events: [], problems: [{ id, problem }] };
}

/**
 * Reads `vevents` (one UID's master and overrides) of a VCALENDAR already parsed, as
 * `readCalendarObject` reads a resource: an ICS feed holds many UIDs in one calendar, and each
 * is read as its own object with the feed's VTIMEZONEs. Throws a RangeError only for an unknown
 * `calendarZone`.
 */
export function readEventGroup(
  root: ICAL.Component,
  vevents: ICAL.Component[],
  opts: ReadObjectOptions,
): CalendarObject {
  if (!isKnownTimeZone(opts.calendarZone)) {
    throw new RangeError(`unknown calendar time zone "${opts.calendarZone}"`);
  }
  try {
    return readParsed(root, vevents, opts);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return unreadable(opts.resourceKey, `the event cannot be read: ${e.message}`);
  }
}

function readParsed(
  root: ICAL.Component,
  vevents: ICAL.Component[],
  opts: ReadObjectOptions,
): CalendarObject {
  const key = opts.resourceKey;
  // A resource of VTODOs or VJOURNALs holds no events, which is not a problem.
  if (vevents.length === 0) return { readable: true, events: [], problems: [] };
  const uidOf = (v: ICAL.Component) => {
    const uid = v.getFirstPropertyValue("uid");
    return typeof uid === "string" ? uid : undefined;
  };
  const uid = uidOf(vevents[0]);
  const problems: UnreadableEvent[] = [];
  const mine = vevents.filter((v) => {
    if (uidOf(v) === uid) return true;
    problems.push({ id: key, problem: `a second UID "${uidOf(v) ?? ""}" in the same resource` });
    return false;
  });
  const masters = mine.filter((v) => !v.hasProperty("recurrence-id"));
  const overrides = mine.filter((v) => v.hasProperty("recurrence-id"));
  if (masters.length > 1) {
    problems.push({ id: key, problem: "more than one VEVENT without RECURRENCE-ID" });
  }
  const reading: Reading = {
    opts,
    ctx: { root, floatingZone: ianaZone(opts.calendarZone) },
    events: [],
    problems,
  };
  const readable = masters.length
    ? readSeries(reading, masters[0], overrides)
    : readOverrides(reading, overrides, () => false);
  const events = reading.events.sort((a, b) => byStart(a, b, opts.calendarZone));
  return { readable, ...(uid === undefined ? {} : { uid }), events, problems };
}

/** One resource being read: what it is read with, and what it gave so far. */
interface Reading {
  opts: ReadObjectOptions;
  ctx: TimeContext;
  events: LiveSourceEvent[];
  problems: UnreadableEvent[];
}

/** Reads a master and its overrides; false when the series as a whole is unreadable. */
function readSeries(r: Reading, master: ICAL.Component, overrides: ICAL.Component[]): boolean {
  const key = r.opts.resourceKey;
  const times = readStartAndLength(master, r.ctx);
  if (!times.ok) return fail(r, key, times.problem);
  if (isCancelled(master)) return true;
  const { start, length } = times.value;
  const recurring = master.hasProperty("rrule") || master.hasProperty("rdate") ||
    overrides.length > 0;
  // endOf fits: readStartAndLength gives a length of its start's kind.
  if (!recurring) {
    emit(r, master, key, start, endOf(start, length)!);
    return true;
  }
  const series = expandSeries(master, start, length, r.ctx, r.opts.window.end.getTime());
  if (!series.ok) return fail(r, key, series.problem);
  const overridden = new Set<string>();
  readOverrides(r, overrides, (rid) => {
    overridden.add(keyOf(rid));
    return series.value.isExcluded(rid);
  });
  for (const o of series.value.occurrences) {
    if (!overridden.has(keyOf(o.start))) {
      emit(r, master, instanceId(key, o.start), o.start, o.end, o.start);
    }
  }
  return true;
}

/**
 * Reads overrides as instances of the resource's series. `excluded` is told each override's
 * RECURRENCE-ID and says whether the series (its EXDATE) removed that slot, which then stays
 * removed. Problems of one override are its own: the series stays readable.
 */
function readOverrides(
  r: Reading,
  overrides: ICAL.Component[],
  excluded: (rid: Point) => boolean,
): true {
  for (const override of overrides) {
    const rid = readPoint(override, "recurrence-id", r.ctx);
    if (!rid?.ok) {
      // Without its RECURRENCE-ID an override cannot be placed in the series; the slot it
      // meant keeps the master's occurrence.
      const why = rid?.problem ?? "no RECURRENCE-ID";
      r.problems.push({ id: r.opts.resourceKey, problem: `an override is unreadable: ${why}` });
      continue;
    }
    if (excluded(rid.value)) continue;
    const id = instanceId(r.opts.resourceKey, rid.value);
    const times = readStartAndLength(override, r.ctx);
    if (!times.ok) {
      r.problems.push({ id, problem: times.problem });
      continue;
    }
    // An override is one instance: an RRULE or RDATE of its own would mean nothing.
    const { start, length } = times.value;
    emit(r, override, id, start, endOf(start, length)!, rid.value);
  }
  return true;
}

function fail(r: Reading, id: string, problem: string): false {
  r.problems.push({ id, problem });
  return false;
}

/** Adds the event or instance when it is live and overlaps the window. */
function emit(
  r: Reading,
  vevent: ICAL.Component,
  id: string,
  start: Point,
  end: Point,
  rid?: Point,
): void {
  const zone = r.ctx.floatingZone;
  const span = { start: instantOf(start, zone), end: instantOf(end, zone) };
  if (!overlapsWindow(span, r.opts.window)) return;
  const details = readDetails(vevent, r.opts.selfAddresses ?? []);
  if (details.cancelled) return;
  const { cancelled: _, ...fields } = details;
  r.events.push({
    id,
    ...(rid ? { recurringEventId: r.opts.resourceKey, originalStartTime: eventTimeOf(rid) } : {}),
    ...fields,
    start: eventTimeOf(start),
    end: eventTimeOf(end),
  });
}

/** Orders instances by start, then id: a reading of the same object always lists alike. */
function byStart(a: LiveSourceEvent, b: LiveSourceEvent, zone: string): number {
  const sa = readEventSpan(a, zone)?.start ?? 0;
  const sb = readEventSpan(b, zone)?.start ?? 0;
  return sa - sb || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** `{resourceKey}:{RECURRENCE-ID}`, the RECURRENCE-ID in UTC basic format (or a date). */
function instanceId(resourceKey: string, rid: Point): string {
  return `${resourceKey}:${basicFormatOf(rid)}`;
}
