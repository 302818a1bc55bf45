/**
 * The recurrence set of a master VEVENT up to a bound (RFC 5545 §3.8.5): DTSTART, every RRULE
 * and RDATE, minus EXDATE. ical.js steps the RRULE; everything else is matched here by instant,
 * because the parts of a series may be written in different zones (an EXDATE in UTC against a
 * DTSTART with a TZID), and a TZID without VTIMEZONE is invisible to ical.js.
 */
import ICAL from "ical.js";
import {
  endOf,
  instantOf,
  keyOf,
  type Length,
  type Point,
  pointOf,
  type Read,
  type TimeContext,
} from "./ical_times.ts";
import { wallOf } from "./ical_zones.ts";

/** One member of the recurrence set: its original start, and its end. */
export interface Occurrence {
  start: Point;
  end: Point;
}

/** The recurrence set before a bound, and the test EXDATE applies (overrides need it too). */
export interface Series {
  occurrences: Occurrence[];
  isExcluded(start: Point): boolean;
}

/**
 * Stops a rule that would step forever before reaching the bound (FREQ=SECONDLY from 1970):
 * a daily series of 270 years is still inside it.
 */
const MAX_STEPS = 100_000;
/**
 * Steps a rule whose BYMONTHDAY busysync applies may take that give nothing (an hourly rule on
 * the 1st steps through the other days' hours): a bound of its own, so they do not count against
 * MAX_STEPS, and so a long-running series still reads.
 */
const MAX_SKIPPED = 2_000_000;

/**
 * The occurrences of a series that start before `bound` (epoch ms; dates placed in
 * `ctx.floatingZone`), in no particular order, without the EXDATE'd ones. An RDATE PERIOD
 * keeps its own end; every other occurrence lasts `length`.
 */
export function expandSeries(
  master: ICAL.Component,
  start: Point,
  length: Length,
  ctx: TimeContext,
  bound: number,
): Read<Series> {
  const found = new Map<string, Occurrence>();
  const add = (s: Point, end?: Point): { ok: false; problem: string } | undefined => {
    const e = end ?? endOf(s, length);
    if (!e) return { ok: false, problem: "an occurrence mixes dates and date-times" };
    if (instantOf(s, ctx.floatingZone) < bound && !found.has(keyOf(s))) {
      found.set(keyOf(s), { start: s, end: e });
    }
  };
  // DTSTART is always the first occurrence (RFC 5545 §3.8.5.3), matched by the rule or not.
  const first = add(start);
  if (first) return first;

  for (const prop of master.getAllProperties("rrule")) {
    const recur = prop.getFirstValue();
    if (!(recur instanceof ICAL.Recur)) return { ok: false, problem: "an RRULE is unreadable" };
    const disallowed = disallowedPart(recur);
    if (disallowed) {
      return { ok: false, problem: `RFC 5545 does not allow ${disallowed}: ${recur}` };
    }
    if (neverOccurs(recur)) return { ok: false, problem: `the RRULE never occurs: ${recur}` };
    const steppable = steppableRule(recur);
    if (!steppable.ok) return steppable;
    const stepped = stepRule(steppable.value, start, ctx, bound);
    if (!stepped.ok) return stepped;
    for (const s of stepped.value) {
      const failed = add(s);
      if (failed) return failed;
    }
  }

  for (const prop of master.getAllProperties("rdate")) {
    for (const value of prop.getValues()) {
      const period = value instanceof ICAL.Period ? value : undefined;
      const time = period ? period.start : value;
      if (!(time instanceof ICAL.Time)) return { ok: false, problem: "an RDATE is unreadable" };
      const s = pointOf(prop, time, ctx);
      if (!s.ok) return s;
      let end: Point | undefined;
      if (period) {
        const periodEnd = period.getEnd();
        const e = pointOf(prop, periodEnd, ctx);
        if (!e.ok) return e;
        end = e.value;
      }
      const failed = add(s.value, end);
      if (failed) return failed;
    }
  }

  const excluded = exdateKeys(master, ctx);
  if (!excluded.ok) return excluded;
  const keys = excluded.value;
  const isExcluded = (s: Point) =>
    keys.has(keyOf(s)) ||
    (s.kind === "instant" && keys.has(s.zone.toWall(s.ms).toPlainDate().toString()));
  const occurrences = [...found.values()].filter((o) => !isExcluded(o.start));
  return { ok: true, value: { occurrences, isExcluded } };
}

/**
 * The keys EXDATE removes (see keyOf). A date EXDATE on a timed series removes that day's
 * occurrence, as clients that write one mean.
 */
