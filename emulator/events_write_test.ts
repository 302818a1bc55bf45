import assert from "node:assert/strict";
import {
  ALICE,
  ALICE_WORK,
  anEvent,
  BOB,
  failure,
  listAll,
  SHARED,
  startHarness,
} from "./test_support.ts";

const calendarId = ALICE;

Deno.test("events.insert: the server fills in Google's read-only fields", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const res = await api.events.insert({
    calendarId,
    requestBody: anEvent({ summary: "Planning" }, "2030-01-07T09:00:00Z"),
  });
  const e = res.data;
  assert.equal(res.status, 200);
  assert.equal(e.kind, "calendar#event");
  assert.match(e.id!, /^[a-v0-9]{26}$/);
  assert.equal(e.iCalUID, `${e.id}@google.com`);
  assert.equal(e.status, "confirmed");
  assert.equal(e.sequence, 0);
  assert.equal(e.eventType, "default");
  assert.match(e.etag!, /^"\d+"$/);
  assert.ok(e.created && e.updated);
  assert.deepEqual(e.creator, { email: ALICE, self: true });
  assert.deepEqual(e.organizer, { email: ALICE, self: true });
  // A dateTime is written in the calendar's zone when the event has none (Europe/Berlin here).
  assert.deepEqual(e.start, { dateTime: "2030-01-07T10:00:00+01:00" });
  assert.equal(e.transparency, undefined, "opaque is the default and left out");
});

Deno.test("events.insert: a secondary calendar is the organizer of its events", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId: ALICE_WORK, requestBody: anEvent() })).data;
  assert.deepEqual(e.organizer, { email: ALICE_WORK, displayName: "Work", self: true });
});

Deno.test("events.insert: client ids must be base32hex of 5 to 1024 characters", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  for (const id of ["abc", "UPPERCASE1", "has-dash1", "wxyz12345", "a".repeat(1025)]) {
    const f = await failure(api.events.insert({ calendarId, requestBody: anEvent({ id }) }));
    assert.deepEqual([f.status, f.reason], [400, "invalid"], id);
  }
  const ok = await api.events.insert({ calendarId, requestBody: anEvent({ id: "abcde01234" }) });
  assert.equal(ok.data.id, "abcde01234");
});

Deno.test("events.insert: a duplicate id is 409, also after the event was deleted", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const id = "mirror0000000001";
  await api.events.insert({ calendarId, requestBody: anEvent({ id }) });
  const dup = await failure(api.events.insert({ calendarId, requestBody: anEvent({ id }) }));
  assert.deepEqual([dup.status, dup.reason], [409, "duplicate"]);
  await api.events.delete({ calendarId, eventId: id });
  const afterDelete = await failure(
    api.events.insert({ calendarId, requestBody: anEvent({ id }) }),
  );
  assert.deepEqual([afterDelete.status, afterDelete.reason], [409, "duplicate"]);
  // The same id is free in another calendar.
  await api.events.insert({ calendarId: ALICE_WORK, requestBody: anEvent({ id }) });
});

Deno.test("events.insert: missing or inconsistent times are refused", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const cases: [unknown, string][] = [
    [{ summary: "x", start: { dateTime: "2030-01-01T10:00:00Z" } }, "required"],
    [
      { start: { dateTime: "2030-01-01T10:00:00" }, end: { dateTime: "2030-01-01T11:00:00" } },
      "required",
    ],
    [{ start: { date: "2030-01-01" }, end: { dateTime: "2030-01-01T11:00:00Z" } }, "invalid"],
    [
      { start: { dateTime: "2030-01-01T10:00:00Z" }, end: { dateTime: "2030-01-01T09:00:00Z" } },
      "timeRangeEmpty",
    ],
    [{
      start: { dateTime: "2030-01-01T10:00:00Z", timeZone: "Mars/Olympus" },
      end: { dateTime: "2030-01-01T11:00:00Z" },
    }, "invalid"],
    [{ ...anEvent(), recurrence: ["RRULE:FREQ=WEEKLY"] }, "required"],
  ];
  for (const [body, reason] of cases) {
    const f = await failure(api.events.insert({ calendarId, requestBody: body as never }));
    assert.deepEqual([f.status, f.reason], [400, reason], JSON.stringify(body));
  }
});

