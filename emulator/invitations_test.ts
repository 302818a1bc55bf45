import assert from "node:assert/strict";
import { ALICE, ALICE_WORK, anEvent, BOB, startHarness } from "./test_support.ts";

const listOf = async (api: Awaited<ReturnType<ReturnType<typeof startHarness>["api"]>>) =>
  (await api.events.list({ calendarId: "primary", showDeleted: true })).data.items ?? [];

Deno.test("invitations: an attendee's primary calendar gets its own copy with the same iCalUID", async (t) => {
  await using h = startHarness();
  const alice = await h.api(ALICE);
  const bob = await h.api(BOB);
  const meeting = (await alice.events.insert({
    calendarId: ALICE_WORK,
    requestBody: anEvent({
      summary: "Planning",
      attendees: [{ email: BOB }, { email: "stranger@example.org", responseStatus: "accepted" }],
    }),
  })).data;

  await t.step("the copy: own id, same iCalUID, the organizer's, Bob's entry self", async () => {
    const [copy] = await listOf(bob);
    assert.notEqual(copy.id, meeting.id);
    assert.equal(copy.iCalUID, meeting.iCalUID);
    assert.equal(copy.summary, "Planning");
    assert.equal(copy.organizer!.email, ALICE_WORK);
    assert.equal(copy.organizer!.self, undefined);
    assert.deepEqual(copy.attendees!.find((a) => a.self), {
      email: BOB,
      responseStatus: "needsAction",
      self: true,
    });
  });

  await t.step("Bob's answer in his copy reaches the organizer's event", async () => {
    const [copy] = await listOf(bob);
    await bob.events.patch({
      calendarId: "primary",
      eventId: copy.id!,
      requestBody: {
        attendees: copy.attendees!.map((a) => a.self ? { ...a, responseStatus: "declined" } : a),
      },
    });
    const original = (await alice.events.get({ calendarId: ALICE_WORK, eventId: meeting.id! }))
      .data;
    assert.equal(original.attendees!.find((a) => a.email === BOB)!.responseStatus, "declined");
  });

  await t.step("a move by the organizer moves the copy and keeps Bob's answer", async () => {
    await alice.events.patch({
      calendarId: ALICE_WORK,
      eventId: meeting.id!,
      requestBody: anEvent({}, "2030-01-08T09:00:00Z"),
    });
    const [copy] = await listOf(bob);
    assert.equal(Date.parse(copy.start!.dateTime!), Date.parse("2030-01-08T09:00:00Z"));
    assert.equal(copy.attendees!.find((a) => a.self)!.responseStatus, "declined");
  });

  await t.step("taking Bob off the list, or deleting the meeting, cancels his copy", async () => {
    await alice.events.patch({
      calendarId: ALICE_WORK,
      eventId: meeting.id!,
      requestBody: { attendees: [{ email: "stranger@example.org" }] },
    });
    assert.equal((await listOf(bob))[0].status, "cancelled");
    await alice.events.patch({
      calendarId: ALICE_WORK,
      eventId: meeting.id!,
      requestBody: { attendees: [{ email: BOB }] },
    });
    assert.equal((await listOf(bob))[0].status, "confirmed");
    await alice.events.delete({ calendarId: ALICE_WORK, eventId: meeting.id! });
    const after = await listOf(bob);
    assert.equal(after.length, 1);
    assert.equal(after[0].status, "cancelled");
  });
});

Deno.test("invitations: unknown addresses and the organizer's own entry get no copy", async () => {
  await using h = startHarness();
  const alice = await h.api(ALICE);
  await alice.events.insert({
    calendarId: "primary",
    requestBody: anEvent({ attendees: [{ email: ALICE }, { email: "nobody@example.net" }] }),
  });
  assert.equal((await listOf(alice)).length, 1);
  assert.equal((await listOf(await h.api(BOB))).length, 0);
});
