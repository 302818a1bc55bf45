import assert from "node:assert/strict";
import type { calendar_v3 } from "@googleapis/calendar";
import { readEventSpan } from "../model/time_window.ts";
import type { Mirror } from "../model/events.ts";
import {
  mirrorInsertBody,
  mirrorPatchBody,
  readGoogleEvent,
  readMarkedEvent,
} from "./event_mapping.ts";

/** A live timed event as events.list returns it, with the fields Google adds. */
function aGoogleEvent(overrides: Record<string, unknown> = {}): calendar_v3.Schema$Event {
  return {
    kind: "calendar#event",
    etag: '"3"',
    id: "evt001",
    status: "confirmed",
    htmlLink: "https://www.google.com/calendar/event?eid=x",
    created: "2030-01-01T00:00:00.000Z",
    updated: "2030-01-02T00:00:00.000Z",
    summary: "Dentist",
    creator: { email: "alice@example.com", self: true },
    organizer: { email: "alice@example.com", self: true },
    start: { dateTime: "2030-01-07T09:00:00+01:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2030-01-07T10:00:00+01:00", timeZone: "Europe/Berlin" },
    iCalUID: "evt001@google.com",
    sequence: 0,
    reminders: { useDefault: true },
    eventType: "default",
    ...overrides,
  };
}

function read(raw: unknown) {
  const result = readGoogleEvent(raw);
  if (!result.ok) throw new Error(`unreadable: ${result.unreadable.problem}`);
  return result.event;
}

Deno.test("mapping: a live event keeps what the core needs and nothing else", () => {
  const event = read(aGoogleEvent({
    location: "Main St 1",
    description: "bring card",
    visibility: "private",
    transparency: "transparent",
    extendedProperties: { private: { busysync: "1", other: "x" }, shared: { s: "y" } },
    attendees: [
      { email: "bob@example.com", responseStatus: "accepted" },
      { email: "alice@example.com", self: true, responseStatus: "declined" },
    ],
    conferenceData: { entryPoints: [{ uri: "https://meet.example/abc" }] },
  }));
  assert.deepEqual(event, {
    id: "evt001",
    status: "confirmed",
    summary: "Dentist",
    description: "bring card",
    location: "Main St 1",
    start: { dateTime: "2030-01-07T09:00:00+01:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2030-01-07T10:00:00+01:00", timeZone: "Europe/Berlin" },
    transparency: "transparent",
    visibility: "private",
    eventType: "default",
    selfResponseStatus: "declined",
    iCalUID: "evt001@google.com",
    organizerEmail: "alice@example.com",
    attendees: [
      { email: "bob@example.com", responseStatus: "accepted" },
      { email: "alice@example.com", responseStatus: "declined" },
    ],
    privateProps: { busysync: "1", other: "x" },
    updated: "2030-01-02T00:00:00.000Z",
  });
});

Deno.test("mapping: a null or malformed field drops that field alone, as an absent one would", () => {
  const withoutLocation = read(aGoogleEvent());
  for (const location of [null, 42, { street: "Main St" }]) {
    assert.deepEqual(read(aGoogleEvent({ location })), withoutLocation, JSON.stringify(location));
  }
  const { start: _s, ...rest } = aGoogleEvent();
  assert.deepEqual(
    read({ ...rest, start: { dateTime: "2030-01-07T09:00:00+01:00", timeZone: null } }),
    { ...read(aGoogleEvent()), start: { dateTime: "2030-01-07T09:00:00+01:00" } },
  );
});

Deno.test("mapping: an all-day instance keeps its dates and its series identity", () => {
  const event = read(aGoogleEvent({
    id: "series1_20300107",
    start: { date: "2030-01-07" },
    end: { date: "2030-01-08" },
    recurringEventId: "series1",
    originalStartTime: { date: "2030-01-07" },
  }));
  assert.ok(event.status === "confirmed");
  assert.deepEqual(event.start, { date: "2030-01-07" });
  assert.deepEqual(event.end, { date: "2030-01-08" });
  assert.equal(event.recurringEventId, "series1");
  assert.deepEqual(event.originalStartTime, { date: "2030-01-07" });
});

Deno.test("mapping: a tombstone becomes a cancelled event keeping only its identity", () => {
  assert.deepEqual(
    read({ kind: "calendar#event", etag: '"9"', id: "gone1", status: "cancelled" }),
    {
      id: "gone1",
      status: "cancelled",
    },
  );
  assert.deepEqual(
    read({
      id: "series1_20300114T080000Z",
      status: "cancelled",
      recurringEventId: "series1",
      originalStartTime: { dateTime: "2030-01-14T09:00:00+01:00", timeZone: "Europe/Berlin" },
    }),
    {
      id: "series1_20300114T080000Z",
      status: "cancelled",
      recurringEventId: "series1",
      originalStartTime: { dateTime: "2030-01-14T09:00:00+01:00", timeZone: "Europe/Berlin" },
    },
  );
});

