import assert from "node:assert/strict";
import { DEMO_CLIENT, demoSeed } from "./demo_seed.ts";
import { listAll, startHarness } from "./test_support.ts";

const WORK = "alex@work.example.com";
const PERSONAL = "alex.personal@example.com";

Deno.test("demo seed: Alex's two accounts see their calendars with the intended roles", async () => {
  await using h = startHarness(demoSeed(new Date("2030-06-12T10:00:00Z")));
  const work = await (await h.api(WORK)).calendarList.list();
  assert.deepEqual(work.data.items!.map((c) => [c.summary, c.accessRole, !!c.primary]), [
    [WORK, "owner", true],
    ["Team holidays", "reader", false],
    ["Sam Lee", "freeBusyReader", false],
  ]);
  const personal = await (await h.api(PERSONAL)).calendarList.list();
  assert.deepEqual(personal.data.items!.map((c) => c.summary), [PERSONAL, "Family"]);
  assert.deepEqual(demoSeed(new Date()).clients, [DEMO_CLIENT]);
});

Deno.test("demo seed: the work week holds the cases a busy-sync must handle", async () => {
  // Wednesday 2030-06-12: the week runs Monday 10 to Sunday 16 June.
  await using h = startHarness(demoSeed(new Date("2030-06-12T10:00:00Z")));
  const api = await h.api(WORK);
  const { items } = await listAll(api, {
    calendarId: "primary",
    singleEvents: true,
    orderBy: "startTime",
    timeMin: "2030-06-10T00:00:00+02:00",
    timeMax: "2030-06-17T00:00:00+02:00",
  });
  const standups = items.filter((e) => e.recurringEventId);
  assert.equal(standups.length, 4, "five weekdays, one cancelled");
  const moved = standups.find((e) => e.summary === "Team standup (moved)")!;
  assert.equal(moved.start!.dateTime, "2030-06-12T10:00:00+02:00");
  assert.equal(moved.originalStartTime!.dateTime, "2030-06-12T09:30:00+02:00");
  const planning = items.find((e) => e.summary === "Quarterly planning")!;
  assert.equal(planning.organizer!.self, undefined);
  assert.equal(planning.attendees!.find((a) => a.self)!.responseStatus, "declined");
  assert.ok(items.some((e) => e.transparency === "transparent" && e.start!.dateTime));
  assert.ok(items.some((e) => e.eventType === "workingLocation" && e.start!.date === "2030-06-10"));
});
