/**
 * The reliability suite's reference model: from the raw events the emulator stores (cancelled
 * ones and instance exceptions included) and the rules, the exact set of mirrors every target
 * must hold, and a comparison of that set with the mirrors the targets do hold.
 *
 * It is written from Google's and the rule's documented behaviour, not from the engine: nothing
 * here imports lib/sync/mirror.ts, plan.ts or filters.ts, so a bug shared with the engine cannot
 * hide itself. It states only what the suite's rules use, and throws on anything else:
 * privacy `busy` or `title`, the default filters (with `skipAllDay` and `skipInvitedInTarget`
 * either way), no working hours or summary pattern, and timed series that repeat daily or
 * weekly, a number of times or until a time (what a "this and following" split leaves), read
 * with npm `rrule`.
 *
 * Groups are stated from the issue's words, not from lib/model/group_edges.ts: every real event
 * of a member is one busy block in every other member the calendar list does not show as
 * read-only, with the group's settings and the source member's privacy if it has its own; a
 * block is never carried further, by the group or by a rule that reads a member. Groups that
 * adopted rules' mirrors are not stated.
 *
 * A mirror is recognised by its `busysync: "1"` private property (the suite never copies one by
 * hand) and mapped back to its source through its `busysyncRule`/`busysyncSource`/
 * `busysyncEvent` values.
 */
import type { Group } from "../../lib/model/group.ts";
import type { Rule } from "../../lib/model/rule.ts";
import type { RawEvent } from "../sync/support.ts";
import rrule from "rrule";

const { RRule } = rrule;

const DAY = 86_400_000;

/** One calendar as the emulator stores it. */
export interface CalendarState {
  id: string;
  /** Where its all-day events sit on the timeline (Google: the calendar's zone). */
  timeZone: string;
  /** Every stored event, cancelled ones and exceptions included. */
  events: RawEvent[];
}

/** A mirror the model expects: in `target`, for `sourceEvent` of `source` on `ruleId`. */
export interface ExpectedMirror {
  target: string;
  /** The rule's or the group's id. */
  ruleId: string;
  source: string;
  sourceEvent: string;
  summary: string;
  /** `instant:<epoch ms>` for a timed event, `date:<yyyy-mm-dd>` for an all-day one. */
  start: string;
  end: string;
}

/** How far the targets are from the model. */
export interface Verdict {
  expected: number;
  live: number;
  /** Extra live mirrors of one (target, rule, source event), beyond the first. */
  duplicates: number;
  /** Expected mirrors with no live mirror. */
  missing: number;
  /** Live mirrors at the wrong time or with the wrong summary, or with no source that wants one. */
  stale: number;
  /** The first few differences, for a failure message. */
  problems: string[];
}

/** A series' rule as the model states it: one `RRULE`, daily or weekly, maybe bounded. */
interface StatedRule {
  freq: "DAILY" | "WEEKLY";
  interval: number;
  count?: number;
  /** UNTIL as an instant (inclusive, RFC 5545). */
  until?: number;
}

/**
 * The series' rule, when it is one the model states: `RRULE:FREQ=DAILY|WEEKLY` with an optional
 * `INTERVAL` and at most one of `COUNT` and `UNTIL=<UTC time>` (Google's form after a "this and
 * following" split). Anything else throws.
 */
function statedRule(event: RawEvent): StatedRule {
  const lines: string[] = event.recurrence;
  const unsupported = () =>
    new Error(`reference model: unsupported recurrence ${lines.join(" ")} of ${event.id}`);
  const match = lines.length === 1 ? /^RRULE:(.+)$/.exec(lines[0]) : null;
  if (!match) throw unsupported();
  const fields = new Map<string, string>();
  for (const part of match[1].split(";")) {
    const [key, value, ...rest] = part.split("=");
    if (rest.length || value === undefined || fields.has(key)) throw unsupported();
    fields.set(key, value);
  }
  const freq = fields.get("FREQ");
  const count = fields.get("COUNT");
  const until = fields.get("UNTIL");
  const interval = fields.get("INTERVAL") ?? "1";
  const known = [...fields.keys()].every((k) => ["FREQ", "INTERVAL", "COUNT", "UNTIL"].includes(k));
  if (
    !known || (freq !== "DAILY" && freq !== "WEEKLY") || (count && until) ||
    !/^[1-9]\d*$/.test(interval) || (count !== undefined && !/^[1-9]\d*$/.test(count)) ||
    (until !== undefined && !/^\d{8}T\d{6}Z$/.test(until))
  ) throw unsupported();
  const untilMs = until === undefined ? undefined : Date.parse(
    until.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );
  return {
    freq,
    interval: Number(interval),
    ...(count !== undefined ? { count: Number(count) } : {}),
    ...(untilMs !== undefined ? { until: untilMs } : {}),
  };
}

