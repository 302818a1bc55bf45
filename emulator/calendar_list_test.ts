import assert from "node:assert/strict";
import { ALICE, ALICE_WORK, aSeed, BOB, failure, SHARED, startHarness } from "./test_support.ts";

Deno.test("calendarList.list: entries carry the user's role and mark the primary calendar", async () => {
  await using h = startHarness();
  const bob = await h.api(BOB);
  const res = await bob.calendarList.list();
  assert.equal(res.data.kind, "calendar#calendarList");
  assert.deepEqual(
    res.data.items!.map((c) => [c.id, c.accessRole, c.primary, c.timeZone]),
    [[BOB, "owner", true, "America/New_York"], [SHARED, "reader", undefined, "Europe/Berlin"]],
  );
  assert.equal(res.data.items![0].kind, "calendar#calendarListEntry");
});

Deno.test("calendarList.list: pages by maxResults with nextSyncToken only on the last page", async () => {
  await using h = startHarness();
  const alice = await h.api(ALICE);
  const first = await alice.calendarList.list({ maxResults: 2 });
  assert.equal(first.data.items!.length, 2);
  assert.ok(first.data.nextPageToken);
  assert.equal(first.data.nextSyncToken, undefined);
  const last = await alice.calendarList.list({
    maxResults: 2,
    pageToken: first.data.nextPageToken!,
  });
  assert.deepEqual(last.data.items!.map((c) => c.id), [SHARED]);
  assert.ok(last.data.nextSyncToken);
});

Deno.test("calendarList.list: minAccessRole leaves out calendars with a lesser role", async () => {
  await using h = startHarness();
  const bob = await h.api(BOB);
  const writable = await bob.calendarList.list({ minAccessRole: "writer" });
  assert.deepEqual(writable.data.items!.map((c) => c.id), [BOB]);
});

Deno.test("calendarList.list: a sync token returns nothing until the list changes", async () => {
  await using h = startHarness();
  const bob = await h.api(BOB);
  const { nextSyncToken } = (await bob.calendarList.list()).data;
  const unchanged = await bob.calendarList.list({ syncToken: nextSyncToken! });
  assert.deepEqual(unchanged.data.items, []);
  await h.admin("POST", "seed", {
    users: [{
      email: BOB,
      name: "Bob",
      calendars: [{
        id: ALICE_WORK,
        summary: "Work",
        timeZone: "Europe/Berlin",
        accessRole: "writer",
      }],
    }],
  });
  const changed = await bob.calendarList.list({ syncToken: nextSyncToken! });
  assert.ok(changed.data.items!.some((c) => c.id === ALICE_WORK && c.accessRole === "writer"));
  const refused = await failure(
    bob.calendarList.list({ syncToken: nextSyncToken!, minAccessRole: "owner" }),
  );
  assert.equal(refused.status, 400);
  const unknown = await failure(bob.calendarList.list({ syncToken: "bogus" }));
  assert.deepEqual([unknown.status, unknown.reason], [410, "fullSyncRequired"]);
});

Deno.test("calendars.get: primary resolves to the user's calendar; others' calendars are 404", async () => {
  await using h = startHarness();
  const alice = await h.api(ALICE);
  const primary = await alice.calendars.get({ calendarId: "primary" });
  assert.deepEqual(
    [primary.data.kind, primary.data.id, primary.data.timeZone],
    ["calendar#calendar", ALICE, "Europe/Berlin"],
  );
  const shared = await alice.calendars.get({ calendarId: SHARED });
  assert.equal(shared.data.summary, "Shared");
  const foreign = await failure(alice.calendars.get({ calendarId: BOB }));
  assert.deepEqual([foreign.status, foreign.reason], [404, "notFound"]);
});

Deno.test("calendarList.list: each entry has its own colour from Google's palette, per person's list", async () => {
  const seed = aSeed();
  const bobsShared = seed.users[1].calendars.find((c) => c.id === SHARED)!;
  Object.assign(bobsShared, { colorId: "16" });
  await using h = startHarness(seed);
  const bob = await h.api(BOB);
  const items = (await bob.calendarList.list()).data.items!;
  for (const item of items) {
    assert.match(item.colorId!, /^([1-9]|1\d|2[0-4])$/);
    assert.match(item.backgroundColor!, /^#[0-9a-f]{6}$/);
    assert.equal(item.foregroundColor, "#1d1d1d");
  }
  assert.notEqual(items[0].backgroundColor, items[1].backgroundColor, "calendars differ");
  const recoloured = (await bob.calendarList.list()).data.items!.find((c) => c.id === SHARED)!;
  assert.deepEqual([recoloured.colorId, recoloured.backgroundColor], ["16", "#4986e7"]);
  const alice = await h.api(ALICE);
  const hers = (await alice.calendarList.list()).data.items!.find((c) => c.id === SHARED);
  assert.notEqual(hers?.colorId, "16", "the colour is Bob's list entry's, not the calendar's");
});
