import assert from "node:assert/strict";
import { ALICE, anEvent, failure, startHarness } from "./test_support.ts";

const calendarId = ALICE;
const NONE = { assignOwnIds: false, dropExtendedProperties: false, undetectedCollisions: false };

Deno.test("quirks: all off by default; POST switches some and answers the whole set; reset clears", async () => {
  await using h = startHarness();
  assert.deepEqual(await h.admin("GET", "quirks"), NONE);
  assert.deepEqual(await h.admin("POST", "quirks", { assignOwnIds: true }), {
    ...NONE,
    assignOwnIds: true,
  });
  assert.deepEqual(await h.admin("POST", "quirks", { undetectedCollisions: true }), {
    ...NONE,
    assignOwnIds: true,
    undetectedCollisions: true,
  });
  await assert.rejects(h.admin("POST", "quirks", { sloppy: true }), /400/);
  await h.admin("POST", "reset", { restoreSeed: true });
  assert.deepEqual(await h.admin("GET", "quirks"), NONE);
});

Deno.test("quirks: assignOwnIds stores an insert under a server id, not the client's", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "quirks", { assignOwnIds: true });
  const wanted = "clientchosen0001";
  const e = (await api.events.insert({ calendarId, requestBody: anEvent({ id: wanted }) })).data;
  assert.notEqual(e.id, wanted);
  assert.match(e.id!, /^[a-v0-9]{26}$/);
  assert.equal((await api.events.get({ calendarId, eventId: e.id! })).data.id, e.id);
  assert.equal((await failure(api.events.get({ calendarId, eventId: wanted }))).status, 404);
});

Deno.test("quirks: dropExtendedProperties keeps none from inserts, patches or updates", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await h.admin("POST", "quirks", { dropExtendedProperties: true });
  const props = { extendedProperties: { private: { mirrorOf: "x" }, shared: { s: "y" } } };
  const e = (await api.events.insert({ calendarId, requestBody: anEvent(props) })).data;
  assert.equal(e.extendedProperties, undefined);
  const patched = await api.events.patch({ calendarId, eventId: e.id!, requestBody: props });
  assert.equal(patched.data.extendedProperties, undefined);
  const updated = await api.events.update({
    calendarId,
    eventId: e.id!,
    requestBody: anEvent(props),
  });
  assert.equal(updated.data.extendedProperties, undefined);
  const found = await api.events.list({ calendarId, privateExtendedProperty: ["mirrorOf=x"] });
  assert.deepEqual(found.data.items, []);
});

Deno.test("quirks: undetectedCollisions stores a taken or reserved id's insert under a new id", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const live = "collision0000001";
  const purged = "collision0000002";
  await api.events.insert({ calendarId, requestBody: anEvent({ id: live, summary: "first" }) });
  await api.events.insert({ calendarId, requestBody: anEvent({ id: purged }) });
  await api.events.delete({ calendarId, eventId: purged });
  await h.admin("POST", "purge");
  await h.admin("POST", "quirks", { undetectedCollisions: true });

  for (const id of [live, purged]) {
    const res = await api.events.insert({
      calendarId,
      requestBody: anEvent({ id, summary: "second" }),
    });
    assert.equal(res.status, 200);
    assert.notEqual(res.data.id, id);
    assert.match(res.data.id!, /^[a-v0-9]{26}$/);
    assert.equal(res.data.summary, "second");
  }
  const first = await api.events.get({ calendarId, eventId: live });
  assert.equal(first.data.summary, "first", "the existing event is untouched");
  const fresh = "collision0000003";
  const free = await api.events.insert({ calendarId, requestBody: anEvent({ id: fresh }) });
  assert.equal(free.data.id, fresh, "a free id is still used as given");
});
