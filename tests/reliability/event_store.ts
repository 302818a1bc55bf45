/**
 * A calendar as the soak's workload changes it and its checks read it, whichever service holds
 * it: the emulator's admin API for Google calendars (tests/sync/support.ts), a real server for
 * CalDAV ones (caldav_calendar.ts). Bodies and patches are in Google's shape.
 */
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";
import type { RawEvent, World } from "../sync/support.ts";
import type { TestCalendar } from "./convergence.ts";
import type { OpKind } from "./workload.ts";

export interface EventStore {
  /** Every stored event, cancelled ones and exceptions included. */
  rawEvents(): Promise<RawEvent[]>;
  add(body: RawEvent): Promise<void>;
  patch(id: string, body: RawEvent): Promise<void>;
  remove(id: string): Promise<void>;
  /** Changes this service's owner cannot make (the workload makes something else). */
  unsupported?: ReadonlySet<OpKind>;
  /**
   * Events the workload made here that are gone although it never deleted them, for a service
   * that keeps no trace of a deletion (Google's cancelled events are counted by the workload).
   */
  lost?(): Promise<number>;
}

/** How `cal` is changed and read: its own store, or the world's emulator. */
export function storeOf(world: World, cal: TestCalendar): EventStore {
  return cal.store ?? googleEventStore(world, cal.ref);
}

/** A Google calendar of the world's emulator, changed as its owner. */
export function googleEventStore(world: World, ref: CalendarRef): EventStore {
  return {
    rawEvents: () => world.rawEvents(ref),
    add: async (body) => {
      await world.addEvent(ref, body);
    },
    patch: async (id, body) => {
      await world.patchEvent(ref, id, body);
    },
    remove: (id) => world.deleteEvent(ref, id),
  };
}
