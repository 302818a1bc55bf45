import assert from "node:assert/strict";
import type { calendar_v3 } from "@googleapis/calendar";
import { ALICE, failure, type Harness, listAll, startHarness } from "./test_support.ts";

const calendarId = ALICE;
const SERIES = "edit0series00001";
// Mondays 09:00 Berlin (08:00Z in winter): Jan 7, 14, 21, 28 2030.
const at = (day: string, time = "080000") => `${SERIES}_203001${day}T${time}Z`;

/** A weekly series (4 Mondays) with Jan 14 renamed and Jan 21 cancelled. */
async function weeklyWithExceptions(h: Harness): Promise<calendar_v3.Calendar> {
  const api = await h.api(ALICE);
  await api.events.insert({
    calendarId,
    requestBody: {
      id: SERIES,
      summary: "Weekly",
      start: { dateTime: "2030-01-07T09:00:00", timeZone: "Europe/Berlin" },
      end: { dateTime: "2030-01-07T09:30:00", timeZone: "Europe/Berlin" },
      recurrence: ["RRULE:FREQ=WEEKLY;COUNT=4"],
      visibility: "private",
      extendedProperties: { private: { mirrorOf: "src1" } },
    },
  });
  await api.events.patch({ calendarId, eventId: at("14"), requestBody: { summary: "Renamed" } });
  await api.events.delete({ calendarId, eventId: at("21") });
  return api;
}

const ids = (items: calendar_v3.Schema$Event[]) => items.map((e) => e.id);

Deno.test("series edits: moving a whole series drops its exceptions without tombstones", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const before = await listAll(api, { calendarId, singleEvents: true });
  await api.events.patch({
    calendarId,
    eventId: SERIES,
    requestBody: {
      start: { dateTime: "2030-01-07T10:00:00", timeZone: "Europe/Berlin" },
      end: { dateTime: "2030-01-07T10:30:00", timeZone: "Europe/Berlin" },
    },
  });
  const moved = ["07", "14", "21", "28"].map((d) => at(d, "090000"));
  const instances = await api.events.instances({ calendarId, eventId: SERIES, showDeleted: true });
  assert.deepEqual(ids(instances.data.items!), moved, "the cancelled instance is back, too");
  assert.ok(instances.data.items!.every((e) => e.summary === "Weekly"));
  for (const old of [at("14"), at("21")]) {
    assert.equal((await failure(api.events.get({ calendarId, eventId: old }))).status, 404, old);
  }
  const inc = await listAll(api, {
    calendarId,
    singleEvents: true,
    syncToken: before.nextSyncToken,
  });
  assert.deepEqual(ids(inc.items), moved, "no tombstones for the vanished instance ids");
});

Deno.test("series edits: a change that keeps the series' time keeps its exceptions", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  await h.admin("PATCH", `calendars/${calendarId}/events/${SERIES}`, { summary: "Weekly sync" });
  const { items } = await listAll(api, { calendarId, singleEvents: true, orderBy: "startTime" });
  assert.deepEqual(items.map((e) => [e.id, e.summary]), [
    [at("07"), "Weekly sync"],
    [at("14"), "Renamed"],
    [at("28"), "Weekly sync"],
  ]);
});