Deno.test("events.insert: a dateTime without offset is read in its timeZone", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({
    calendarId,
    requestBody: {
      start: { dateTime: "2030-07-01T09:00:00", timeZone: "America/New_York" },
      end: { dateTime: "2030-07-01T10:00:00", timeZone: "America/New_York" },
    },
  })).data;
  assert.deepEqual(e.start, {
    dateTime: "2030-07-01T09:00:00-04:00",
    timeZone: "America/New_York",
  });
  const inWindow = await api.events.list({
    calendarId,
    timeMin: "2030-07-01T13:00:00Z",
    timeMax: "2030-07-01T13:30:00Z",
  });
  assert.equal(inWindow.data.items!.length, 1);
});

Deno.test("events: all-day events keep dates and occupy whole days in the calendar's zone", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({
    calendarId,
    requestBody: { summary: "Holiday", start: { date: "2030-05-01" }, end: { date: "2030-05-03" } },
  })).data;
  assert.deepEqual([e.start, e.end], [{ date: "2030-05-01" }, { date: "2030-05-03" }]);
  const count = async (timeMin: string, timeMax: string) =>
    (await api.events.list({ calendarId, timeMin, timeMax })).data.items!.length;
  // Berlin is UTC+2 in May: the event covers 2030-04-30T22:00Z to 2030-05-02T22:00Z.
  assert.equal(await count("2030-04-30T21:00:00Z", "2030-04-30T22:00:00Z"), 0);
  assert.equal(await count("2030-05-02T21:00:00Z", "2030-05-02T21:30:00Z"), 1);
  assert.equal(await count("2030-05-02T22:00:00Z", "2030-05-03T00:00:00Z"), 0);
});

Deno.test("events.get: a deleted event stays readable as cancelled", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e =
    (await api.events.insert({ calendarId, requestBody: anEvent({ summary: "gone" }) })).data;
  const del = await api.events.delete({ calendarId, eventId: e.id! });
  assert.equal(del.status, 204);
  assert.equal(del.data, "");
  const got = (await api.events.get({ calendarId, eventId: e.id! })).data;
  assert.equal(got.status, "cancelled");
  assert.equal(got.summary, "gone");
  const missing = await failure(api.events.get({ calendarId, eventId: "nosuchevent1" }));
  assert.deepEqual([missing.status, missing.reason], [404, "notFound"]);
});

Deno.test("events.delete: deleting twice is 410 deleted", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  await api.events.delete({ calendarId, eventId: e.id! });
  const again = await failure(api.events.delete({ calendarId, eventId: e.id! }));
  assert.deepEqual([again.status, again.reason], [410, "deleted"]);
});

Deno.test("events.patch: setting status confirmed restores a deleted event", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e =
    (await api.events.insert({ calendarId, requestBody: anEvent({ summary: "back" }) })).data;
  await api.events.delete({ calendarId, eventId: e.id! });
  const { nextSyncToken } = await listAll(api, { calendarId });
  const restored = (await api.events.patch({
    calendarId,
    eventId: e.id!,
    requestBody: { status: "confirmed" },
  })).data;
  assert.equal(restored.status, "confirmed");
  assert.deepEqual((await api.events.list({ calendarId })).data.items!.map((x) => x.id), [e.id]);
  const inc = await listAll(api, { calendarId, syncToken: nextSyncToken });
  assert.deepEqual(inc.items.map((x) => [x.id, x.status, x.summary]), [[
    e.id,
    "confirmed",
    "back",
  ]]);
});

Deno.test("events.update: a PUT without status restores a deleted event too", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  await api.events.delete({ calendarId, eventId: e.id! });
  const put = await api.events.update({ calendarId, eventId: e.id!, requestBody: anEvent() });
  assert.equal(put.data.status, "confirmed");
});

