import assert from "node:assert/strict";
import { ALICE, anEvent, aSeed, BOB, failure, listAll, startHarness } from "./test_support.ts";

const calendarId = ALICE;

Deno.test("events.list: nextSyncToken appears only on the last page", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  for (let i = 0; i < 5; i++) {
    await api.events.insert({ calendarId, requestBody: anEvent({ summary: `e${i}` }) });
  }
  const first = await api.events.list({ calendarId, maxResults: 2 });
  assert.deepEqual(first.data.items!.length, 2);
  assert(first.data.nextPageToken);
  assert.deepEqual(first.data.nextSyncToken, undefined);
  const second = await api.events.list({
    calendarId,
    maxResults: 2,
    pageToken: first.data.nextPageToken!,
  });
  assert(second.data.nextPageToken);
  assert.deepEqual(second.data.nextSyncToken, undefined);
  const last = await api.events.list({
    calendarId,
    maxResults: 2,
    pageToken: second.data.nextPageToken!,
  });
  assert.deepEqual(last.data.items!.length, 1);
  assert.deepEqual(last.data.nextPageToken, undefined);
  assert(last.data.nextSyncToken);
  const ids = [...first.data.items!, ...second.data.items!, ...last.data.items!].map((e) =>
    e.summary
  );
  assert.deepEqual(ids.sort(), ["e0", "e1", "e2", "e3", "e4"]);
});

Deno.test("events.list: maxResults above 2500 is lowered to the maximum and below 1 is a 400", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  for (let i = 0; i < 3; i++) await api.events.insert({ calendarId, requestBody: anEvent() });
  const res = await api.events.list({ calendarId, maxResults: 99999 });
  assert.deepEqual(res.data.items!.length, 3);
  const zero = await failure(api.events.list({ calendarId, maxResults: 0 }));
  assert.deepEqual([zero.status, zero.reason], [400, "invalid"]);
});

Deno.test("events.list: an incremental sync returns inserts, patches and a cancelled tombstone", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const kept =
    (await api.events.insert({ calendarId, requestBody: anEvent({ summary: "kept" }) })).data;
  const patched =
    (await api.events.insert({ calendarId, requestBody: anEvent({ summary: "old" }) })).data;
  const deleted = (await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "doomed", description: "secret" }),
  })).data;
  const full = await listAll(api, { calendarId });
  assert.deepEqual(full.items.length, 3);

  await api.events.patch({ calendarId, eventId: patched.id!, requestBody: { summary: "new" } });
  await api.events.delete({ calendarId, eventId: deleted.id! });
  const added =
    (await api.events.insert({ calendarId, requestBody: anEvent({ summary: "added" }) })).data;

  const inc = await listAll(api, { calendarId, syncToken: full.nextSyncToken });
  const byId = new Map(inc.items.map((e) => [e.id, e]));
  assert.deepEqual(byId.size, 3);
  assert(!byId.has(kept.id!), "unchanged events are not returned");
  assert.deepEqual(byId.get(patched.id!)!.summary, "new");
  assert.deepEqual(byId.get(added.id!)!.summary, "added");
  const tomb = byId.get(deleted.id!)!;
  assert.deepEqual(tomb.status, "cancelled");
  assert.deepEqual(tomb.summary, undefined, "tombstones carry only the guaranteed fields");
  assert.deepEqual(tomb.description, undefined);

  const again = await listAll(api, { calendarId, syncToken: inc.nextSyncToken });
  assert.deepEqual(again.items, []);
  assert(again.nextSyncToken);
});

Deno.test("events.list: an incremental sync pages with the same syncToken until a new token comes", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const { nextSyncToken } = await listAll(api, { calendarId });
  for (let i = 0; i < 5; i++) await api.events.insert({ calendarId, requestBody: anEvent() });
  const inc = await listAll(api, { calendarId, syncToken: nextSyncToken, maxResults: 2 });
  assert.deepEqual(inc.pages, 3);
  assert.deepEqual(inc.items.length, 5);
});

Deno.test("events.list: a write between two page requests is neither lost nor duplicated", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const events = [];
  for (let i = 0; i < 4; i++) {
    events.push(
      (await api.events.insert({ calendarId, requestBody: anEvent({ summary: `e${i}` }) })).data,
    );
  }
  const first = await api.events.list({ calendarId, maxResults: 2 });
  // Deleting a first-page event must not shift an unchanged one off the second page, and an
  // event edited meanwhile comes back through the next incremental sync.
  await api.events.delete({ calendarId, eventId: first.data.items![0].id! });
  await api.events.patch({
    calendarId,
    eventId: events[3].id!,
    requestBody: { summary: "e3 edited" },
  });
  const second = await api.events.list({
    calendarId,
    maxResults: 2,
    pageToken: first.data.nextPageToken!,
  });
  assert.deepEqual(second.data.items!.map((e) => e.summary), ["e2"]);
  const inc = await listAll(api, { calendarId, syncToken: second.data.nextSyncToken! });
  assert.deepEqual(
    inc.items.map((e) => [e.id, e.status]).sort(),
    [[events[0].id, "cancelled"], [events[3].id, "confirmed"]].sort(),
  );
});