/** `20261125T090000Z`: how Google names an instance by its original start in UTC. */
function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** More instances than any series of the suite has; a bound for rules without COUNT or UNTIL. */
const MAX_INSTANCES = 1_000;

/**
 * The generated instances of a series, before its exceptions replace or cancel any: the same
 * wall-clock time in the series' zone each day or week (so DST moves the instant, not the hour),
 * each as long as the first, named `{seriesId}_{original start in UTC}` (CalDAV's series say
 * `instanceSeparator: ":"`, busysync's naming there) and carrying that start
 * as `originalStartTime`. The rule runs (npm `rrule`) on wall-clock readings written as UTC
 * dates; UNTIL bounds the instants. The event's own start is always the first instance
 * (RFC 5545 §3.8.5.3), even when the rule would not make it.
 */
export function seriesInstances(series: RawEvent): RawEvent[] {
  if (!series.start.dateTime || !series.start.timeZone) {
    throw new Error(`reference model: series ${series.id} is not a timed series with a zone`);
  }
  const rule = statedRule(series);
  const zone: string = series.start.timeZone;
  const firstStart = Date.parse(series.start.dateTime);
  const length = Date.parse(series.end.dateTime) - firstStart;
  const wall = Temporal.Instant.fromEpochMilliseconds(firstStart).toZonedDateTimeISO(zone)
    .toPlainDateTime();
  const toInstant = (floating: Date) =>
    Temporal.Instant.fromEpochMilliseconds(floating.getTime()).toZonedDateTimeISO("UTC")
      .toPlainDateTime().toZonedDateTime(zone).epochMilliseconds;
  const generator = new RRule({
    freq: rule.freq === "DAILY" ? RRule.DAILY : RRule.WEEKLY,
    interval: rule.interval,
    dtstart: new Date(wall.toZonedDateTime("UTC").epochMilliseconds),
    ...(rule.count !== undefined ? { count: rule.count } : {}),
  });
  const starts = generator
    .all((d, i) => i < MAX_INSTANCES && (rule.until === undefined || toInstant(d) <= rule.until))
    .map(toInstant);
  if (!starts.includes(firstStart)) starts.unshift(firstStart);
  const { recurrence: _, instanceSeparator = "_", ...fields } = series;
  return starts.map((start) => ({
    ...fields,
    id: `${series.id}${instanceSeparator}${compactUtc(start)}`,
    recurringEventId: series.id,
    originalStartTime: { dateTime: new Date(start).toISOString(), timeZone: zone },
    start: { dateTime: new Date(start).toISOString() },
    end: { dateTime: new Date(start + length).toISOString() },
  }));
}

/**
 * What a calendar holds, series expanded: live single events, and the instances of live series
 * with each edited instance replaced by its exception and cancelled ones left out. A deleted
 * series takes its exceptions with it.
 */
export function liveOccurrences(events: readonly RawEvent[]): RawEvent[] {
  const exceptions = new Map<string, RawEvent>();
  for (const e of events) if (e.recurringEventId) exceptions.set(e.id, e);
  const out: RawEvent[] = [];
  for (const event of events) {
    if (event.status === "cancelled" || event.recurringEventId) continue;
    if (!event.recurrence) {
      out.push(event);
      continue;
    }
    for (const instance of seriesInstances(event)) {
      const exception = exceptions.get(instance.id);
      if (!exception) out.push(instance);
      else if (exception.status !== "cancelled") out.push(exception);
    }
  }
  return out;
}

const isMirror = (e: RawEvent) => e.extendedProperties?.private?.busysync === "1";

/** A time as one comparable string: an instant for timed events, the date for all-day ones. */
function timeKey(t: { date?: string; dateTime?: string }): string {
  return t.date !== undefined ? `date:${t.date}` : `instant:${Date.parse(t.dateTime!)}`;
}

/** An event's [start, end) in epoch ms; all-day dates begin at midnight in `zone`. */
function span(e: RawEvent, zone: string): [number, number] {
  const at = (t: { date?: string; dateTime?: string }) =>
    t.date !== undefined
      ? Temporal.PlainDate.from(t.date).toZonedDateTime(zone).epochMilliseconds
      : Date.parse(t.dateTime!);
  return [at(e.start), at(e.end)];
}

/** The response of the attendee entry that is this calendar (Google marks it `self`). */
function ownResponse(e: RawEvent, calendarId: string): string | undefined {
  const own = (e.attendees ?? []).find((a: { email: string }) =>
    a.email.toLowerCase() === calendarId.toLowerCase()
  );
  return own?.responseStatus;
}

