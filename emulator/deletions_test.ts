import assert from "node:assert/strict";
import type { calendar_v3 } from "@googleapis/calendar";
import {
  ALICE,
  anEvent,
  failure,
  insertMondaySeries,
  listAll,
  startHarness,
} from "./test_support.ts";

const calendarId = ALICE;
const DAY_MS = 86_400_000;

/** The Calendar calls that name an existing event, each with the status it answers. */
async function statusesOf(api: calendar_v3.Calendar, eventId: string) {
  const status = async (call: Promise<unknown>) => (await failure(call)).status;
  return {
    get: await status(api.events.get({ calendarId, eventId })),
    patch: await status(api.events.patch({ calendarId, eventId, requestBody: { summary: "x" } })),
    update: await status(api.events.update({ calendarId, eventId, requestBody: anEvent() })),
    delete: await status(api.events.delete({ calendarId, eventId })),
  };
}

Deno.test("purge: a purged event is 404 to every call, yet inserting its id is still 409", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const id = "purged0000000001";
  await api.events.insert({ calendarId, requestBody: anEvent({ id }) });
  await api.events.delete({ calendarId, eventId: id });
  assert.deepEqual(await h.admin("POST", "purge", { calendarId }), { purged: 1 });

  assert.deepEqual(await statusesOf(api, id), { get: 404, patch: 404, update: 404, delete: 404 });
  const again = await failure(api.events.insert({ calendarId, requestBody: anEvent({ id }) }));
  assert.deepEqual([again.status, again.reason], [409, "duplicate"]);
  assert.equal(again.body!.error.message, "The requested identifier already exists.");
  const listed = await listAll(api, { calendarId, showDeleted: true });
  assert.deepEqual(listed.items, [], "a purged event is not even a tombstone");
});

Deno.test("purge: a sync token from before a purge answers 410, one taken after it works", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  const before = (await listAll(api, { calendarId })).nextSyncToken;
  await api.events.delete({ calendarId, eventId: e.id! });
  await h.admin("POST", "purge");
  const stale = await failure(api.events.list({ calendarId, syncToken: before }));
  assert.deepEqual([stale.status, stale.reason], [410, "fullSyncRequired"]);

  const after = (await listAll(api, { calendarId })).nextSyncToken;
  const added = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  const inc = await listAll(api, { calendarId, syncToken: after });
  assert.deepEqual(inc.items.map((x) => x.id), [added.id]);
});

Deno.test("purge: deletions vanish on their own after purgeCancelledAfterSeconds", async () => {
  let now = Date.UTC(2030, 0, 1);
  await using h = startHarness(undefined, () => now, { purgeCancelledAfterSeconds: 600 });
  const api = await h.api(ALICE);
  const id = "selfpurge0000001";
  await api.events.insert({ calendarId, requestBody: anEvent({ id }) });
  await api.events.delete({ calendarId, eventId: id });
  now += 599_000;
  assert.equal((await api.events.get({ calendarId, eventId: id })).data.status, "cancelled");
  now += 2000;
  assert.equal((await failure(api.events.get({ calendarId, eventId: id }))).status, 404);
  const again = await failure(api.events.insert({ calendarId, requestBody: anEvent({ id }) }));
  assert.equal(again.status, 409);
});

Deno.test("purge: the default keeps deletions readable for 30 days", async () => {
  let now = Date.UTC(2030, 0, 1);
  await using h = startHarness(undefined, () => now);
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  await api.events.delete({ calendarId, eventId: e.id! });
  now += 30 * DAY_MS - 1000;
  const later = await h.api(ALICE); // the first token has expired by now
  assert.equal((await later.events.get({ calendarId, eventId: e.id! })).data.status, "cancelled");
  now += 2000;
  assert.equal((await failure(later.events.get({ calendarId, eventId: e.id! }))).status, 404);
});

Deno.test("purge: a cancelled instance of a live series stays; a purged series takes its exceptions", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const series = "purgeseries00001";
  await insertMondaySeries(api, series, 3);
  const skipped = `${series}_20300114T080000Z`;
  await api.events.delete({ calendarId, eventId: skipped });
  assert.deepEqual(await h.admin("POST", "purge"), { purged: 0 });
  const left = await api.events.instances({ calendarId, eventId: series });
  assert.equal(left.data.items!.length, 2, "the deleted instance stays deleted");

  await api.events.delete({ calendarId, eventId: series });
  assert.deepEqual(await h.admin("POST", "purge"), { purged: 2 });
  const raw = await h.admin<{ items: unknown[] }>("GET", `calendars/${calendarId}/events`);
  assert.deepEqual(raw.items, []);
  assert.equal((await failure(api.events.get({ calendarId, eventId: skipped }))).status, 404);
});

Deno.test("purge: an unknown calendar is 404", async () => {
  await using h = startHarness();
  await assert.rejects(h.admin("POST", "purge", { calendarId: "nobody@example.com" }), /404/);
});

Deno.test("owner deletions: API writes to an event deleted in the web UI answer 403 forbidden", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const id = "uideleted0000001";
  await api.events.insert({ calendarId, requestBody: anEvent({ id }) });
  await h.admin("DELETE", `calendars/${calendarId}/events/${id}`);

  for (
    const call of [
      api.events.patch({ calendarId, eventId: id, requestBody: { status: "confirmed" } }),
      api.events.update({ calendarId, eventId: id, requestBody: anEvent() }),
    ]
  ) {
    const f = await failure(call);
    assert.deepEqual(f.body, {
      error: {
        errors: [{ domain: "global", reason: "forbidden", message: "Forbidden" }],
        code: 403,
        message: "Forbidden",
      },
    });
  }
  assert.equal((await api.events.get({ calendarId, eventId: id })).data.status, "cancelled");
  const insert = await failure(api.events.insert({ calendarId, requestBody: anEvent({ id }) }));
  assert.deepEqual([insert.status, insert.reason], [409, "duplicate"]);
});

Deno.test("owner deletions: a series deleted in the web UI locks its exceptions too", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const series = "uiseries00000001";
  await insertMondaySeries(api, series, 3);
  const moved = `${series}_20300114T080000Z`;
  await api.events.patch({ calendarId, eventId: moved, requestBody: { summary: "moved" } });
  await h.admin("DELETE", `calendars/${calendarId}/events/${series}`);
  const f = await failure(
    api.events.patch({ calendarId, eventId: moved, requestBody: { status: "confirmed" } }),
  );
  assert.equal(f.status, 403);
});

Deno.test("owner deletions: the owner may restore it, and API deletions stay restorable", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const byOwner = (await api.events.insert({ calendarId, requestBody: anEvent() })).data.id!;
  await h.admin("DELETE", `calendars/${calendarId}/events/${byOwner}`);
  await h.admin("PATCH", `calendars/${calendarId}/events/${byOwner}`, { status: "confirmed" });
  const renamed = await api.events.patch({
    calendarId,
    eventId: byOwner,
    requestBody: { summary: "after the undo" },
  });
  assert.equal(renamed.data.summary, "after the undo", "a restored event is writable again");

  const byApi = (await api.events.insert({ calendarId, requestBody: anEvent() })).data.id!;
  await api.events.delete({ calendarId, eventId: byApi });
  const restored = await api.events.patch({
    calendarId,
    eventId: byApi,
    requestBody: { status: "confirmed" },
  });
  assert.equal(restored.data.status, "confirmed");
});