Deno.test("mapping: hostile payloads still map, or come back unreadable with a reason", async (t) => {
  await t.step("malformed optional fields are dropped, not fatal", () => {
    const event = read(aGoogleEvent({
      summary: 42,
      visibility: "everyone",
      transparency: null,
      attendees: "nobody",
      extendedProperties: { private: { busysync: 1, ok: "yes" } },
      originalStartTime: "yesterday",
      status: undefined,
    }));
    assert.equal(event.status, "confirmed", "Google's default status");
    assert.equal("summary" in event, false);
    assert.equal("visibility" in event, false);
    assert.equal("transparency" in event, false);
    assert.equal("originalStartTime" in event, false);
    assert.deepEqual(event.privateProps, { ok: "yes" });
  });

  await t.step("guest entries without an address are dropped, an odd answer is needsAction", () => {
    const event = read(aGoogleEvent({
      iCalUID: 7,
      organizer: { displayName: "no address" },
      attendees: [{ responseStatus: "accepted" }, { email: "a@x", responseStatus: "maybe" }, 3],
    }));
    assert.equal("iCalUID" in event, false);
    assert.equal("organizerEmail" in event, false);
    assert.deepEqual("attendees" in event && event.attendees, [
      { email: "a@x", responseStatus: "needsAction" },
    ]);
  });

  await t.step("a huge description is kept whole", () => {
    const description = "x".repeat(2_000_000);
    const event = read(aGoogleEvent({ description }));
    assert.equal("description" in event && event.description?.length, 2_000_000);
  });

  await t.step("an unknown zone is dropped when the offset fixes the instant", () => {
    const event = read(aGoogleEvent({
      start: { dateTime: "2030-01-07T09:00:00+01:00", timeZone: "Mars/Olympus_Mons" },
      end: { dateTime: "2030-01-07T10:00:00+01:00", timeZone: "Europe/Berlin" },
    }));
    assert.ok(event.status !== "cancelled");
    assert.deepEqual(event.start, { dateTime: "2030-01-07T09:00:00+01:00" });
    assert.deepEqual(event.end, {
      dateTime: "2030-01-07T10:00:00+01:00",
      timeZone: "Europe/Berlin",
    });
  });

  await t.step("an unknown zone without an offset is kept for the core to find unreadable", () => {
    const event = read(aGoogleEvent({
      start: { dateTime: "2030-01-07T09:00:00", timeZone: "Mars/Olympus_Mons" },
    }));
    assert.ok(event.status !== "cancelled");
    assert.deepEqual(event.start, {
      dateTime: "2030-01-07T09:00:00",
      timeZone: "Mars/Olympus_Mons",
    });
    assert.equal(readEventSpan(event, "UTC"), undefined, "the core skips it as unreadable_time");
  });

  await t.step("no id, an unknown status or a live event without times is unreadable", () => {
    assert.deepEqual(readGoogleEvent(aGoogleEvent({ id: undefined })), {
      ok: false,
      unreadable: { problem: "the event has no id" },
    });
    assert.deepEqual(readGoogleEvent(null), {
      ok: false,
      unreadable: { problem: "the event has no id" },
    });
    assert.deepEqual(readGoogleEvent(aGoogleEvent({ status: "postponed" })), {
      ok: false,
      unreadable: { id: "evt001", problem: 'unknown status "postponed"' },
    });
    assert.deepEqual(readGoogleEvent(aGoogleEvent({ end: { timeZone: "UTC" } })), {
      ok: false,
      unreadable: { id: "evt001", problem: "a live event without start or end" },
    });
  });
});

Deno.test("mapping: a marker search item keeps id, series, status and private properties", () => {
  assert.deepEqual(
    readMarkedEvent(aGoogleEvent({
      recurringEventId: "bsmseries",
      extendedProperties: { private: { busysync: "1", busysyncRule: "r1" } },
    })),
    {
      id: "evt001",
      recurringEventId: "bsmseries",
      privateProps: { busysync: "1", busysyncRule: "r1" },
      status: "confirmed",
    },
  );
  assert.equal(readMarkedEvent({ status: "confirmed" }), undefined);
});

const aMirror = (overrides: Partial<Mirror> = {}): Mirror => ({
  summary: "Busy",
  start: { dateTime: "2030-01-07T09:00:00+01:00", timeZone: "Europe/Berlin" },
  end: { dateTime: "2030-01-07T10:00:00+01:00", timeZone: "Europe/Berlin" },
  transparency: "opaque",
  visibility: "private",
  reminders: "none",
  privateProps: { busysync: "1", busysyncRule: "r1" },
  ...overrides,
});

Deno.test("mapping: a mirror is written busy, silent, marked and without guests", () => {
  assert.deepEqual(mirrorInsertBody(aMirror({ location: "Room 1" })), {
    summary: "Busy",
    location: "Room 1",
    start: { dateTime: "2030-01-07T09:00:00+01:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2030-01-07T10:00:00+01:00", timeZone: "Europe/Berlin" },
    transparency: "opaque",
    visibility: "private",
    reminders: { useDefault: false, overrides: [] },
    extendedProperties: { private: { busysync: "1", busysyncRule: "r1" } },
    status: "confirmed",
  });
});

Deno.test("mapping: a mirror patch clears fields the mirror no longer has and switches time kinds", () => {
  const patch = mirrorPatchBody(
    aMirror({ start: { date: "2030-01-07" }, end: { date: "2030-01-08" } }),
  );
  assert.equal(patch.description, null);
  assert.equal(patch.location, null);
  assert.deepEqual(patch.start, { date: "2030-01-07", dateTime: null, timeZone: null });
  assert.deepEqual(patch.end, { date: "2030-01-08", dateTime: null, timeZone: null });
  assert.equal(patch.status, "confirmed");
});
