/**
 * Recurrence expansion. Rules are evaluated on floating wall-clock values in the series' own time
 * zone (start.timeZone, which Google requires for recurring events: notes §2), so a 09:00 weekly
 * meeting stays at 09:00 local time across DST changes. Callers turn floating starts into
 * instants with `floatingToInstant`.
 */
import rrule from "rrule";
import { badRequest } from "./google_errors.ts";
import {
  compactDate,
  compactUtc,
  floatingToInstant,
  instantToFloating,
  isValidTimeZone,
} from "./time_zones.ts";

const { RRule, RRuleSet } = rrule;
type RuleSet = InstanceType<typeof RRuleSet>;

/** Upper bound for one expansion, so a MINUTELY rule over a century cannot stall the server. */
const INSTANCE_LIMIT = 5000;
const DAY = 86_400_000;

export interface Series {
  allDay: boolean;
  /** Zone the rule is evaluated in; for all-day series the calendar's zone (unused by rules). */
  timeZone: string;
  /** Floating start of the first instance (midnight for all-day series). */
  firstStart: number;
  set: RuleSet;
}

interface ParsedValue {
  name: string;
  params: Record<string, string>;
  value: string;
}

function parseLine(line: string): ParsedValue {
  const colon = line.indexOf(":");
  if (colon < 0) throw invalidRecurrence(line);
  const [name, ...paramParts] = line.slice(0, colon).split(";");
  const params: Record<string, string> = {};
  for (const p of paramParts) {
    const [k, v] = p.split("=");
    if (!k || v === undefined) throw invalidRecurrence(line);
    params[k.toUpperCase()] = v;
  }
  return { name: name.toUpperCase(), params, value: line.slice(colon + 1) };
}

function invalidRecurrence(line: string) {
  return badRequest("invalid", `Invalid recurrence rule: ${line}`);
}

/**
 * Reads one RDATE/EXDATE value as a floating value in the series zone. `Z` values are instants,
 * `TZID=` values are wall-clock readings in that zone, bare values are already floating, and
 * `VALUE=DATE` values are floating midnights.
 */
function dateValueToFloating(
  text: string,
  params: Record<string, string>,
  seriesZone: string,
  line: string,
): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(text);
  if (!m) throw invalidRecurrence(line);
  const [, y, mo, d, h = "0", mi = "0", s = "0", z] = m;
  const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (z) return instantToFloating(wall, seriesZone);
  const tzid = params.TZID;
  if (tzid) {
    if (!isValidTimeZone(tzid)) throw invalidRecurrence(line);
    return instantToFloating(floatingToInstant(wall, tzid), seriesZone);
  }
  return wall;
}

/**
 * Where one RDATE/EXDATE value falls, as a floating value in the series zone. An all-day series
 * matches a date value against the whole day; a timed series with a bare date keeps the series'
 * time of day (both are how calendar apps read such lines).
 */
function dateValueAt(
  v: string,
  params: Record<string, string>,
  opts: { allDay: boolean; timeZone: string; firstStart: number },
  line: string,
): number {
  const floating = dateValueToFloating(v, params, opts.timeZone, line);
  if (opts.allDay) return floating - (floating % DAY);
  return /^\d{8}$/.test(v) ? floating + (opts.firstStart % DAY) : floating;
}

function parseRule(line: string, value: string, seriesZone: string, firstStart: number) {
  let options;
  try {
    options = RRule.parseString(value);
  } catch {
    throw invalidRecurrence(line);
  }
  if (options.freq === undefined) throw invalidRecurrence(line);
  // rrule reads UNTIL=...Z as a UTC instant, but the rule runs on floating values in the series
  // zone, so the bound is moved into that zone.
  if (options.until && /UNTIL=\d{8}T\d{6}Z/i.test(value)) {
    options.until = new Date(instantToFloating(options.until.getTime(), seriesZone));
  }
  return new RRule({ ...options, dtstart: new Date(firstStart) });
}

/**
 * Builds a series from `recurrence[]` lines. Throws a 400 GoogleApiError for lines Google would
 * reject (unknown names, DTSTART/DTEND, unparsable rules: notes §2).
 */
export function parseSeries(
  lines: string[],
  opts: { allDay: boolean; timeZone: string; firstStart: number },
): Series {
  const set = new RRuleSet();
  let hasRule = false;
  for (const line of lines) {
    const { name, params, value } = parseLine(line.trim());
    switch (name) {
      case "RRULE":
        set.rrule(parseRule(line, value, opts.timeZone, opts.firstStart));
        hasRule = true;
        break;
      case "EXRULE":
        set.exrule(parseRule(line, value, opts.timeZone, opts.firstStart));
        break;
      case "RDATE":
      case "EXDATE":
        for (const v of value.split(",")) {
          const at = dateValueAt(v, params, opts, line);
          if (name === "RDATE") {
            set.rdate(new Date(at));
            hasRule = true;
          } else set.exdate(new Date(at));
        }
        break;
      default:
        throw invalidRecurrence(line);
    }
  }
  if (!hasRule) throw invalidRecurrence(lines.join("\n"));
  // The first instance is always the event's own start (RFC 5545 §3.8.5.3: DTSTART is the first
  // instance even when the rule would not generate it), unless an EXDATE removes it.
  set.rdate(new Date(opts.firstStart));
  return { ...opts, set };
}

