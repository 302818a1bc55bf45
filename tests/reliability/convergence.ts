/**
 * The check both reliability suites end with: read every calendar of the world and the users'
 * ledgers, and judge the targets against the reference model and the store against the targets.
 */
import { listLedger } from "../../lib/db/ledger.ts";
import type { Group } from "../../lib/model/group.ts";
import type { Rule } from "../../lib/model/rule.ts";
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";
import type { World } from "../sync/support.ts";
import { type EventStore, storeOf } from "./event_store.ts";
import {
  type CalendarState,
  compareMirrors,
  expectedMirrors,
  type Verdict,
} from "./reference_model.ts";

/** A calendar the suite seeded, with the zone it was seeded in. */
export interface TestCalendar {
  ref: CalendarRef;
  timeZone: string;
  /** A primary calendar: its id is its account's address, which invitations are sent to. */
  primary?: boolean;
  /** The calendar list shows it as read-only to busysync (a group only reads it). */
  readOnly?: boolean;
  /** How it is read and changed when it is not a calendar of the world's emulator (CalDAV). */
  store?: EventStore;
  /** How often the workload changes it, relative to the others' 1. */
  weight?: number;
}

export interface Convergence extends Verdict {
  /**
   * Ledger entries whose mirror is not live, plus live mirrors no ledger entry knows: a store
   * out of step with its targets would make a later run write twice or forget a mirror.
   */
  ledgerMismatches: number;
}

/**
 * Reads `calendars` (every source and target of `rules` and every member of `groups`) and the
 * ledgers of `userIds`.
 */
export async function checkConvergence(
  world: World,
  scope: {
    calendars: readonly TestCalendar[];
    rules: readonly Rule[];
    groups?: readonly Group[];
    userIds: readonly string[];
  },
): Promise<Convergence> {
  const states = new Map<string, CalendarState>();
  for (const cal of scope.calendars) {
    const { ref, timeZone } = cal;
    states.set(ref.calendarId, {
      id: ref.calendarId,
      timeZone,
      events: await storeOf(world, cal).rawEvents(),
    });
  }
  const verdict = compareMirrors(
    expectedMirrors(scope.rules, states, new Date(), {
      groups: scope.groups,
      readOnly: new Set(scope.calendars.filter((c) => c.readOnly).map((c) => c.ref.calendarId)),
    }),
    new Map([...states].map(([id, cal]) => [id, cal.events])),
  );

  const live = new Set<string>();
  for (const cal of states.values()) {
    for (const e of cal.events) {
      if (e.status !== "cancelled" && e.extendedProperties?.private?.busysync === "1") {
        live.add(`${cal.id}/${e.id}`);
      }
    }
  }
  const ledgered = new Set<string>();
  for (const userId of scope.userIds) {
    for await (const { entry } of listLedger(world.kv, userId)) {
      ledgered.add(`${entry.target.calendarId}/${entry.mirrorId}`);
    }
  }
  const unknown = [...live].filter((m) => !ledgered.has(m));
  const gone = [...ledgered].filter((m) => !live.has(m));
  for (const m of unknown.slice(0, 5)) verdict.problems.push(`no ledger entry for mirror ${m}`);
  for (const m of gone.slice(0, 5)) verdict.problems.push(`ledger entry for no live mirror ${m}`);
  return { ...verdict, ledgerMismatches: unknown.length + gone.length };
}

/** The figures of a check that a report keeps (its problems go to a failure message). */
export type CheckFigures = Omit<Convergence, "problems">;

export function figuresOf(c: Convergence): CheckFigures {
  const { duplicates, missing, stale, ledgerMismatches, expected, live } = c;
  return { duplicates, missing, stale, ledgerMismatches, expected, live };
}