/** What a rule and a group share: how a mirror looks and which events get one. */
type Settings = Pick<
  Rule,
  "privacy" | "title" | "titlePrefix" | "copyPrivateTitles" | "filters" | "window"
>;

/** One way mirrors go: `from`'s events into `to`, under `ownerId` (a rule's or group's id). */
interface Direction {
  ownerId: string;
  from: string;
  to: string;
  settings: Settings;
}

const statedPrivacy = (privacy: string | undefined) =>
  privacy === undefined || privacy === "busy" || privacy === "title";

function assertStated(id: string, settings: Settings): void {
  const f = settings.filters;
  const stated = statedPrivacy(settings.privacy) && f.skipDeclined && f.skipTentative &&
    f.skipFree && !f.workingHours && f.excludeSummaryRegex === undefined;
  if (!stated) throw new Error(`reference model: ${id} uses options it does not state`);
}

/** A rule's one or two directions. */
function ruleDirections(rule: Rule): Direction[] {
  assertStated(`rule ${rule.id}`, rule);
  const [source, target] = [rule.source.calendarId, rule.target.calendarId];
  const out = [{ ownerId: rule.id, from: source, to: target, settings: rule }];
  if (rule.bidirectional) out.push({ ownerId: rule.id, from: target, to: source, settings: rule });
  return out;
}

/**
 * A group's directions: every member into every other member not in `readOnly`. A group that is
 * off wants no block (the suite turns groups off with "remove its blocks").
 */
function groupDirections(group: Group, readOnly: ReadonlySet<string>): Direction[] {
  assertStated(`group ${group.id}`, group);
  if (group.adopted.length || !group.members.every((m) => statedPrivacy(m.privacy))) {
    throw new Error(`reference model: group ${group.id} uses options it does not state`);
  }
  if (!group.enabled) return [];
  const out: Direction[] = [];
  for (const from of group.members) {
    const settings = { ...group, privacy: from.privacy ?? group.privacy };
    for (const to of group.members) {
      if (to === from || readOnly.has(to.calendar.calendarId)) continue;
      out.push({
        ownerId: group.id,
        from: from.calendar.calendarId,
        to: to.calendar.calendarId,
        settings,
      });
    }
  }
  return out;
}

/**
 * Whether an occurrence in `cal` gets a mirror on a rule or group: it is a real event (not
 * anyone's mirror), inside the window (Google's overlap: end after the window's start, start
 * before its end), and no filter keeps it out.
 */
function wanted(
  e: RawEvent,
  rule: Settings,
  cal: CalendarState,
  target: Invitations,
  now: number,
): boolean {
  if (isMirror(e)) return false;
  const [start, end] = span(e, cal.timeZone);
  const windowStart = now - rule.window.daysBack * DAY;
  const windowEnd = now + rule.window.daysAhead * DAY;
  if (end <= windowStart || start >= windowEnd) return false;
  if (rule.filters.skipAllDay && e.start.date !== undefined) return false;
  if ((rule.filters.skipEventTypes as string[]).includes(e.eventType ?? "default")) return false;
  const response = ownResponse(e, cal.id);
  if (response === "declined") return false;
  if (e.status === "tentative" || response === "tentative" || response === "needsAction") {
    return false;
  }
  if (e.transparency === "transparent") return false;
  return !(rule.filters.skipInvitedInTarget && target.invited(e));
}

/** Whether a target calendar was invited to an occurrence too. */
interface Invitations {
  invited(e: RawEvent): boolean;
}

/**
 * Google gives each invited calendar its own copy of a meeting with the same iCalUID (notes
 * §10; instances share their series' iCalUID and differ by original start). The target was
 * invited when it organises the occurrence, is a guest who has not declined, or holds a live copy
 * that is not free and not declined there.
 */
function invitationsOf(target: CalendarState): Invitations {
  const occurrence = (e: RawEvent) =>
    JSON.stringify([e.iCalUID, e.originalStartTime ? timeKey(e.originalStartTime) : null]);
  const blocking = new Set(
    liveOccurrences(target.events).filter((e) =>
      !isMirror(e) && e.iCalUID && e.transparency !== "transparent" &&
      ownResponse(e, target.id) !== "declined"
    ).map(occurrence),
  );
  const id = target.id.toLowerCase();
  return {
    invited: (e) =>
      e.organizer?.email?.toLowerCase() === id ||
      (e.attendees ?? []).some((a: { email: string; responseStatus?: string }) =>
        a.email.toLowerCase() === id && a.responseStatus !== "declined"
      ) ||
      (e.iCalUID !== undefined && blocking.has(occurrence(e))),
  };
}