/**
 * The recurrence of a series split at its instance starting at the floating value `at` ("this
 * and following"): `ending` stops the old series before it with an UNTIL (the second before, in
 * UTC, or the day before for all-day series), `following` continues from it with what is left of
 * a COUNT. RDATEs go to the side they fall on; EXDATEs and EXRULEs to both.
 */
export function splitRecurrence(
  series: Series,
  lines: string[],
  at: number,
): { ending: string[]; following: string[] } {
  const until = series.allDay
    ? compactDate(at - DAY)
    : compactUtc(floatingToInstant(at, series.timeZone) - 1000);
  const ending: string[] = [];
  const following: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    const { name, params, value } = parseLine(line);
    if (name === "RRULE") {
      const parts = value.split(";");
      const kept = parts.filter((p) => !/^(COUNT|UNTIL)=/i.test(p));
      ending.push(`RRULE:${[...kept, `UNTIL=${until}`].join(";")}`);
      const count = parts.find((p) => /^COUNT=/i.test(p));
      const oldUntil = parts.find((p) => /^UNTIL=/i.test(p));
      let rest = oldUntil ? [...kept, oldUntil] : kept;
      if (count) {
        const used = parseRule(line, value, series.timeZone, series.firstStart).all()
          .filter((d) => d.getTime() < at).length;
        rest = [...kept, `COUNT=${Number(count.split("=")[1]) - used}`];
      }
      following.push(`RRULE:${rest.join(";")}`);
    } else if (name === "RDATE") {
      const head = line.slice(0, line.indexOf(":"));
      const values = value.split(",");
      const before = values.filter((v) => dateValueAt(v, params, series, line) < at);
      const after = values.filter((v) => !before.includes(v));
      if (before.length) ending.push(`${head}:${before.join(",")}`);
      if (after.length) following.push(`${head}:${after.join(",")}`);
    } else {
      ending.push(line);
      following.push(line);
    }
  }
  return { ending, following };
}

/**
 * Floating starts of the series' instances whose start lies in [from, to) (floating values; no
 * `from` means from the first instance on), at most INSTANCE_LIMIT of them.
 */
export function expandStarts(series: Series, from: number | undefined, to: number): number[] {
  const dates = series.set.between(
    new Date(from ?? series.firstStart - DAY),
    new Date(to),
    true,
    (_d, i) => i < INSTANCE_LIMIT,
  );
  return dates.map((d) => d.getTime()).filter((t) => (from === undefined || t >= from) && t < to);
}

/** True when the series has an instance starting exactly at the floating value `start`. */
export function hasInstanceAt(series: Series, start: number): boolean {
  return series.set.between(new Date(start), new Date(start), true).length > 0;
}

/**
 * Instance id as Google forms it: `{seriesId}_{YYYYMMDDTHHMMSSZ}` (original start in UTC) for
 * timed series, `{seriesId}_{YYYYMMDD}` for all-day series. Google does not document this format
 * (notes "Not verified"); it is what the real API returns in practice.
 */
export function instanceId(series: Series, seriesId: string, floatingStart: number): string {
  return series.allDay
    ? `${seriesId}_${compactDate(floatingStart)}`
    : `${seriesId}_${compactUtc(floatingToInstant(floatingStart, series.timeZone))}`;
}

/**
 * Splits an instance id into its series id and the instance's original floating start in the
 * series zone; null when `id` is not shaped like an instance id. Client ids are base32hex, but
 * a series split off another has the id `{oldId}_R{start}` (notes §10), so the series id is
 * everything before the last `_`.
 */
export function parseInstanceId(
  id: string,
  zoneOf: (seriesId: string) => string | undefined,
): { seriesId: string; floatingStart: number; allDay: boolean } | null {
  const m = /^(.+)_(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(id);
  if (!m) return null;
  const [, seriesId, y, mo, d, h, mi, s] = m;
  if (h === undefined) {
    return { seriesId, floatingStart: Date.UTC(+y, +mo - 1, +d), allDay: true };
  }
  const zone = zoneOf(seriesId);
  if (!zone) return null;
  const instant = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  return { seriesId, floatingStart: instantToFloating(instant, zone), allDay: false };
}
