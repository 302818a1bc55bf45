import assert from "node:assert/strict";
import type { calendar_v3 } from "@googleapis/calendar";
import {
  ALICE,
  failure,
  type Harness,
  insertMondaySeries,
  listAll,
  startHarness,
} from "./test_support.ts";

const calendarId = ALICE;
const SERIES = "edit0series00001";
// Mondays 09:00 Berlin (08:00Z in winter): Jan 7, 14, 21, 28 2030.
const at = (day: string, time = "080000") => `${SERIES}_203001${day}T${time}Z`;

/** A weekly series (4 Mondays) with Jan 14 renamed and Jan 21 cancelled. */
async function weeklyWithExceptions(h: Harness): Promise<calendar_v3.Calendar> {
  const api = await h.api(ALICE);
  await insertMondaySeries(api, SERIES, 4, {
    summary: "Weekly",
    visibility: "private",
    extendedProperties: { private: { mirrorOf: "src1" } },
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

const NEW_SERIES = `${SERIES}_R20300121T080000`;
const split = (h: Harness, body: unknown) =>
  h.admin<calendar_v3.Schema$Event>(
    "POST",
    `calendars/${calendarId}/events/${SERIES}/split`,
    body,
  );

Deno.test("series split: 'this and following' ends the old series and starts an _R series", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const before = await listAll(api, { calendarId, singleEvents: true });
  const created = await split(h, { at: "2030-01-21T09:00:00+01:00", changes: { summary: "v2" } });

  assert.equal(created.id, NEW_SERIES);
  assert.equal(created.iCalUID, `${NEW_SERIES}@google.com`);
  assert.deepEqual(created.recurrence, ["RRULE:FREQ=WEEKLY;COUNT=2"]);
  assert.deepEqual(created.start, {
    dateTime: "2030-01-21T09:00:00+01:00",
    timeZone: "Europe/Berlin",
  });
  assert.equal(created.summary, "v2");
  assert.equal(created.visibility, "private");
  assert.deepEqual(created.extendedProperties, { private: { mirrorOf: "src1" } });

  const old = (await api.events.get({ calendarId, eventId: SERIES })).data;
  assert.deepEqual(old.recurrence, ["RRULE:FREQ=WEEKLY;UNTIL=20300121T075959Z"]);
  const oldInstances = await api.events.instances({
    calendarId,
    eventId: SERIES,
    showDeleted: true,
  });
  assert.deepEqual(oldInstances.data.items!.map((e) => [e.id, e.summary]), [
    [at("07"), "Weekly"],
    [at("14"), "Renamed"],
  ]);
  const newInstances = await api.events.instances({ calendarId, eventId: NEW_SERIES });
  assert.deepEqual(newInstances.data.items!.map((e) => [e.id, e.summary, e.recurringEventId]), [
    [`${NEW_SERIES}_20300121T080000Z`, "v2", NEW_SERIES],
    [`${NEW_SERIES}_20300128T080000Z`, "v2", NEW_SERIES],
  ]);
  assert.equal((await failure(api.events.get({ calendarId, eventId: at("21") }))).status, 404);
  assert.equal((await failure(api.events.get({ calendarId, eventId: at("28") }))).status, 404);

  const inc = await listAll(api, {
    calendarId,
    singleEvents: true,
    syncToken: before.nextSyncToken,
  });
  assert.deepEqual(
    ids(inc.items).sort(),
    [
      at("07"),
      `${NEW_SERIES}_20300121T080000Z`,
      `${NEW_SERIES}_20300128T080000Z`,
    ].sort(),
    "the vanished Jan 28 instance of the old series gets no tombstone",
  );
  assert.ok(inc.items.every((e) => e.status === "confirmed"));
});

Deno.test("series split: the new series is named after its changed start, and its instances are editable", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const created = await split(h, {
    at: "2030-01-21T08:00:00Z",
    changes: {
      start: { dateTime: "2030-01-21T10:00:00", timeZone: "Europe/Berlin" },
      end: { dateTime: "2030-01-21T11:00:00", timeZone: "Europe/Berlin" },
    },
  });
  const id = `${SERIES}_R20300121T090000`;
  assert.equal(created.id, id);
  const instance = `${id}_20300128T090000Z`;
  const got = (await api.events.get({ calendarId, eventId: instance })).data;
  assert.deepEqual([got.recurringEventId, got.end!.dateTime], [id, "2030-01-28T11:00:00+01:00"]);
  await api.events.patch({ calendarId, eventId: instance, requestBody: { summary: "last" } });
  const { items } = await listAll(api, { calendarId, singleEvents: true, orderBy: "startTime" });
  assert.deepEqual(items.map((e) => [e.id, e.summary]), [
    [at("07"), "Weekly"],
    [at("14"), "Renamed"],
    [`${id}_20300121T090000Z`, "Weekly"],
    [instance, "last"],
  ]);
});

Deno.test("series split: refused for the first instance, a time of no instance, single events and unknown ids", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const single = (await api.events.insert({
    calendarId,
    requestBody: { start: { date: "2030-01-01" }, end: { date: "2030-01-02" } },
  })).data.id!;
  const post = (eventId: string, body: unknown) =>
    fetch(`${h.url}/__emulator/calendars/${calendarId}/events/${eventId}/split`, {
      method: "POST",
      body: JSON.stringify(body),
    }).then(async (r) => (await r.body?.cancel(), r.status));
  assert.equal(await post(SERIES, { at: "2030-01-07T08:00:00Z" }), 400);
  assert.equal(await post(SERIES, { at: "2030-01-22T08:00:00Z" }), 400);
  assert.equal(await post(SERIES, { at: "2030-01-21T09:00:00" }), 400, "no offset");
  assert.equal(await post(SERIES, {}), 400);
  assert.equal(await post(single, { at: "2030-01-02" }), 400);
  assert.equal(await post("nosuchseries01", { at: "2030-01-21T08:00:00Z" }), 404);
  assert.equal(await post(SERIES, { at: "2030-01-21T08:00:00Z" }), 200);
  assert.equal(await post(SERIES, { at: "2030-01-21T08:00:00Z" }), 400, "no longer an instance");
});

Deno.test("series split: an all-day series ends with a date UNTIL", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.events.insert({
    calendarId,
    requestBody: {
      id: "fulldate0split01",
      start: { date: "2030-01-01" },
      end: { date: "2030-01-02" },
      recurrence: ["RRULE:FREQ=DAILY"],
    },
  });
  const created = await h.admin<calendar_v3.Schema$Event>(
    "POST",
    `calendars/${calendarId}/events/fulldate0split01/split`,
    { at: "2030-01-04" },
  );
  assert.equal(created.id, "fulldate0split01_R20300104");
  assert.deepEqual(created.recurrence, ["RRULE:FREQ=DAILY"]);
  const old = await api.events.instances({ calendarId, eventId: "fulldate0split01" });
  assert.deepEqual(old.data.items!.map((e) => e.start!.date), [
    "2030-01-01",
    "2030-01-02",
    "2030-01-03",
  ]);
  const first = await api.events.instances({ calendarId, eventId: created.id!, maxResults: 1 });
  assert.equal(first.data.items![0].id, "fulldate0split01_R20300104_20300104");
});