Deno.test("events.list: parameters Google forbids with a syncToken are a 400", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const { nextSyncToken: syncToken } = await listAll(api, { calendarId });
  const forbidden = [
    { timeMin: "2030-01-01T00:00:00Z" },
    { timeMax: "2030-01-01T00:00:00Z" },
    { q: "x" },
    { iCalUID: "x@google.com" },
    { orderBy: "updated" },
    { updatedMin: "2030-01-01T00:00:00Z" },
    { privateExtendedProperty: ["a=b"] },
    { sharedExtendedProperty: ["a=b"] },
    { showDeleted: false },
  ];
  for (const extra of forbidden) {
    const f = await failure(api.events.list({ calendarId, syncToken, ...extra }));
    assert.deepEqual([f.status, f.reason], [400, "invalid"], JSON.stringify(extra));
  }
  // showDeleted=true and singleEvents are allowed.
  await api.events.list({ calendarId, syncToken, showDeleted: true, singleEvents: true });
});

Deno.test("events.list: an invalidated or unknown sync token is a 410 fullSyncRequired", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const { nextSyncToken } = await listAll(api, { calendarId });
  await h.admin("POST", "sync-tokens/invalidate", { calendarId });
  const invalidated = await failure(api.events.list({ calendarId, syncToken: nextSyncToken }));
  assert.deepEqual([invalidated.status, invalidated.reason], [410, "fullSyncRequired"]);
  assert.deepEqual(invalidated.body!.error.errors[0].domain, "calendar");
  const garbage = await failure(api.events.list({ calendarId, syncToken: "not-a-token" }));
  assert.deepEqual([garbage.status, garbage.reason], [410, "fullSyncRequired"]);
  // A fresh full sync yields a working token again.
  const fresh = await listAll(api, { calendarId });
  await api.events.list({ calendarId, syncToken: fresh.nextSyncToken });
});

Deno.test("events.list: a sync token from another calendar is a 410", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const { nextSyncToken } = await listAll(api, { calendarId });
  const f = await failure(
    api.events.list({
      calendarId: "alicework0calendar@group.calendar.google.com",
      syncToken: nextSyncToken,
    }),
  );
  assert.deepEqual([f.status, f.reason], [410, "fullSyncRequired"]);
});

Deno.test("events.list: showDeleted adds cancelled events, which are hidden by default", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  await api.events.delete({ calendarId, eventId: e.id! });
  assert.deepEqual((await api.events.list({ calendarId })).data.items, []);
  const shown = await api.events.list({ calendarId, showDeleted: true });
  assert.deepEqual(shown.data.items!.map((x) => [x.id, x.status]), [[e.id, "cancelled"]]);
});

Deno.test("events.list: timeMin bounds the end and timeMax the start, both exclusive", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  // 09:00-10:00 UTC on 2030-01-07.
  await api.events.insert({ calendarId, requestBody: anEvent({ summary: "nine" }) });
  const count = async (timeMin?: string, timeMax?: string) =>
    (await api.events.list({ calendarId, timeMin, timeMax })).data.items!.length;
  assert.deepEqual(await count("2030-01-07T10:00:00Z"), 0, "ends exactly at timeMin");
  assert.deepEqual(await count("2030-01-07T09:59:59Z"), 1);
  assert.deepEqual(await count(undefined, "2030-01-07T09:00:00Z"), 0, "starts exactly at timeMax");
  assert.deepEqual(await count(undefined, "2030-01-07T09:00:01Z"), 1);
  assert.deepEqual(await count("2030-01-07T10:30:00+01:00", "2030-01-07T12:00:00+01:00"), 1);
  const empty = await failure(
    api.events.list({
      calendarId,
      timeMin: "2030-01-02T00:00:00Z",
      timeMax: "2030-01-01T00:00:00Z",
    }),
  );
  assert.deepEqual([empty.status, empty.reason], [400, "timeRangeEmpty"]);
  const noOffset = await failure(api.events.list({ calendarId, timeMin: "2030-01-01T00:00:00" }));
  assert.deepEqual([noOffset.status, noOffset.reason], [400, "invalid"]);
});

Deno.test("events.list: orderBy startTime needs singleEvents and sorts ascending", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "late" }, "2030-01-09T09:00:00Z"),
  });
  await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "early" }, "2030-01-08T09:00:00Z"),
  });
  const sorted = await api.events.list({ calendarId, singleEvents: true, orderBy: "startTime" });
  assert.deepEqual(sorted.data.items!.map((e) => e.summary), ["early", "late"]);
  const refused = await failure(api.events.list({ calendarId, orderBy: "startTime" }));
  assert.deepEqual([refused.status, refused.reason], [400, "invalid"]);
  const byUpdate = await api.events.list({ calendarId, orderBy: "updated" });
  assert.deepEqual(byUpdate.data.items!.map((e) => e.summary), ["late", "early"]);
});