/**
 * The mirrors `rules` and `groups` want, from the calendars' raw events at `now`. A rule running
 * both ways mirrors its source into its target and its target into its source; `readOnly` holds
 * the calendars the calendar list shows as read-only, which groups only read.
 */
export function expectedMirrors(
  rules: readonly Rule[],
  calendars: ReadonlyMap<string, CalendarState>,
  now: Date,
  opts: { groups?: readonly Group[]; readOnly?: ReadonlySet<string> } = {},
): ExpectedMirror[] {
  const readOnly = opts.readOnly ?? new Set();
  const directions = [
    ...rules.flatMap(ruleDirections),
    ...(opts.groups ?? []).flatMap((g) => groupDirections(g, readOnly)),
  ];
  const out: ExpectedMirror[] = [];
  for (const { ownerId, from, to, settings } of directions) {
    const cal = calendars.get(from);
    const target = calendars.get(to);
    if (!cal || !target) {
      throw new Error(`reference model: calendar ${from} or ${to} was not read`);
    }
    const invitations = invitationsOf(target);
    for (const e of liveOccurrences(cal.events)) {
      if (!wanted(e, settings, cal, invitations, now.getTime())) continue;
      // Only attendees see a private event's details: its title needs the opt-in.
      const hidden = e.visibility === "private" || e.visibility === "confidential";
      const busy = settings.privacy === "busy" || (hidden && !settings.copyPrivateTitles);
      const title = busy ? settings.title : (e.summary ?? "").trim() || settings.title;
      out.push({
        target: to,
        ruleId: ownerId,
        source: from,
        sourceEvent: e.id,
        summary: settings.titlePrefix + title,
        start: timeKey(e.start),
        end: timeKey(e.end),
      });
    }
  }
  return out;
}

const MAX_PROBLEMS = 20;

/**
 * Compares the expected mirrors with the live busysync events of every target (`targets`: the
 * raw events by calendar id, every calendar a rule writes into).
 */
export function compareMirrors(
  expected: readonly ExpectedMirror[],
  targets: ReadonlyMap<string, readonly RawEvent[]>,
): Verdict {
  // A group's mirrors in one target differ by source too: members may hold events of one id
  // (invitation copies share it).
  const keyOf = (target: string, ruleId: string, source: string, sourceEvent: string) =>
    JSON.stringify([target, ruleId, source, sourceEvent]);
  const want = new Map(
    expected.map((m) => [keyOf(m.target, m.ruleId, m.source, m.sourceEvent), m]),
  );
  const live = new Map<string, RawEvent[]>();
  for (const [target, events] of targets) {
    for (const e of events) {
      if (e.status === "cancelled" || !isMirror(e)) continue;
      const props = e.extendedProperties.private;
      // busysyncSource is "connection id:calendar id" (lib/model/calendar_ref.ts calendarKey).
      const source = String(props.busysyncSource).replace(/^[^:]*:/, "");
      const key = keyOf(target, props.busysyncRule, source, props.busysyncEvent);
      live.set(key, [...(live.get(key) ?? []), e]);
    }
  }
  const verdict: Verdict = {
    expected: want.size,
    live: [...live.values()].reduce((n, list) => n + list.length, 0),
    duplicates: 0,
    missing: 0,
    stale: 0,
    problems: [],
  };
  const problem = (text: string) => {
    if (verdict.problems.length < MAX_PROBLEMS) verdict.problems.push(text);
  };
  for (const [key, mirror] of want) {
    if (!live.has(key)) {
      verdict.missing++;
      problem(`missing ${key} (${mirror.summary} ${mirror.start})`);
    }
  }
  for (const [key, mirrors] of live) {
    if (mirrors.length > 1) {
      verdict.duplicates += mirrors.length - 1;
      problem(`duplicate ${key}: ${mirrors.map((m) => m.id).join(", ")}`);
    }
    const expectedMirror = want.get(key);
    for (const m of mirrors) {
      if (!expectedMirror) {
        verdict.stale++;
        problem(`stale ${key}: no source wants ${m.id} (${m.summary})`);
        continue;
      }
      const actual = [m.summary, timeKey(m.start), timeKey(m.end)];
      const wantedShape = [expectedMirror.summary, expectedMirror.start, expectedMirror.end];
      if (actual.some((v, i) => v !== wantedShape[i])) {
        verdict.stale++;
        problem(`stale ${key}: has ${actual.join(" ")}, wants ${wantedShape.join(" ")}`);
      }
    }
  }
  return verdict;
}