function exdateKeys(master: ICAL.Component, ctx: TimeContext): Read<Set<string>> {
  const keys = new Set<string>();
  for (const prop of master.getAllProperties("exdate")) {
    for (const value of prop.getValues()) {
      if (!(value instanceof ICAL.Time)) return { ok: false, problem: "an EXDATE is unreadable" };
      const point = pointOf(prop, value, ctx);
      if (!point.ok) return point;
      keys.add(keyOf(point.value));
    }
  }
  return { ok: true, value: keys };
}

/**
 * The starts one RRULE gives before `bound`. The rule is stepped on DTSTART's wall clock as a
 * floating time (so a TZID without VTIMEZONE steps like one with), each start then placed in
 * DTSTART's zone; a UTC UNTIL is first turned into that wall clock, so the last occurrence of
 * `UNTIL=…T080000Z` at 09:00 Berlin is kept.
 */
function stepRule(
  steppable: Steppable,
  start: Point,
  ctx: TimeContext,
  bound: number,
): Read<Point[]> {
  const rule = steppable.rule.clone();
  if (rule.until) rule.until = floatingUntil(rule.until, start);
  const first = floatingTime(start);
  const iterator = rule.iterator(first);
  // ical.js counts only what the rule gives; RFC 5545 counts DTSTART as the first of COUNT
  // even when the rule does not give it, so the rule then has one occurrence fewer.
  let left = steppable.count ?? Infinity;
  const out: Point[] = [];
  let skipped = 0;
  for (let steps = 0;; steps++) {
    if (steps - skipped === MAX_STEPS || skipped === MAX_SKIPPED) {
      return { ok: false, problem: `the series repeats more than ${MAX_STEPS} times` };
    }
    const next = iterator.next();
    if (!next || left === 0) return { ok: true, value: out };
    const isStart = next.compare(first) === 0;
    if (steps === 0 && !isStart) left--;
    const point: Point = start.kind === "date"
      ? { kind: "date", date: new Temporal.PlainDate(next.year, next.month, next.day) }
      : { kind: "instant", ms: start.zone.toInstant(wallOf(next)), zone: start.zone };
    if (instantOf(point, ctx.floatingZone) >= bound) return { ok: true, value: out };
    if (!isStart && !steppable.keep(next)) {
      skipped++;
      continue;
    }
    if (left-- === 0) return { ok: true, value: out };
    out.push(point);
  }
}

/**
 * The rule as ical.js is given it to step, the COUNT it stands for, and the test for what it
 * gives that the rule itself would not (parts busysync applies instead of ical.js).
 */
interface Steppable {
  rule: ICAL.Recur;
  count: number | null;
  keep(time: ICAL.Time): boolean;
}

/** Rules whose period holds one day or less: BYMONTHDAY only limits them (RFC 5545 §3.3.10). */
const DAY_OR_SHORTER = new Set(["DAILY", "HOURLY", "MINUTELY", "SECONDLY"]);

/**
 * ical.js steps some rules forever inside one `next()`, where no step bound can stop it (a
 * daily rule limited to a negative day of the month, FREQ=DAILY;BYMONTH=6;BYMONTHDAY=-1, loops
 * on its first call). There BYMONTHDAY, a plain limit, is left out of what ical.js steps and
 * applied here, with COUNT counted here; beside BYSETPOS it is not a plain limit, so such a rule
 * is refused. Numbered weekdays no month has (6MO) are dropped for the same reason.
 */
function steppableRule(recur: ICAL.Recur): Read<Steppable> {
  const rule = recur.clone();
  const ordinalDays = rule.parts.BYDAY;
  if ((rule.freq === "MONTHLY" || rule.freq === "YEARLY" && rule.parts.BYMONTH) && ordinalDays) {
    rule.parts.BYDAY = ordinalDays.filter((d) => Math.abs(ordinalOf(d)) <= 5);
  }
  const monthDays = rule.parts.BYMONTHDAY;
  if (!DAY_OR_SHORTER.has(rule.freq) || !monthDays?.length) {
    return { ok: true, value: { rule, count: rule.count, keep: () => true } };
  }
  if (rule.parts.BYSETPOS?.length) {
    return {
      ok: false,
      problem: `BYSETPOS beside BYMONTHDAY in a ${rule.freq.toLowerCase()} rule is not ` +
        `expanded (ical.js can step it forever): ${recur}`,
    };
  }
  delete rule.parts.BYMONTHDAY;
  const count = rule.count;
  rule.count = null;
  const keep = (t: ICAL.Time) => {
    const length = ICAL.Time.daysInMonth(t.month, t.year);
    return monthDays.some((d) => (d > 0 ? d : length + d + 1) === t.day);
  };
  return { ok: true, value: { rule, count, keep } };
}