Deno.test("events: a stale If-Match is 412 and If-None-Match with the current etag is 304", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  const patched = (await api.events.patch({
    calendarId,
    eventId: e.id!,
    requestBody: { summary: "v2" },
  }, { headers: { "If-Match": e.etag! } })).data;
  assert.notEqual(patched.etag, e.etag, "every write changes the etag");
  const stale = { headers: { "If-Match": e.etag! } };
  const staleWrites = [
    () => api.events.patch({ calendarId, eventId: e.id!, requestBody: { summary: "v3" } }, stale),
    () => api.events.update({ calendarId, eventId: e.id!, requestBody: anEvent() }, stale),
    () => api.events.delete({ calendarId, eventId: e.id! }, stale),
  ];
  for (const write of staleWrites) {
    const f = await failure(write());
    assert.deepEqual([f.status, f.reason], [412, "conditionNotMet"]);
  }
  const notModified = await api.events.get({ calendarId, eventId: e.id! }, {
    headers: { "If-None-Match": patched.etag! },
  });
  assert.equal(notModified.status, 304);
  const modified = await api.events.get({ calendarId, eventId: e.id! }, {
    headers: { "If-None-Match": e.etag! },
  });
  assert.equal(modified.status, 200);
});

Deno.test("events.patch: null deletes an extended property; update drops omitted ones", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({
    calendarId,
    requestBody: anEvent({
      extendedProperties: { private: { a: "1", b: "2" }, shared: { s: "x" } },
    }),
  })).data;
  const patched = (await api.events.patch({
    calendarId,
    eventId: e.id!,
    requestBody: { extendedProperties: { private: { a: null as unknown as string, c: "3" } } },
  })).data;
  assert.deepEqual(patched.extendedProperties, { private: { b: "2", c: "3" }, shared: { s: "x" } });
  assert.equal(patched.summary, "Meeting", "fields the patch does not name are kept");
  const put = (await api.events.update({
    calendarId,
    eventId: e.id!,
    requestBody: anEvent({ summary: "replaced" }),
  })).data;
  assert.equal(put.extendedProperties, undefined);
  assert.equal(put.summary, "replaced");
});

Deno.test("events: extended properties follow Google's size limits", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({
    calendarId,
    requestBody: anEvent({
      extendedProperties: {
        private: { ["k".repeat(44)]: "ok", ["k".repeat(45)]: "dropped", long: "v".repeat(2000) },
      },
    }),
  })).data;
  const priv = e.extendedProperties!.private!;
  assert.deepEqual(Object.keys(priv).sort(), ["k".repeat(44), "long"]);
  assert.equal(priv.long.length, 1024);
  const many = Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`k${i}`, "v"]));
  const tooMany = await failure(api.events.insert({
    calendarId,
    requestBody: anEvent({ extendedProperties: { private: many } }),
  }));
  assert.deepEqual([tooMany.status, tooMany.reason], [400, "invalid"]);
  const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "v".repeat(1000)]));
  const tooBig = await failure(api.events.insert({
    calendarId,
    requestBody: anEvent({ extendedProperties: { shared: big } }),
  }));
  assert.equal(tooBig.status, 400);
});

Deno.test("events: transparency, visibility, status and sequence behave like Google's", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({
    calendarId,
    requestBody: anEvent({
      transparency: "transparent",
      visibility: "private",
      status: "tentative",
    }),
  })).data;
  assert.deepEqual([e.transparency, e.visibility, e.status], [
    "transparent",
    "private",
    "tentative",
  ]);
  const renamed =
    (await api.events.patch({ calendarId, eventId: e.id!, requestBody: { summary: "x" } })).data;
  assert.equal(renamed.sequence, 0, "a rename is not a significant change");
  const moved = (await api.events.patch({
    calendarId,
    eventId: e.id!,
    requestBody: {
      start: { dateTime: "2030-01-07T11:00:00Z" },
      end: { dateTime: "2030-01-07T12:00:00Z" },
    },
  })).data;
  assert.equal(moved.sequence, 1, "moving an event bumps its sequence");
  const invalid = await failure(api.events.insert({
    calendarId,
    requestBody: anEvent({ transparency: "see-through" }),
  }));
  assert.equal(invalid.status, 400);
});

