/**
 * The soak's seeded workload: what people do to their calendars between two syncs, made through
 * the emulator's admin API (as the calendar's owner, never faulted). Each step reads the
 * calendar and changes one thing in it, choosing only among the person's own events (never a
 * mirror), so the same seed makes the same changes whatever the syncs did meanwhile.
 *
 * Series edits are the web UI's: a whole-series time change (`moveSeries`: Google drops the
 * series' exceptions and the instances get new ids, with no tombstones), "this and following"
 * (`splitSeries`: the old series ends with an UNTIL, an `_R` series carries on), and `purge`
 * (the deleted events of a calendar purged at once: their ids stay reserved, older sync tokens
 * die). The soak's emulator also purges every deletion shortly after it on its own; `restore`
 * takes a deleted event back out of the bin while it is still there, and a mirror of it that was
 * purged meanwhile must come back under a new id. Which deleted events are still in the bin
 * depends on time, so with purges the same seed repeats the workload only nearly.
 *
 * People also change their sync group's members (`addMember`, `removeMember`) through the store,
 * as the web app's group editor does: a member that leaves must take its blocks with it in both
 * directions, one that joins (or comes back) is filled in and fills the others.
 */
import { getGroup } from "../../lib/db/groups.ts";
import { updateGroup } from "../../lib/db/group_changes.ts";
import type { GroupMember } from "../../lib/model/group.ts";
import { isSameCalendar } from "../../lib/model/rule.ts";
import type { RawEvent, World } from "../sync/support.ts";
import type { TestCalendar } from "./convergence.ts";
import { storeOf } from "./event_store.ts";
import type { Random } from "./random.ts";
import { liveOccurrences, seriesInstances } from "./reference_model.ts";

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
  invite: 12,
  free: 5,
  createSeries: 8,
  moveInstance: 7,
  cancelInstance: 6,
  renameSeries: 3,
  deleteSeries: 5,
  moveSeries: 5,
  splitSeries: 6,
  purge: 3,
  restore: 4,
  addMember: 3,
  removeMember: 3,
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
  /** Events the `purge` steps purged (the emulator's own timed purges not included). */
  purged(): number;
  /** Adds or removes a member of the group, at a time of the soak's choosing; none: undefined. */
  changeMembers(): Promise<OpKind | undefined>;
}

const isMirror = (e: RawEvent) => e.extendedProperties?.private?.busysync === "1";
const iso = (ms: number) => new Date(ms).toISOString();
/** `20261125T090000Z`, as an RRULE's UNTIL. */
const compactUtc = (ms: number) => iso(ms).replace(/[-:]|\.\d{3}/g, "");

/** A person's sync group and the members it may have, each as it joins (privacy and all). */
export interface GroupPlay {
  userId: string;
  groupId: string;
  pool: readonly GroupMember[];
}

/** A group keeps at least this many members here (the store's minimum is 2). */
const MIN_MEMBERS = 2;

/**
 * A workload over `calendars` and `group`'s members. Every time it writes lies between `origin`
 * and 50 days after it, well inside the default 60-day window, so a run a few seconds later sees
 * the same events. Without a group, member changes become creations.
 */