/** The number of a BYDAY entry (`-1FR` → -1, `MO` → 0). */
function ordinalOf(byDay: string): number {
  return Number(/^([+-]?\d+)/.exec(byDay)?.[1] ?? 0);
}

/**
 * A rule part RFC 5545 §3.3.10 does not allow with the rule's FREQ, in words; ical.js steps some
 * of those forever (FREQ=DAILY;BYDAY=5SU), and what they mean is anyone's guess.
 */
function disallowedPart(recur: ICAL.Recur): string | undefined {
  const { freq, parts } = recur;
  if (parts.BYWEEKNO?.length && freq !== "YEARLY") return "BYWEEKNO outside a yearly rule";
  if (parts.BYDAY?.some((d) => ordinalOf(d) !== 0)) {
    if (freq !== "MONTHLY" && freq !== "YEARLY") {
      return "numbered weekdays (such as 5SU) outside a monthly or yearly rule";
    }
    if (parts.BYWEEKNO?.length) return "numbered weekdays (such as 1MO) beside BYWEEKNO";
  }
  if (parts.BYYEARDAY?.length && ["DAILY", "WEEKLY", "MONTHLY"].includes(freq)) {
    return `BYYEARDAY in a ${freq.toLowerCase()} rule`;
  }
  if (parts.BYMONTHDAY?.length && freq === "WEEKLY") return "BYMONTHDAY in a weekly rule";
  return undefined;
}

/** The most days each month can have (February in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A rule asking for a day no month has (BYMONTH=2;BYMONTHDAY=30, the 6th Monday). ical.js gives up on such a
 * MONTHLY or YEARLY rule by itself, but steps a DAILY or shorter one forever inside one call,
 * which would hang the sync; MAX_STEPS cannot stop that, so it is caught before stepping.
 */
function neverOccurs(recur: ICAL.Recur): boolean {
  const days = recur.parts.BYDAY;
  const inMonths = recur.freq === "MONTHLY" || (recur.freq === "YEARLY" && recur.parts.BYMONTH);
  // No month has a 6th Monday (YEARLY without BYMONTH counts weekdays in the year: 53MO is fine).
  if (inMonths && days?.length && days.every((d) => Math.abs(ordinalOf(d)) > 5)) return true;
  if (recur.freq === "MONTHLY" || recur.freq === "YEARLY") return false;
  const monthDays = recur.parts.BYMONTHDAY;
  if (!monthDays?.length) return false;
  const months = recur.parts.BYMONTH?.length
    ? recur.parts.BYMONTH
    : [...MONTH_DAYS.keys()].map((m) => m + 1);
  return !months.some((m) => monthDays.some((d) => Math.abs(d) <= (MONTH_DAYS[m - 1] ?? 0)));
}

/** DTSTART as ical.js steps it: the wall clock (or date) with no zone. */
function floatingTime(start: Point): ICAL.Time {
  if (start.kind === "date") return floatingDate(start.date);
  return floatingWall(start.zone.toWall(start.ms));
}

function floatingDate(date: { year: number; month: number; day: number }): ICAL.Time {
  return ICAL.Time.fromData({ year: date.year, month: date.month, day: date.day, isDate: true });
}

function floatingWall(w: Temporal.PlainDateTime): ICAL.Time {
  return ICAL.Time.fromData({
    year: w.year,
    month: w.month,
    day: w.day,
    hour: w.hour,
    minute: w.minute,
    second: w.second,
    isDate: false,
  });
}

/**
 * UNTIL as a floating time comparable with floatingTime(start). RFC 5545 wants UNTIL of
 * DTSTART's type, UTC when DTSTART has a zone; a date UNTIL on a timed series includes its day.
 */
function floatingUntil(until: ICAL.Time, start: Point): ICAL.Time {
  if (start.kind === "date") return floatingDate(until);
  if (until.isDate) {
    return floatingWall(
      new Temporal.PlainDateTime(until.year, until.month, until.day, 23, 59, 59),
    );
  }
  if (until.zone !== ICAL.Timezone.utcTimezone) return floatingWall(wallOf(until));
  const ms = Date.UTC(
    until.year,
    until.month - 1,
    until.day,
    until.hour,
    until.minute,
    until.second,
  );
  return floatingWall(start.zone.toWall(ms));
}
