/**
 * Time arithmetic for the emulator. Two kinds of millisecond numbers appear:
 * - an *instant* is real epoch milliseconds;
 * - a *floating* value is a wall-clock reading (in some IANA zone) stored as if it were UTC, which
 *   is how rrule expects its input and is what makes recurrence expansion DST-correct.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA name the runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock reading of `instant` in `timeZone`, as a floating value. */
export function instantToFloating(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const wholeSeconds = Date.UTC(
    parts.year,
    parts.month - 1,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  );
  return wholeSeconds + (((instant % 1000) + 1000) % 1000);
}

/** UTC offset of `timeZone` at `instant`, in ms (east positive). */
function offsetAt(instant: number, timeZone: string): number {
  return instantToFloating(instant, timeZone) - instant;
}

/**
 * The instant at which clocks in `timeZone` show `floating`. A wall time skipped by a DST jump
 * resolves with the offset in force before the jump (02:30 on spring-forward day becomes 03:30),
 * as RFC 5545 §3.3.5 prescribes; an ambiguous time takes its first occurrence.
 */
export function floatingToInstant(floating: number, timeZone: string): number {
  const before = offsetAt(floating - 86_400_000, timeZone);
  const after = offsetAt(floating + 86_400_000, timeZone);
  const candidates = [floating - before, floating - after].filter((t) =>
    instantToFloating(t, timeZone) === floating
  );
  if (candidates.length > 0) return Math.min(...candidates);
  return floating - before;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** RFC 3339 text of `instant` with the offset `timeZone` has then ("Z" for a zero offset in UTC). */
export function formatDateTime(instant: number, timeZone: string): string {
  const floating = instantToFloating(instant, timeZone);
  const offsetMinutes = Math.round((floating - instant) / 60_000);
  const d = new Date(floating);
  const local = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${
    pad(d.getUTCHours())
  }:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (offsetMinutes === 0 && timeZone === "UTC") return `${local}Z`;
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * Parses an RFC 3339 date-time. With an offset the result is an instant (`floating: false`);
 * without one it is a floating value the caller must place in a zone. Null when malformed.
 */
export function parseDateTime(text: string): { ms: number; floating: boolean } | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const base = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) +
    (frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  const check = new Date(base);
  if (check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59) {
    return null;
  }
  if (!zone) return { ms: base, floating: true };
  if (zone.toUpperCase() === "Z") return { ms: base, floating: false };
  const sign = zone[0] === "-" ? -1 : 1;
  const offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return { ms: base - offset, floating: false };
}

/** A `yyyy-mm-dd` date as the floating value of its midnight; null when malformed. */
export function parseDate(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  return new Date(ms).getUTCDate() === +m[3] ? ms : null;
}

/** The `yyyy-mm-dd` text of a floating midnight. */
export function formatDate(floating: number): string {
  const d = new Date(floating);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Compact UTC stamp `YYYYMMDDTHHMMSSZ` (used in instance ids and EXDATE values). */
export function compactUtc(instant: number): string {
  return new Date(instant).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** Compact date `YYYYMMDD` of a floating midnight. */
export function compactDate(floating: number): string {
  return formatDate(floating).replace(/-/g, "");
}
