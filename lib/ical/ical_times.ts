/**
 * The times of a VEVENT as points on the timeline: DTSTART, its end (DTEND, DURATION or RFC
 * 5545's defaults), RECURRENCE-ID, EXDATE and RDATE values. An all-day value stays a date; a
 * timed one becomes an instant and keeps its zone, because a recurrence steps on the wall clock
 * of the zone its DTSTART was written in.
 */
import ICAL from "ical.js";
import type { EventTime } from "../model/events.ts";
import { wallOf, type Zone, zoneOfProperty } from "./ical_zones.ts";

/** An all-day date, or an instant with the zone its wall clock was written in. */
export type Point =
  | { kind: "date"; date: Temporal.PlainDate }
  | { kind: "instant"; ms: number; zone: Zone };

/**
 * How long each occurrence lasts (RFC 5545 §3.8.5.3): whole days for an all-day event; for a
 * timed one, the exact time DTEND − DTSTART, or a DURATION whose days step on the wall clock
 * and whose hours, minutes and seconds are exact.
 */
export type Length =
  | { kind: "days"; days: number }
  | { kind: "timed"; days: number; ms: number };

/** A reading that may fail, with the reason in words. */
export type Read<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Where times without a zone are placed, and where VTIMEZONEs are looked up. */
export interface TimeContext {
  root: ICAL.Component;
  floatingZone: Zone;
}

const DAY_MS = 86_400_000;

/** A DATE or DATE-TIME value of `prop` as a point. */
export function pointOf(prop: ICAL.Property, value: ICAL.Time, ctx: TimeContext): Read<Point> {
  if (value.isDate) {
    return {
      ok: true,
      value: { kind: "date", date: new Temporal.PlainDate(value.year, value.month, value.day) },
    };
  }
  const zone = zoneOfProperty(prop, value, ctx.root, ctx.floatingZone);
  if (!zone.ok) return zone;
  return {
    ok: true,
    value: { kind: "instant", ms: zone.zone.toInstant(wallOf(value)), zone: zone.zone },
  };
}

/** The point of a single-valued time property (DTSTART, DTEND, RECURRENCE-ID), if present. */
export function readPoint(
  vevent: ICAL.Component,
  name: string,
  ctx: TimeContext,
): Read<Point> | undefined {
  const prop = vevent.getFirstProperty(name);
  if (!prop) return undefined;
  const value = prop.getFirstValue();
  if (!(value instanceof ICAL.Time)) {
    return { ok: false, problem: `${name.toUpperCase()} is not a date or date-time` };
  }
  return pointOf(prop, value, ctx);
}

/** DTSTART and the length of the event (or of each occurrence of a series). */
export function readStartAndLength(
  vevent: ICAL.Component,
  ctx: TimeContext,
): Read<{ start: Point; length: Length }> {
  const start = readPoint(vevent, "dtstart", ctx);
  if (!start) return { ok: false, problem: "the event has no DTSTART" };
  if (!start.ok) return start;
  const length = readLength(vevent, start.value, ctx);
  return length.ok ? { ok: true, value: { start: start.value, length: length.value } } : length;
}

function readLength(vevent: ICAL.Component, start: Point, ctx: TimeContext): Read<Length> {
  const end = readPoint(vevent, "dtend", ctx);
  if (end && !end.ok) return end;
  if (end) {
    const e = end.value;
    if (start.kind === "date" && e.kind === "date") {
      const days = start.date.until(e.date, { largestUnit: "days" }).days;
      if (days < 0) return { ok: false, problem: "the event ends before it starts" };
      // DTEND equal to an all-day DTSTART is invalid (the end is exclusive), but clients write
      // it; they mean the one day.
      return { ok: true, value: { kind: "days", days: Math.max(days, 1) } };
    }
    if (start.kind === "instant" && e.kind === "instant") {
      const ms = e.ms - start.ms;
      if (ms < 0) return { ok: false, problem: "the event ends before it starts" };
      return { ok: true, value: { kind: "timed", days: 0, ms } };
    }
    return { ok: false, problem: "DTSTART and DTEND are not both dates or both date-times" };
  }
  const duration = vevent.getFirstPropertyValue("duration");
  if (duration instanceof ICAL.Duration) {
    if (duration.isNegative) return { ok: false, problem: "the event has a negative DURATION" };
    const days = duration.weeks * 7 + duration.days;
    const ms = ((duration.hours * 60 + duration.minutes) * 60 + duration.seconds) * 1000;
    if (start.kind === "date") {
      // RFC 5545 allows only days and weeks here; a stray time part still covers its day.
      return { ok: true, value: { kind: "days", days: days + Math.ceil(ms / DAY_MS) || 1 } };
    }
    return { ok: true, value: { kind: "timed", days, ms } };
  }
  // RFC 5545 §3.6.1: without DTEND or DURATION a dated event lasts its day, a timed one no time.
  return {
    ok: true,
    value: start.kind === "date" ? { kind: "days", days: 1 } : { kind: "timed", days: 0, ms: 0 },
  };
}

/** The end of an occurrence starting at `start`; undefined when the kinds do not fit. */
export function endOf(start: Point, length: Length): Point | undefined {
  if (start.kind === "date") {
    return length.kind === "days"
      ? { kind: "date", date: start.date.add({ days: length.days }) }
      : undefined;
  }
  if (length.kind !== "timed") return undefined;
  const stepped = length.days === 0
    ? start.ms
    : start.zone.toInstant(start.zone.toWall(start.ms).add({ days: length.days }));
  return { kind: "instant", ms: stepped + length.ms, zone: start.zone };
}

/** A point as the sync core's EventTime: `{date}`, or a UTC instant with its IANA zone. */
export function eventTimeOf(point: Point): EventTime {
  if (point.kind === "date") return { date: point.date.toString() };
  const dateTime = new Date(point.ms).toISOString().replace(/\.000Z$/, "Z");
  const zone = point.zone.ianaName;
  return zone === undefined || zone === "UTC" ? { dateTime } : { dateTime, timeZone: zone };
}

/** Epoch milliseconds of a point; a date is the start of its day in `allDayZone`. */
export function instantOf(point: Point, allDayZone: Zone): number {
  return point.kind === "date" ? allDayZone.toInstant(point.date.toPlainDateTime()) : point.ms;
}

/**
 * The key that identifies an occurrence across RRULE, RDATE, EXDATE and RECURRENCE-ID whatever
 * zone each was written in: the date of an all-day one, the instant of a timed one.
 */
export function keyOf(point: Point): string {
  return point.kind === "date" ? point.date.toString() : String(point.ms);
}

/** An occurrence's part of its instance id: RFC 5545 basic format, in UTC for a timed one. */
export function basicFormatOf(point: Point): string {
  if (point.kind === "date") return point.date.toString().replaceAll("-", "");
  return new Date(point.ms).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}