Deno.test("events: outOfOffice and focusTime are timed busy events, as Google creates them", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const ooo = (await api.events.insert({
    calendarId,
    requestBody: anEvent({
      eventType: "outOfOffice",
      outOfOfficeProperties: { autoDeclineMode: "declineAllConflictingInvitations" },
    }),
  })).data;
  assert.equal(ooo.eventType, "outOfOffice");
  assert.equal(ooo.transparency, undefined, "opaque: it blocks time");
  assert.equal(ooo.outOfOfficeProperties?.autoDeclineMode, "declineAllConflictingInvitations");
  for (const eventType of ["outOfOffice", "focusTime"]) {
    const allDay = await failure(api.events.insert({
      calendarId,
      requestBody: { eventType, start: { date: "2030-01-07" }, end: { date: "2030-01-08" } },
    }));
    assert.deepEqual([allDay.status, allDay.reason], [400, "invalid"], `${eventType} all-day`);
    const free = await failure(api.events.insert({
      calendarId,
      requestBody: anEvent({ eventType, transparency: "transparent" }),
    }));
    assert.deepEqual([free.status, free.reason], [400, "invalid"], `${eventType} free`);
  }
});

Deno.test("events: focusTime, outOfOffice and workingLocation exist only on primary calendars", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  for (const eventType of ["focusTime", "outOfOffice", "workingLocation"]) {
    await api.events.insert({ calendarId, requestBody: anEvent({ eventType }) });
    const f = await failure(
      api.events.insert({ calendarId: ALICE_WORK, requestBody: anEvent({ eventType }) }),
    );
    assert.deepEqual([f.status, f.reason], [400, "invalid"], eventType);
  }
  const gmail = await failure(
    api.events.insert({ calendarId, requestBody: anEvent({ eventType: "fromGmail" }) }),
  );
  assert.equal(gmail.status, 400);
  const e = (await api.events.insert({ calendarId, requestBody: anEvent() })).data;
  const change = await failure(
    api.events.patch({ calendarId, eventId: e.id!, requestBody: { eventType: "focusTime" } }),
  );
  assert.equal(change.status, 400, "the event type never changes");
  const birthday = await api.events.insert({
    calendarId,
    requestBody: {
      eventType: "birthday",
      start: { date: "2030-03-01" },
      end: { date: "2030-03-02" },
      recurrence: ["RRULE:FREQ=YEARLY"],
      visibility: "private",
      transparency: "transparent",
    },
  });
  assert.equal(birthday.data.eventType, "birthday");
});

Deno.test("events: attendees get responseStatus, and self marks the calendar's own entry", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  const e = (await api.events.insert({
    calendarId,
    requestBody: anEvent({
      attendees: [
        { email: ALICE, responseStatus: "accepted" },
        { email: "carol@example.com", responseStatus: "declined" },
        { email: "dave@example.com" },
      ],
    }),
  })).data;
  assert.deepEqual(e.attendees, [
    { email: ALICE, responseStatus: "accepted", organizer: true, self: true },
    { email: "carol@example.com", responseStatus: "declined" },
    { email: "dave@example.com", responseStatus: "needsAction" },
  ]);
  const missing = await failure(
    api.events.insert({ calendarId, requestBody: anEvent({ attendees: [{}] }) }),
  );
  assert.deepEqual([missing.status, missing.reason], [400, "required"]);
});

Deno.test("events: a reader may read a shared calendar but writes are 403 requiredAccessLevel", async () => {
  await using h = startHarness();
  const alice = await h.api(ALICE);
  const bob = await h.api(BOB);
  const e = (await alice.events.insert({ calendarId: SHARED, requestBody: anEvent() })).data;
  const seen = (await bob.events.get({ calendarId: SHARED, eventId: e.id! })).data;
  assert.equal(seen.creator!.self, undefined, "self is relative to the reader");
  const writes = [
    () => bob.events.insert({ calendarId: SHARED, requestBody: anEvent() }),
    () => bob.events.patch({ calendarId: SHARED, eventId: e.id!, requestBody: { summary: "x" } }),
    () => bob.events.delete({ calendarId: SHARED, eventId: e.id! }),
  ];
  for (const write of writes) {
    const f = await failure(write());
    assert.deepEqual([f.status, f.reason], [403, "requiredAccessLevel"]);
  }
});

Deno.test("events: a malformed JSON body is a 400 parseError", async () => {
  await using h = startHarness();
  const tokens = await h.admin<{ access_token: string }>("POST", "tokens", { email: ALICE });
  const res = await fetch(`${h.url}/calendar/v3/calendars/primary/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${tokens.access_token}`, "content-type": "application/json" },
    body: "{not json",
  });
  const body = await res.json();
  assert.deepEqual([res.status, body.error.errors[0].reason], [400, "parseError"]);
});
