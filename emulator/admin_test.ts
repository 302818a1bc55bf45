import assert from "node:assert/strict";
import { ALICE, anEvent, failure, listAll, startHarness } from "./test_support.ts";
import { startEmulator } from "./server.ts";

const calendarId = ALICE;

Deno.test("admin: edits made 'as the user' show up in the API's incremental sync", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const { nextSyncToken } = await listAll(api, { calendarId });
  const added = await h.admin<{ id: string; creator: { email: string } }>(
    "POST",
    `calendars/${calendarId}/events`,
    anEvent({ summary: "typed in the UI" }),
  );
  assert.equal(added.creator.email, ALICE);
  const doomed = await h.admin<{ id: string }>("POST", `calendars/${calendarId}/events`, anEvent());
  await h.admin("PATCH", `calendars/${calendarId}/events/${added.id}`, { summary: "renamed" });
  await h.admin("DELETE", `calendars/${calendarId}/events/${doomed.id}`);
  const inc = await listAll(api, { calendarId, syncToken: nextSyncToken });
  assert.deepEqual(
    inc.items.map((e) => [e.id, e.status, e.summary]).sort(),
    [[added.id, "confirmed", "renamed"], [doomed.id, "cancelled", undefined]].sort(),
  );
});

Deno.test("admin: GET events returns every stored event raw, cancelled ones included", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  await api.events.delete({ calendarId, eventId: e.id! });
  const raw = await h.admin<{ items: { id: string; status: string }[] }>(
    "GET",
    `calendars/${calendarId}/events`,
  );
  assert.deepEqual(raw.items.map((x) => [x.id, x.status]), [[e.id, "cancelled"]]);
});

Deno.test("admin: reset empties the world, and restoreSeed brings the start seed back", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.events.insert({ calendarId, requestBody: anEvent() });
  await h.admin("POST", "reset");
  const gone = await failure(api.events.list({ calendarId }));
  assert.equal(gone.status, 401, "tokens do not survive a reset");
  await assert.rejects(h.admin("POST", "tokens", { email: ALICE }), /404/);

  await h.admin("POST", "reset", { restoreSeed: true });
  const fresh = await h.api(ALICE);
  assert.deepEqual((await fresh.events.list({ calendarId })).data.items, []);
});

Deno.test("admin: a reset makes sync tokens from before it unknown", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const { nextSyncToken } = await listAll(api, { calendarId });
  await h.admin("POST", "reset", { restoreSeed: true });
  const fresh = await h.api(ALICE);
  const f = await failure(fresh.events.list({ calendarId, syncToken: nextSyncToken }));
  assert.deepEqual([f.status, f.reason], [410, "fullSyncRequired"]);
});

Deno.test("admin: seeding adds users, calendars and events; a bad seed is a 400", async () => {
  await using h = startHarness();
  const result = await h.admin("POST", "seed", {
    users: [{
      email: "carol@example.com",
      name: "Carol",
      calendars: [{
        id: "carol@example.com",
        summary: "Carol",
        timeZone: "UTC",
        primary: true,
        events: [anEvent({ id: "carolevent01" })],
      }],
    }],
  });
  assert.deepEqual(result, { users: 1, calendars: 1, events: 1 });
  const carol = await h.api("carol@example.com");
  const e = (await carol.events.get({ calendarId: "primary", eventId: "carolevent01" })).data;
  assert.equal(e.start!.dateTime, "2030-01-07T09:00:00Z", "UTC calendars write Z");
  for (const bad of [{}, { users: [{ email: "not-an-email", name: "x", calendars: [] }] }]) {
    const res = await fetch(`${h.url}/__emulator/seed`, {
      method: "POST",
      body: JSON.stringify(bad),
    });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  }
});

Deno.test("server: unknown routes answer Google's JSON 404, and admin is off unless enabled", async () => {
  const emulator = startEmulator({ port: 0, admin: false });
  try {
    for (const path of ["/__emulator/reset", "/calendar/v3/nothing", "/nowhere"]) {
      const res = await fetch(`${emulator.url}${path}`, { method: "POST" });
      const body = await res.json();
      assert.equal(res.status, 404, path);
      assert.equal(body.error.errors[0].reason, "notFound");
    }
  } finally {
    await emulator.close();
  }
});
