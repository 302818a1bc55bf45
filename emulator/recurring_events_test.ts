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
const SERIES = "recur0series01";
// Mondays 09:00 Berlin (08:00Z in winter): Jan 7, 14, 21, 28 2030.
const instance = (day: string) => `${SERIES}_203001${day}T080000Z`;

/** A weekly series with Jan 14 moved to Tuesday 14:00 and Jan 21 cancelled. */
async function weeklyWithExceptions(h: Harness): Promise<calendar_v3.Calendar> {
  const api = await h.api(ALICE);
  await insertMondaySeries(api, SERIES, 4, { summary: "Weekly" });
  await api.events.patch({
    calendarId,
    eventId: instance("14"),
    requestBody: {
      summary: "Weekly (moved)",
      start: { dateTime: "2030-01-15T14:00:00+01:00" },
      end: { dateTime: "2030-01-15T14:30:00+01:00" },
    },
  });
  await api.events.delete({ calendarId, eventId: instance("21") });
  return api;
}

Deno.test("recurring: singleEvents expands a series with its moved instance and without its cancelled one", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const { items } = await listAll(api, { calendarId, singleEvents: true, orderBy: "startTime" });
  assert.deepEqual(items.map((e) => [e.id, e.start!.dateTime, e.summary]), [
    [instance("07"), "2030-01-07T09:00:00+01:00", "Weekly"],
    [instance("14"), "2030-01-15T14:00:00+01:00", "Weekly (moved)"],
    [instance("28"), "2030-01-28T09:00:00+01:00", "Weekly"],
  ]);
  for (const e of items) {
    assert.equal(e.recurringEventId, SERIES);
    assert.equal(e.recurrence, undefined);
  }
  assert.deepEqual(items[1].originalStartTime, {
    dateTime: "2030-01-14T09:00:00+01:00",
    timeZone: "Europe/Berlin",
  });
  const withDeleted = await listAll(api, { calendarId, singleEvents: true, showDeleted: true });
  const cancelled = withDeleted.items.filter((e) => e.status === "cancelled");
  assert.deepEqual(cancelled.map((e) => e.id), [instance("21")]);
});

Deno.test("recurring: events.instances lists the same instances and pages", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const all = await api.events.instances({ calendarId, eventId: SERIES });
  assert.deepEqual(all.data.items!.map((e) => e.id), [
    instance("07"),
    instance("14"),
    instance("28"),
  ]);
  assert.equal(all.data.nextSyncToken, undefined);
  const first = await api.events.instances({ calendarId, eventId: SERIES, maxResults: 2 });
  assert.equal(first.data.items!.length, 2);
  const rest = await api.events.instances({
    calendarId,
    eventId: SERIES,
    maxResults: 2,
    pageToken: first.data.nextPageToken!,
  });
  assert.deepEqual(rest.data.items!.map((e) => e.id), [instance("28")]);
  const withDeleted = await api.events.instances({
    calendarId,
    eventId: SERIES,
    showDeleted: true,
  });
  assert.equal(withDeleted.data.items!.length, 4);
  const windowed = await api.events.instances({
    calendarId,
    eventId: SERIES,
    timeMin: "2030-01-20T00:00:00Z",
  });
  assert.deepEqual(windowed.data.items!.map((e) => e.id), [instance("28")]);
});

Deno.test("recurring: without singleEvents the series comes with its exceptions, cancelled ones included", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const { items } = await listAll(api, { calendarId });
  const byId = new Map(items.map((e) => [e.id, e]));
  assert.deepEqual([...byId.keys()].sort(), [SERIES, instance("14"), instance("21")].sort());
  assert.deepEqual(byId.get(SERIES)!.recurrence, ["RRULE:FREQ=WEEKLY;COUNT=4"]);
  assert.equal(byId.get(instance("21"))!.status, "cancelled");
});

Deno.test("recurring: timeMin/timeMax select instances by their actual times", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const ids = async (timeMin: string, timeMax: string, singleEvents = true) =>
    (await api.events.list({ calendarId, singleEvents, timeMin, timeMax })).data.items!.map((e) =>
      e.id
    );
  // The moved instance no longer occupies its original Monday slot.
  assert.deepEqual(await ids("2030-01-14T00:00:00Z", "2030-01-14T23:00:00Z"), []);
  assert.deepEqual(await ids("2030-01-15T00:00:00Z", "2030-01-16T00:00:00Z"), [instance("14")]);
  assert.deepEqual(await ids("2030-01-27T00:00:00Z", "2030-02-28T00:00:00Z"), [instance("28")]);
  // Unexpanded, the series is listed when any instance falls in the window.
  assert.deepEqual(await ids("2030-01-27T00:00:00Z", "2030-02-28T00:00:00Z", false), [SERIES]);
  assert.deepEqual(await ids("2030-02-01T00:00:00Z", "2030-02-28T00:00:00Z", false), []);
});

