/**
 * Dates and durations in words, shared by server-rendered pages and islands. Built from
 * `formatToParts` rather than a locale's whole pattern so the server (Deno's ICU) and the
 * browser print the very same string and hydration changes no text.
 */
import type { RunProgress } from "../model/run_progress.ts";

const partsCache = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    partsCache.set(timeZone, f);
  }
  return f;
}

type ZonedParts = ReturnType<typeof computeZonedParts>;

/** Recent answers: a page shows the same few instants (and "now") in one zone many times. */
const zonedCache = new Map<string, ZonedParts>();
const ZONED_CACHE_MAX = 2_000;

/** The wall-clock fields of `instant` in `timeZone` (formatToParts is costly, so cached). */
function zonedParts(instant: Date, timeZone: string): ZonedParts {
  const key = `${instant.getTime()}|${timeZone}`;
  let parts = zonedCache.get(key);
  if (!parts) {
    parts = computeZonedParts(instant, timeZone);
    if (zonedCache.size >= ZONED_CACHE_MAX) zonedCache.delete(zonedCache.keys().next().value!);
    zonedCache.set(key, parts);
  }
  return parts;
}

function computeZonedParts(instant: Date, timeZone: string) {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) parts[p.type] = p.value;
  return {
    weekday: parts.weekday,
    day: Number(parts.day),
    month: parts.month,
    year: Number(parts.year),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
  };
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * How a reader's clock reads: 12- or 24-hour, and the zone's name when it is to be shown.
 * The server cannot know the browser's preference; it renders 24-hour and the browser redraws
 * (lib/browser/local_times.ts).
 */
export interface Clock {
  hour12?: boolean;
  /** Appended after the time ("CET", "GMT-5"): where a reader may be in another zone. */
  zoneName?: string;
}

/** "14:05", or "2:05 PM" on a 12-hour clock, followed by the zone's name when given. */
function clockTime(p: { hour: number; minute: number }, clock: Clock): string {
  const time = clock.hour12
    ? `${p.hour % 12 || 12}:${pad(p.minute)} ${p.hour < 12 ? "AM" : "PM"}`
    : `${pad(p.hour)}:${pad(p.minute)}`;
  return clock.zoneName ? `${time} ${clock.zoneName}` : time;
}

/**
 * "Tue 24 Nov, 14:05" in `timeZone` (the year only when it is not `now`'s); on a 12-hour
 * `clock` "Tue 24 Nov, 2:05 PM", with the zone's name after it when the clock carries one.
 */
export function formatDateTime(
  iso: string,
  timeZone: string,
  now = new Date(),
  clock: Clock = {},
): string {
  const p = zonedParts(new Date(iso), timeZone);
  // "now" to the minute: years turn on a minute in every zone, and the cache then hits.
  const thisYear = zonedParts(new Date(now.getTime() - now.getTime() % 60_000), timeZone).year;
  const year = p.year === thisYear ? "" : ` ${p.year}`;
  return `${p.weekday} ${p.day} ${p.month}${year}, ${clockTime(p, clock)}`;
}

/** The time of day alone, "14:05" or "2:05 PM" (with the zone's name when the clock has one). */
export function formatTimeOfDay(iso: string, timeZone: string, clock: Clock = {}): string {
  return clockTime(zonedParts(new Date(iso), timeZone), clock);
}

/**
 * The zone's short name at `iso` as `locale` writes it ("CET" in en-GB, "GMT+1" in en-US,
 * "EST" for New York in en-US): short names depend on the locale, and on the date (summer).
 * `undefined` is the runtime's own locale: the browser's, for the reader.
 */
export function zoneName(iso: string, timeZone: string, locale: string | undefined): string {
  const parts = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" })
    .formatToParts(new Date(iso));
  return parts.find((p) => p.type === "timeZoneName")?.value ?? timeZone;
}

/**
 * When an event happens, as its calendar shows it in `timeZone`: "Tue 8 Dec, 10:00–11:00",
 * "Tue 8 Dec, 23:00 – Wed 9 Dec, 01:00", or for all-day events "Tue 8 Dec, all day" and
 * "Tue 8 Dec – Thu 10 Dec, all day" (the end date is exclusive, as calendars store it).
 */
