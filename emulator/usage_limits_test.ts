import assert from "node:assert/strict";
import { ALICE, ALICE_WORK, anEvent, BOB, failure, startHarness } from "./test_support.ts";

Deno.test("usage limits: creations past the daily limit put the user's calendars in read-only mode", async (t) => {
  let now = Date.UTC(2030, 0, 1);
  await using h = startHarness(undefined, () => now);
  const alice = await h.api(ALICE);
  const bob = await h.api(BOB);
  await h.admin("POST", "usage-limits", { createsPerDay: 3, readOnlyHours: 2 });

  await t.step("the limit counts per user across their calendars", async () => {
    await alice.events.insert({ calendarId: ALICE, requestBody: anEvent({ id: "first0001" }) });
    await alice.events.insert({ calendarId: ALICE_WORK, requestBody: anEvent() });
    await alice.events.insert({ calendarId: ALICE, requestBody: anEvent() });
    const f = await failure(alice.events.insert({ calendarId: ALICE, requestBody: anEvent() }));
    assert.deepEqual([f.status, f.reason], [403, "quotaExceeded"]);
    assert.equal(f.body!.error.errors[0].domain, "usageLimits");
    assert.equal(f.body!.error.message, "Calendar usage limits exceeded.");
    await bob.events.insert({ calendarId: BOB, requestBody: anEvent() });
  });

  await t.step("read-only mode refuses every write of that user, reads still work", async () => {
    const patch = await failure(
      alice.events.patch({
        calendarId: ALICE,
        eventId: "first0001",
        requestBody: { summary: "x" },
      }),
    );
    assert.deepEqual([patch.status, patch.reason], [403, "quotaExceeded"]);
    const del = await failure(alice.events.delete({ calendarId: ALICE, eventId: "first0001" }));
    assert.deepEqual([del.status, del.reason], [403, "quotaExceeded"]);
    assert.equal((await alice.events.list({ calendarId: ALICE })).status, 200);
    const usage = await h.admin<{ users: { email: string; creates: number }[] }>(
      "GET",
      "usage-limits",
    );
    assert.deepEqual(
      usage.users.map((u) => [u.email, u.creates]).sort(),
      [[ALICE, 3], [BOB, 1]],
    );
  });

  await t.step("read-only mode ends after its hours, the count after a day", async () => {
    now += 2 * 3_600_000 + 1;
    const alice = await h.api(ALICE); // the earlier token expired meanwhile
    await alice.events.patch({
      calendarId: ALICE,
      eventId: "first0001",
      requestBody: { summary: "x" },
    });
    const again = await failure(alice.events.insert({ calendarId: ALICE, requestBody: anEvent() }));
    assert.equal(again.reason, "quotaExceeded", "three creations are still within the day");
    now += 24 * 3_600_000;
    await (await h.api(ALICE)).events.insert({ calendarId: ALICE, requestBody: anEvent() });
  });

  await t.step("reset forgets the counts and restores the start settings", async () => {
    await h.admin("POST", "reset");
    assert.deepEqual(await h.admin("GET", "usage-limits"), {
      createsPerDay: null,
      readOnlyHours: 3,
      users: [],
    });
  });
});

Deno.test("usage limits: off by default, and a queriesPerDay fault is a 403 rateLimitExceeded saying so", async () => {
  await using h = startHarness();
  const alice = await h.api(ALICE);
  for (let i = 0; i < 20; i++) {
    await alice.events.insert({ calendarId: ALICE, requestBody: anEvent() });
  }
  await h.admin("POST", "faults", { method: "events.list", fault: "queriesPerDay", times: 1 });
  const f = await failure(alice.events.list({ calendarId: ALICE }));
  assert.deepEqual([f.status, f.reason], [403, "rateLimitExceeded"]);
  assert.match(f.body!.error.message, /Queries per day/);
});