Deno.test("recurring: instance ids are readable with events.get; ids of no instance are 404", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const generated = (await api.events.get({ calendarId, eventId: instance("28") })).data;
  assert.equal(generated.recurringEventId, SERIES);
  assert.equal(generated.iCalUID, `${SERIES}@google.com`);
  const cancelled = (await api.events.get({ calendarId, eventId: instance("21") })).data;
  assert.equal(cancelled.status, "cancelled");
  for (
    const eventId of [instance("29"), `${SERIES}_20300204T080000Z`, "nosuchseries_20300107T080000Z"]
  ) {
    const f = await failure(api.events.get({ calendarId, eventId }));
    assert.equal(f.status, 404, eventId);
  }
});

Deno.test("recurring: incremental sync reports a new exception and, after the series is deleted, tombstones", async () => {
  await using h = startHarness();
  const api = await weeklyWithExceptions(h);
  const full = await listAll(api, { calendarId, singleEvents: true });
  await api.events.patch({
    calendarId,
    eventId: instance("28"),
    requestBody: { summary: "Last one" },
  });
  const inc = await listAll(api, { calendarId, singleEvents: true, syncToken: full.nextSyncToken });
  assert.deepEqual(inc.items.map((e) => [e.id, e.summary]), [[instance("28"), "Last one"]]);

  await api.events.delete({ calendarId, eventId: SERIES });
  const gone = await listAll(api, { calendarId, singleEvents: true, syncToken: inc.nextSyncToken });
  assert.deepEqual(
    gone.items.map((e) => [e.id, e.status]).sort(),
    ["07", "14", "28"].map((d) => [instance(d), "cancelled"]).sort(),
  );
  for (const e of gone.items) assert.equal(e.recurringEventId, SERIES);
  const unexpanded = await listAll(api, { calendarId, syncToken: inc.nextSyncToken });
  assert.deepEqual(
    unexpanded.items.map((e) => e.id).sort(),
    [SERIES, instance("14"), instance("28")].sort(),
  );
  assert.deepEqual((await listAll(api, { calendarId, singleEvents: true })).items, []);
});

Deno.test("recurring: a series across the DST change keeps its wall-clock time", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.events.insert({
    calendarId,
    requestBody: {
      id: "dstseries01",
      start: { dateTime: "2030-03-04T09:00:00", timeZone: "America/New_York" },
      end: { dateTime: "2030-03-04T10:00:00", timeZone: "America/New_York" },
      recurrence: ["RRULE:FREQ=WEEKLY;COUNT=3"],
    },
  });
  const { items } = await listAll(api, { calendarId, singleEvents: true, orderBy: "startTime" });
  assert.deepEqual(items.map((e) => [e.id, e.start!.dateTime, e.end!.dateTime]), [
    ["dstseries01_20300304T140000Z", "2030-03-04T09:00:00-05:00", "2030-03-04T10:00:00-05:00"],
    ["dstseries01_20300311T130000Z", "2030-03-11T09:00:00-04:00", "2030-03-11T10:00:00-04:00"],
    ["dstseries01_20300318T130000Z", "2030-03-18T09:00:00-04:00", "2030-03-18T10:00:00-04:00"],
  ]);
});

Deno.test("recurring: all-day series have date instance ids and honour EXDATE", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.events.insert({
    calendarId,
    requestBody: {
      id: "alldates0series1",
      summary: "Bins out",
      start: { date: "2030-01-01" },
      end: { date: "2030-01-02" },
      recurrence: ["RRULE:FREQ=DAILY;COUNT=3", "EXDATE;VALUE=DATE:20300102"],
    },
  });
  const { items } = await listAll(api, { calendarId, singleEvents: true });
  assert.deepEqual(items.map((e) => [e.id, e.start!.date, e.originalStartTime!.date]), [
    ["alldates0series1_20300101", "2030-01-01", "2030-01-01"],
    ["alldates0series1_20300103", "2030-01-03", "2030-01-03"],
  ]);
});

Deno.test("recurring: a non-recurring event is its own single instance", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({
    calendarId,
    requestBody: { start: { date: "2030-01-01" }, end: { date: "2030-01-02" } },
  })).data;
  const res = await api.events.instances({ calendarId, eventId: e.id! });
  assert.deepEqual(res.data.items!.map((i) => i.id), [e.id]);
});