export function createWorkload(
  world: World,
  random: Random,
  calendars: readonly TestCalendar[],
  origin: number,
  group?: GroupPlay,
): Workload {
  let made = 0;
  let purged = 0;
  const deleted = new Set<string>();
  const name = () => `ev${++made}`;
  const primaries = calendars.filter((c) => c.primary);
  const pickable = calendars.flatMap((c) => Array<TestCalendar>(c.weight ?? 1).fill(c));

  /** A timed event somewhere in the next 40 days on a 15-minute grid. */
  const timedSlot = () => {
    const start = origin + random.int(0, 40 * 24 * 4) * 15 * MINUTE;
    const end = start + random.pick([30, 60, 90, 120]) * MINUTE;
    return { start: { dateTime: iso(start) }, end: { dateTime: iso(end) } };
  };
  const remove = async (cal: TestCalendar, id: string) => {
    deleted.add(id);
    await storeOf(world, cal).remove(id);
  };

  /**
   * Adds a pool member that is not in the group, or removes one; a group that cannot change
   * that way (full, or at its smallest) changes the other way. Returns what it did.
   */
  async function changeMembers(
    play: GroupPlay,
    wanted: "addMember" | "removeMember",
  ): Promise<OpKind> {
    const entry = await getGroup(world.kv, play.userId, play.groupId);
    if (!entry) throw new Error(`workload: group ${play.groupId} is gone`);
    const members = entry.group.members;
    const outside = play.pool.filter((p) =>
      !members.some((m) => isSameCalendar(m.calendar, p.calendar))
    );
    const op = outside.length === 0
      ? "removeMember"
      : members.length <= MIN_MEMBERS
      ? "addMember"
      : wanted;
    const leaving = op === "removeMember" ? random.pick(members) : undefined;
    const next = leaving
      ? members.filter((m) => m !== leaving)
      : [...members, random.pick(outside)];
    await updateGroup(world.kv, play.userId, play.groupId, { members: next }, { now: new Date() });
    return op;
  }

  async function step(): Promise<OpKind> {
    const op = random.weighted(OP_WEIGHTS);
    if (group && (op === "addMember" || op === "removeMember")) {
      return await changeMembers(group, op);
    }
    const cal = random.pick(pickable);
    const store = storeOf(world, cal);
    const own = (await store.rawEvents()).filter((e) => !isMirror(e));
    const live = own.filter((e) => e.status !== "cancelled");
    const singles = live.filter((e) => !e.recurrence && !e.recurringEventId);
    // Only what the person deleted: a meeting copy its organizer took back (uninvited) is not
    // theirs to restore, and restored it would be a copy its organizer's guest list no longer
    // names, which busysync finds only by a full reconcile (tests/sync/invitations_test.ts).
    const binned = own.filter((e) =>
      e.status === "cancelled" && !e.recurrence && !e.recurringEventId && deleted.has(e.id)
    );
    const series = live.filter((e) => e.recurrence);
    // A split needs a later instance to split at.
    const splittable = series.filter((e) => seriesInstances(e).length > 1);
    const instances = liveOccurrences(own).filter((e) => e.recurringEventId);
    // Half the toggles undo an earlier one: a mirror deleted a while ago (its id maybe purged
    // since) is wanted again.
    const undo = random.chance(0.5);
    const prefer = (all: RawEvent[], undone: (e: RawEvent) => boolean) => {
      const some = all.filter(undone);
      return undo && some.length ? some : all;
    };
    const declined = (e: RawEvent) =>
      (e.attendees ?? []).some((a: { email: string; responseStatus: string }) =>
        a.email === cal.ref.calendarId && a.responseStatus === "declined"
      );
    // Only the organizer's event sends invitations; copies in a guest's calendar do not.
    const organised = singles.filter((e) => e.organizer?.email === cal.ref.calendarId);
    const needs: Partial<Record<OpKind, RawEvent[]>> = {
      invite: organised,
      move: singles,
      delete: singles,
      rename: singles,
      free: prefer(singles, (e) => e.transparency === "transparent"),
      decline: prefer([...singles, ...instances], declined),
      moveInstance: instances,
      cancelInstance: instances,
      renameSeries: series,
      deleteSeries: series,
      moveSeries: series,
      splitSeries: splittable,
      restore: binned,
      // Reached only without a group to change.
      addMember: [],
      removeMember: [],
    };
    const candidates = store.unsupported?.has(op) ? [] : needs[op];
    // A change to an event that does not exist yet, or one this service's owner cannot make,
    // becomes the creation of one.
    if (candidates?.length === 0) {
      await store.add({ summary: name(), ...timedSlot() });
      return "create";
    }
    const target = candidates && random.pick(candidates);
    switch (op) {
      case "create":
        await store.add({
          summary: name(),
          ...timedSlot(),
          ...(random.chance(0.1) ? { transparency: "transparent" } : {}),
        });
        break;
      case "createAllDay": {
        const first = new Date(origin + random.int(0, 40) * DAY).toISOString().slice(0, 10);
        const last = Temporal.PlainDate.from(first).add({ days: random.int(1, 2) }).toString();
        await store.add({
          summary: name(),
          start: { date: first },
          end: { date: last },
        });
        break;
      }
      case "move":
        await store.patch(target!.id, timedSlot());
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
        await store.patch(target!.id, { summary });
        break;
      }
      case "decline": {
        // Only this calendar's own answer changes: the rest of the guest list is the organizer's.
        const listed: { email: string; responseStatus?: string }[] = target!.attendees ?? [];
        const self = listed.find((a) => a.email === cal.ref.calendarId);
        const responseStatus = self?.responseStatus === "declined" ? "accepted" : "declined";
        const attendees = self ? listed.map((a) => a === self ? { ...a, responseStatus } : a) : [
          ...(listed.length
            ? listed
            : [{ email: "organizer@example.org", organizer: true, responseStatus: "accepted" }]),
          { email: cal.ref.calendarId, responseStatus },
        ];
        await store.patch(target!.id, { attendees });
        break;
      }
      case "invite": {
        // Invites (or uninvites) another account's address, the person's own other account's
        // too: that primary calendar gets its own copy of the meeting, with the same iCalUID.
        // Half the time everyone: both of a person's addresses get the same meeting.
        const others = primaries.filter((p) => p.ref.calendarId !== cal.ref.calendarId)
          .map((p) => p.ref.calendarId);
        const guests = random.chance(0.5) ? others : [random.pick(others)];
        const listed: { email: string }[] = target!.attendees ?? [];
        const invited = guests.every((g) => listed.some((a) => a.email === g));
        const attendees = invited ? listed.filter((a) => !guests.includes(a.email)) : [
          ...listed,
          ...guests.filter((g) => !listed.some((a) => a.email === g))
            .map((email) => ({ email })),
        ];
        await store.patch(target!.id, { attendees });
        break;
      }
      case "free":
        await store.patch(target!.id, {
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
        // Daily or weekly, a number of times or until a day (at most 5 weeks on).
        const weekly = random.chance(0.6);
        const freq = weekly
          ? "FREQ=WEEKLY"
          : `FREQ=DAILY${random.chance(0.3) ? ";INTERVAL=2" : ""}`;
        const bound = random.chance(0.6)
          ? `COUNT=${weekly ? random.int(2, 6) : random.int(2, 10)}`
          : `UNTIL=${
            compactUtc(
              start.add({ days: weekly ? random.int(8, 35) : random.int(1, 12), hours: 1 })
                .toZonedDateTime(cal.timeZone).epochMilliseconds,
            )
          }`;
        await store.add({
          summary: name(),
          start: { dateTime: start.toString(), timeZone: cal.timeZone },
          end: { dateTime: end.toString(), timeZone: cal.timeZone },
          recurrence: [`RRULE:${freq};${bound}`],
        });
        break;
      }
      case "moveSeries": {
        // The whole series by a few hours, or only longer: either way its instances get new ids.
        const zone: string = target!.start.timeZone;
        const wall = (t: { dateTime: string }) =>
          Temporal.Instant.from(t.dateTime).toZonedDateTimeISO(zone).toPlainDateTime();
        const shift = random.chance(0.25) ? 0 : random.pick([-3, -2, -1, 1, 2, 3]);
        const start = wall(target!.start).add({ hours: shift });
        const end = wall(target!.end).add({ hours: shift, minutes: shift === 0 ? 30 : 0 });
        await store.patch(target!.id, {
          start: { dateTime: start.toString(), timeZone: zone },
          end: { dateTime: end.toString(), timeZone: zone },
        });
        break;
      }
      case "splitSeries": {
        // "This and following" at a later instance, as it is or with a new title or time.
        const zone: string = target!.start.timeZone;
        const instance = random.pick(seriesInstances(target!).slice(1));
        const changes: RawEvent = {};
        if (random.chance(0.4)) changes.summary = name();
        if (random.chance(0.4)) {
          const shift = random.pick([-2, -1, 1, 2]);
          const wall = (ms: string) =>
            Temporal.Instant.from(ms).toZonedDateTimeISO(zone).toPlainDateTime()
              .add({ hours: shift }).toString();
          changes.start = { dateTime: wall(instance.start.dateTime), timeZone: zone };
          changes.end = { dateTime: wall(instance.end.dateTime), timeZone: zone };
        }
        const path = `calendars/${encodeURIComponent(cal.ref.calendarId)}/events/${target!.id}`;
        try {
          await world.admin("POST", `${path}/split`, {
            at: instance.originalStartTime.dateTime,
            ...(Object.keys(changes).length ? { changes } : {}),
          });
        } catch (err) {
          // The new series' id is taken (an earlier split there, since moved): make something.
          if (!/: 409 /.test(String(err))) throw err;
          await store.add({ summary: name(), ...timedSlot() });
          return "create";
        }
        break;
      }
      case "restore":
        try {
          await store.patch(target!.id, { status: "confirmed" });
          deleted.delete(target!.id);
        } catch (err) {
          // Purged since the calendar was read (the soak's purge time is short): make something.
          if (!/: 404 /.test(String(err))) throw err;
          await store.add({ summary: name(), ...timedSlot() });
          return "create";
        }
        break;
      case "purge": {
        const answer = await world.admin<{ purged: number }>("POST", "purge", {
          calendarId: cal.ref.calendarId,
        });
        purged += answer.purged;
        break;
      }
      case "moveInstance": {
        const shift = random.pick([-2, -1, 1, 2, 3]) * HOUR;
        const start = Date.parse(target!.start.dateTime) + shift;
        const end = Date.parse(target!.end.dateTime) + shift;
        await store.patch(target!.id, {
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
      if (cal.store?.lost) {
        lost += await cal.store.lost();
        continue;
      }
      for (const e of await world.rawEvents(cal.ref)) {
        if (isMirror(e) || e.status !== "cancelled" || deleted.has(e.id)) continue;
        if (e.recurringEventId && deleted.has(e.recurringEventId)) continue;
        lost++;
      }
    }
    return lost;
  }

  return {
    step,
    countLostEvents,
    purged: () => purged,
    changeMembers: async () =>
      group && await changeMembers(group, random.pick(["addMember", "removeMember"] as const)),
  };
}
