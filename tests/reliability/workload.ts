/**
 * The soak's seeded workload: what people do to their calendars between two syncs, made through
 * the emulator's admin API (as the calendar's owner, never faulted). Each step reads the
 * calendar and changes one thing in it, choosing only among the person's own events (never a
 * mirror), so the same seed makes the same changes whatever the syncs did meanwhile.
 */
import type { RawEvent, World } from "../sync/support.ts";
import type { TestCalendar } from "./convergence.ts";
import type { Random } from "./random.ts";
import { liveOccurrences } from "./reference_model.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How often each change is made, relative to the others. */
const OP_WEIGHTS = {
  create: 20,
  createAllDay: 4,
  move: 14,
  delete: 9,
  rename: 10,
  decline: 8,
  free: 5,
  createSeries: 8,
  moveInstance: 7,
  cancelInstance: 6,
  renameSeries: 3,
  deleteSeries: 5,
} as const;
export type OpKind = keyof typeof OP_WEIGHTS;

export interface Workload {
  /** Makes one change in one of the calendars; returns what it did. */
  step(): Promise<OpKind>;
  /**
   * Live events of the people that are gone although the workload never deleted them (an
   * instance counts as deleted with its series): what busysync must never do.
   */
  countLostEvents(): Promise<number>;
}

const isMirror = (e: RawEvent) => e.extendedProperties?.private?.busysync === "1";
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A workload over `calendars`. Every time it writes lies between `origin` and 50 days after
 * it, well inside the default 60-day window, so a run a few seconds later sees the same events.
 */
export function createWorkload(
  world: World,
  random: Random,
  calendars: readonly TestCalendar[],
  origin: number,
): Workload {
  let made = 0;
  const deleted = new Set<string>();
  const name = () => `ev${++made}`;

  /** A timed event somewhere in the next 40 days on a 15-minute grid. */
  const timedSlot = () => {
    const start = origin + random.int(0, 40 * 24 * 4) * 15 * MINUTE;
    const end = start + random.pick([30, 60, 90, 120]) * MINUTE;
    return { start: { dateTime: iso(start) }, end: { dateTime: iso(end) } };
  };
  const remove = async (cal: TestCalendar, id: string) => {
    deleted.add(id);
    await world.deleteEvent(cal.ref, id);
  };

  async function step(): Promise<OpKind> {
    const cal = random.pick(calendars);
    const own = (await world.rawEvents(cal.ref)).filter((e) => !isMirror(e));
    const live = own.filter((e) => e.status !== "cancelled");
    const singles = live.filter((e) => !e.recurrence && !e.recurringEventId);
    const series = live.filter((e) => e.recurrence);
    const instances = liveOccurrences(own).filter((e) => e.recurringEventId);
    const op = random.weighted(OP_WEIGHTS);
    const needs: Partial<Record<OpKind, RawEvent[]>> = {
      move: singles,
      delete: singles,
      rename: singles,
      free: singles,
      decline: [...singles, ...instances],
      moveInstance: instances,
      cancelInstance: instances,
      renameSeries: series,
      deleteSeries: series,
    };
    const candidates = needs[op];
    // A change to an event that does not exist yet becomes the creation of one.
    if (candidates?.length === 0) {
      await world.addEvent(cal.ref, { summary: name(), ...timedSlot() });
      return "create";
    }
    const target = candidates && random.pick(candidates);
    switch (op) {
      case "create":
        await world.addEvent(cal.ref, {
          summary: name(),
          ...timedSlot(),
          ...(random.chance(0.1) ? { transparency: "transparent" } : {}),
        });
        break;
      case "createAllDay": {
        const first = new Date(origin + random.int(0, 40) * DAY).toISOString().slice(0, 10);
        const last = Temporal.PlainDate.from(first).add({ days: random.int(1, 2) }).toString();
        await world.addEvent(cal.ref, {
          summary: name(),
          start: { date: first },
          end: { date: last },
        });
        break;
      }
      case "move":
        await world.patchEvent(cal.ref, target!.id, timedSlot());
        break;
      case "delete":
      case "cancelInstance":
      case "deleteSeries":
        await remove(cal, target!.id);
        break;
      case "rename":
      case "renameSeries": {
        // Titles that are blank or padded exercise the "title" privacy's trimming and fallback.
        const summary = random.chance(0.05)
          ? ""
          : random.chance(0.1)
          ? `  ${name()} padded  `
          : name();
        await world.patchEvent(cal.ref, target!.id, { summary });
        break;
      }
      case "decline": {
        const self = (target!.attendees ?? []).find((a: { email: string }) =>
          a.email === cal.ref.calendarId
        );
        const responseStatus = self?.responseStatus === "declined" ? "accepted" : "declined";
        await world.patchEvent(cal.ref, target!.id, {
          attendees: [
            { email: "organizer@example.org", organizer: true, responseStatus: "accepted" },
            { email: cal.ref.calendarId, responseStatus },
          ],
        });
        break;
      }
      case "free":
        await world.patchEvent(cal.ref, target!.id, {
          transparency: target!.transparency === "transparent" ? "opaque" : "transparent",
        });
        break;
      case "createSeries": {
        // Wall-clock times in the calendar's zone: the series keeps its hour across DST.
        const day = Temporal.Instant.fromEpochMilliseconds(origin + random.int(0, 14) * DAY)
          .toZonedDateTimeISO(cal.timeZone).toPlainDate();
        const start = day.toPlainDateTime({
          hour: random.int(7, 18),
          minute: random.pick([0, 30]),
        });
        const end = start.add({ minutes: random.pick([30, 60, 90]) });
        await world.addEvent(cal.ref, {
          summary: name(),
          start: { dateTime: start.toString(), timeZone: cal.timeZone },
          end: { dateTime: end.toString(), timeZone: cal.timeZone },
          recurrence: [`RRULE:FREQ=WEEKLY;COUNT=${random.int(2, 6)}`],
        });
        break;
      }
      case "moveInstance": {
        const shift = random.pick([-2, -1, 1, 2, 3]) * HOUR;
        const start = Date.parse(target!.start.dateTime) + shift;
        const end = Date.parse(target!.end.dateTime) + shift;
        await world.patchEvent(cal.ref, target!.id, {
          start: { dateTime: iso(start) },
          end: { dateTime: iso(end) },
        });
        break;
      }
    }
    return op;
  }

  async function countLostEvents(): Promise<number> {
    let lost = 0;
    for (const cal of calendars) {
      for (const e of await world.rawEvents(cal.ref)) {
        if (isMirror(e) || e.status !== "cancelled" || deleted.has(e.id)) continue;
        if (e.recurringEventId && deleted.has(e.recurringEventId)) continue;
        lost++;
      }
    }
    return lost;
  }

  return { step, countLostEvents };
}