Deno.test("events.list: q, iCalUID and eventTypes filter the listing", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const a = (await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "Dentist", location: "Mitte" }),
  })).data;
  await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "Gym", description: "legs" }),
  });
  await api.events.insert({
    calendarId,
    requestBody: { ...anEvent({ summary: "Deep work" }), eventType: "focusTime" },
  });
  const q = async (text: string) =>
    (await api.events.list({ calendarId, q: text })).data.items!.map((e) => e.summary);
  assert.deepEqual(await q("mitte"), ["Dentist"]);
  assert.deepEqual(await q("LEGS"), ["Gym"]);
  const byUid = await api.events.list({ calendarId, iCalUID: a.iCalUID! });
  assert.deepEqual(byUid.data.items!.map((e) => e.id), [a.id]);
  const focus = await api.events.list({ calendarId, eventTypes: ["focusTime"] });
  assert.deepEqual(focus.data.items!.map((e) => e.summary), ["Deep work"]);
});

Deno.test("events.list: extended property filters OR within a kind and AND across kinds", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const ext = (priv: Record<string, string>, shared: Record<string, string> = {}) => ({
    extendedProperties: { private: priv, shared },
  });
  await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "a", ...ext({ src: "1" }, { kind: "x" }) }),
  });
  await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "b", ...ext({ src: "2" }) }),
  });
  await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "c", ...ext({ other: "1" }) }),
  });
  const list = async (privateExtendedProperty: string[], sharedExtendedProperty: string[] = []) =>
    (await api.events.list({ calendarId, privateExtendedProperty, sharedExtendedProperty })).data
      .items!
      .map((e) => e.summary).sort();
  assert.deepEqual(await list(["src=1"]), ["a"]);
  assert.deepEqual(await list(["src=1", "src=2"]), ["a", "b"]);
  assert.deepEqual(await list(["src=1", "src=2"], ["kind=x"]), ["a"]);
  assert.deepEqual(await list(["src=3"]), []);
  const bad = await failure(api.events.list({ calendarId, privateExtendedProperty: ["novalue"] }));
  assert.deepEqual(bad.status, 400);
});

Deno.test("events.list: an unknown or inaccessible calendar is a 404 notFound", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const unknown = await failure(api.events.list({ calendarId: "nobody@example.com" }));
  assert.deepEqual([unknown.status, unknown.reason], [404, "notFound"]);
  // Bob's primary exists but is not on Alice's list.
  const foreign = await failure(api.events.list({ calendarId: "bob@example.com" }));
  assert.deepEqual([foreign.status, foreign.reason], [404, "notFound"]);
});

Deno.test("events.list: updatedMin keeps later changes, deletions included without showDeleted", async () => {
  let now = Date.UTC(2030, 0, 1);
  await using h = startHarness(aSeed(), () => now);
  const api = await h.api(ALICE);
  const old =
    (await api.events.insert({ calendarId, requestBody: anEvent({ summary: "old" }) })).data;
  const doomed = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  now += 60_000;
  const fresh = (await api.events.insert({ calendarId, requestBody: anEvent({ summary: "new" }) }))
    .data;
  await api.events.delete({ calendarId, eventId: doomed.id! });
  const res = await api.events.list({ calendarId, updatedMin: new Date(now).toISOString() });
  assert.deepEqual(
    res.data.items!.map((e) => [e.id, e.status]).sort(),
    [[fresh.id, "confirmed"], [doomed.id, "cancelled"]].sort(),
  );
  assert.ok(!res.data.items!.some((e) => e.id === old.id));
});

Deno.test("events.list: timeZone rewrites zone-less dateTimes; over maxAttendees only self is left", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.events.insert({
    calendarId,
    requestBody: anEvent({
      attendees: [{ email: "a@example.com" }, { email: "b@example.com" }, { email: ALICE }],
    }),
  });
  const res = await api.events.list({ calendarId, timeZone: "America/New_York", maxAttendees: 1 });
  const e = res.data.items![0];
  assert.equal(res.data.timeZone, "America/New_York");
  assert.equal(e.start!.dateTime, "2030-01-07T04:00:00-05:00");
  // Over maxAttendees, only the calendar's own entry is left.
  assert.deepEqual(e.attendees!.map((a) => a.email), [ALICE]);
  assert.equal(e.attendeesOmitted, true);
});

Deno.test("events: a calendar shared as free/busy only is listed with its role, its events are 404", async () => {
  await using h = startHarness();
  await h.admin("POST", "seed", {
    users: [{
      email: ALICE,
      name: "Alice",
      calendars: [{
        id: BOB,
        summary: BOB,
        timeZone: "America/New_York",
        accessRole: "freeBusyReader",
      }],
    }],
  });
  const api = await h.api(ALICE);
  const listed = (await api.calendarList.list()).data.items!.find((c) => c.id === BOB);
  assert.equal(listed?.accessRole, "freeBusyReader");
  for (
    const call of [
      api.events.list({ calendarId: BOB }),
      api.events.get({ calendarId: BOB, eventId: "abcde" }),
    ]
  ) {
    const f = await failure(call);
    assert.deepEqual([f.status, f.reason], [404, "notFound"]);
  }
});
