/**
 * Lays events out on a Monday-to-Sunday week in one time zone: the geometry behind the rule
 * preview's week view. Pure, so it runs the same on the server and in the browser.
 */

/** An event time as the API writes it: all-day `{ date }` or timed `{ dateTime }`. */
export type WeekTime = { date: string } | { dateTime: string; timeZone?: string };

export interface WeekItem<T> {
  start: WeekTime;
  end: WeekTime;
  data: T;
}

/** A piece of an item on one day: minutes since local midnight, or an all-day span. */
export type Placed<T> =
  | {
    allDay: false;
    day: number;
    from: number;
    to: number;
    /** Overlapping pieces share the day's width: this one is lane `lane` of `lanes`. */
    lane: number;
    lanes: number;
    data: T;
  }
  | { allDay: true; day: number; days: number; data: T };

export interface WeekLayout<T> {
  /** The week's Monday, yyyy-mm-dd in the zone. */
  monday: string;
  /** Its seven days' labels ("Mon 23"). */
  days: string[];
  /** The hours shown: 7-21 unless something falls outside. */
  firstHour: number;
  lastHour: number;
  placed: Placed<T>[];
}

const DAY_MS = 86_400_000;
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const dateParts = new Map<string, Intl.DateTimeFormat>();

/** The local date (as a UTC-midnight day number) and minute of the day of `instant` in `zone`. */
function local(instant: Date, zone: string): { dayNo: number; minute: number } {
  let f = dateParts.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    });
    dateParts.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(instant)) p[part.type] = Number(part.value);
  return {
    dayNo: Date.UTC(p.year, p.month - 1, p.day) / DAY_MS,
    minute: (p.hour % 24) * 60 + p.minute,
  };
}

const dayNoOf = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
const dateOf = (dayNo: number) => new Date(dayNo * DAY_MS).toISOString().slice(0, 10);

/** The Monday (yyyy-mm-dd) of the week holding `instant` in `zone`, moved by `weeks`. */
export function mondayOf(instant: Date, zone: string, weeks = 0): string {
  const { dayNo } = local(instant, zone);
  // Day 0 (1970-01-01) was a Thursday: Monday is 3 days before.
  const weekday = (dayNo + 3) % 7;
  return dateOf(dayNo - weekday + weeks * 7);
}

/**
 * Places each item's parts inside the week starting `monday`: a timed event crossing midnight
 * becomes one piece per day, an all-day event one span clipped to the week; what lies outside
 * the week is left out.
 */
export function layoutWeek<T>(items: WeekItem<T>[], zone: string, monday: string): WeekLayout<T> {
  const first = dayNoOf(monday);
  const placed: Placed<T>[] = [];
  let minMinute = 7 * 60;
  let maxMinute = 21 * 60;
  for (const item of items) {
    if ("date" in item.start) {
      const end = "date" in item.end ? dayNoOf(item.end.date) : dayNoOf(item.start.date) + 1;
      const from = Math.max(dayNoOf(item.start.date), first);
      const to = Math.min(end, first + 7);
      if (from < to) {
        placed.push({ allDay: true, day: from - first, days: to - from, data: item.data });
      }
      continue;
    }
    if (!("dateTime" in item.end)) continue;
    const s = local(new Date(item.start.dateTime), zone);
    const e = local(new Date(item.end.dateTime), zone);
    for (let d = Math.max(s.dayNo, first); d <= Math.min(e.dayNo, first + 6); d++) {
      const from = d === s.dayNo ? s.minute : 0;
      const to = d === e.dayNo ? e.minute : 24 * 60;
      // An event ending at midnight has no piece on the day it ends.
      if (to <= from) continue;
      placed.push({ allDay: false, day: d - first, from, to, lane: 0, lanes: 1, data: item.data });
      minMinute = Math.min(minMinute, from);
      maxMinute = Math.max(maxMinute, to);
    }
  }
  assignLanes(placed);
  return {
    monday,
    days: DAY_NAMES.map((name, i) => `${name} ${new Date((first + i) * DAY_MS).getUTCDate()}`),
    firstHour: Math.floor(minMinute / 60),
    lastHour: Math.ceil(maxMinute / 60),
    placed,
  };
}

/** "23 – 29 Nov 2026" for the week starting `monday`. */
export function weekLabel(monday: string): string {
  const start = new Date(`${monday}T00:00:00Z`);
  const end = new Date(start.getTime() + 6 * DAY_MS);
  const month = (d: Date) => MONTHS[d.getUTCMonth()];
  const head = start.getUTCMonth() === end.getUTCMonth()
    ? `${start.getUTCDate()}`
    : `${start.getUTCDate()} ${month(start)}`;
  return `${head} – ${end.getUTCDate()} ${month(end)} ${end.getUTCFullYear()}`;
}

/**
 * Gives overlapping timed pieces of a day side-by-side lanes: pieces are taken by start time,
 * each goes into the first lane free at its start, and every piece of a group of transitively
 * overlapping pieces learns how many lanes that group needed.
 */
function assignLanes<T>(placed: Placed<T>[]): void {
  const timed = placed.filter((p): p is Extract<Placed<T>, { allDay: false }> => !p.allDay)
    .sort((a, b) => a.day - b.day || a.from - b.from || b.to - a.to);
  let group: typeof timed = [];
  let laneEnds: number[] = [];
  let groupEnd = -1;
  let groupDay = -1;
  const close = () => {
    for (const p of group) p.lanes = laneEnds.length;
    group = [];
    laneEnds = [];
  };
  for (const p of timed) {
    if (p.day !== groupDay || p.from >= groupEnd) {
      close();
      groupDay = p.day;
      groupEnd = -1;
    }
    let lane = laneEnds.findIndex((end) => end <= p.from);
    if (lane === -1) lane = laneEnds.push(p.to) - 1;
    else laneEnds[lane] = p.to;
    p.lane = lane;
    group.push(p);
    groupEnd = Math.max(groupEnd, p.to);
  }
  close();
}

/** "09:30" for a minute of the day (1440 is "24:00"). */
export function formatMinutes(minute: number): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`;
}