export function formatEventTime(
  start: { date: string } | { dateTime: string },
  end: { date: string } | { dateTime: string },
  timeZone: string,
  now = new Date(),
  clock: Clock = {},
): string {
  if ("date" in start) {
    // A date is the same day everywhere: read it at noon UTC, shown in UTC.
    const first = formatDateTime(`${start.date}T12:00:00Z`, "UTC", now).split(",")[0];
    const lastIso = "date" in end
      ? new Date(Date.parse(`${end.date}T12:00:00Z`) - 86_400_000).toISOString()
      : `${start.date}T12:00:00Z`;
    const last = formatDateTime(lastIso, "UTC", now).split(",")[0];
    return `${first === last ? first : `${first} – ${last}`}, all day`;
  }
  // The zone's name once, after the whole range.
  const hours = { hour12: clock.hour12 };
  const zone = clock.zoneName ? ` ${clock.zoneName}` : "";
  const from = formatDateTime(start.dateTime, timeZone, now, hours);
  if ("date" in end) return `${from}${zone}`;
  const to = formatDateTime(end.dateTime, timeZone, now, hours);
  const [fromDay] = from.split(", ");
  const [toDay, toTime] = to.split(", ");
  return `${fromDay === toDay ? `${from}–${toTime}` : `${from} – ${to}`}${zone}`;
}

/** "just now", "5 min ago", "in 3 h", "2 days ago": for glancing, not for records. */
export function formatRelative(iso: string, now: Date): string {
  const ms = new Date(iso).getTime() - now.getTime();
  const abs = Math.abs(ms);
  if (abs < 45_000) return "just now";
  const [n, unit] = abs < 3_600_000
    ? [Math.round(abs / 60_000), "min"]
    : abs < 86_400_000
    ? [Math.round(abs / 3_600_000), "h"]
    : [Math.round(abs / 86_400_000), "day"];
  const label = unit === "day" && n !== 1 ? `${n} days` : `${n} ${unit}`;
  return ms < 0 ? `${label} ago` : `in ${label}`;
}

/** "under 0.1 s", "0.4 s", "12 s", "3 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 100) return "under 0.1 s";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * How long something has been waiting so far, for a line that ticks: "" for the first second
 * (a wait that short is no wait to report), then "3 s so far", "1 min 5 s so far".
 */
export function formatElapsed(ms: number): string {
  if (ms < 1_000) return "";
  const s = Math.floor(ms / 1000);
  return `${s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`} so far`;
}

/** "1 event", "3 events". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A run's writes added up over its rules. */
export function runTotals(
  run: { rules: { created: number; restored?: number; updated: number; deleted: number }[] },
) {
  const sum = (k: "created" | "restored" | "updated" | "deleted") =>
    run.rules.reduce((n, r) => n + (r[k] ?? 0), 0);
  return {
    created: sum("created"),
    restored: sum("restored"),
    updated: sum("updated"),
    deleted: sum("deleted"),
  };
}

/**
 * One line for a long sync: what it is doing, busy blocks written of those planned, and the
 * time left ("Mirroring the next days first… 120 of 1,000 busy blocks written, about 2 min
 * left"). The estimate is the request budget's, so it is rounded, never to the second.
 */
export function describeProgress(p: RunProgress): string {
  // Days rather than a date: the server and the browser render this alike in any locale.
  const days = p.nearestUntil
    ? Math.round((Date.parse(p.nearestUntil) - Date.parse(p.startedAt)) / 86_400_000)
    : 0;
  const stage = p.stage === "nearest"
    ? "Mirroring the next days first…"
    : days > 0
    ? `The next ${plural(days, "day")} are in place; the rest follow…`
    : "Syncing…";
  const n = (x: number) => x.toLocaleString("en");
  const left = p.remainingSeconds !== undefined && p.written < p.planned
    ? `, ${formatRemaining(p.remainingSeconds)} left`
    : "";
  return `${stage} ${n(p.written)} of ${n(p.planned)} busy blocks written ` +
    `(${n(p.listed)} events read)${left}.`;
}

/** "less than a minute", "about 3 min", "about 1 h 20 min": an estimate, rounded up. */
export function formatRemaining(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const min = Math.ceil(seconds / 60);
  return `about ${min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`}`;
}
