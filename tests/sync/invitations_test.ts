import assert from "node:assert/strict";
import { type Person, summaries, timed, withWorld, type World, writesIn } from "./support.ts";

/**
 * Alex: a work and a personal Google account under one busysync user (each account's primary
 * calendar id is its address), and a colleague who sends invitations.
 */
async function aDoublyInvitedPerson(world: World) {
  const work = await world.aPerson({ work: "UTC" });
  const home = await world.aPerson({ home: "UTC" });
  const colleague = await world.aPerson({ office: "UTC" });
  const alex: Person = { ...work, cal: { work: work.cal.work, home: home.cal.home } };
  return { alex, colleague, work: work.cal.work, home: home.cal.home };
}

/** A work → home rule and a meeting only the work address is invited to, already mirrored. */
async function aMirroredMeeting(world: World, summary: string) {
  const invited = await aDoublyInvitedPerson(world);
  const { alex, colleague, work, home } = invited;
  await world.aRule(alex, { source: work, target: home });
  const meeting = await world.addEvent(colleague.cal.office, {
    ...timed(2, { summary }),
    attendees: [{ email: work.calendarId, responseStatus: "accepted" }],
  });
  await world.sync(alex);
  assert.equal((await world.mirrors(home)).length, 1);
  return { ...invited, meeting };
}

/** The calendar's owner answers its copies of the meetings `which` picks. */
async function answer(
  world: World,
  cal: Person["cal"][string],
  responseStatus: string,
  which: (summary: string) => boolean = () => true,
) {
  for (const copy of await world.events(cal)) {
    if (!which(copy.summary)) continue;
    await world.patchEvent(cal, copy.id, {
      attendees: copy.attendees.map((a: { email: string }) =>
        a.email === cal.calendarId ? { ...a, responseStatus } : a
      ),
    });
  }
}

const mirrorsOf = async (world: World, cal: Person["cal"][string]) =>
  summaries(await world.mirrors(cal));

Deno.test("sync: invited at both addresses", async (t) => {
  await withWorld(async (world) => {
    await t.step(
      "the invitation in each calendar gets no busy block beside it, either way",
      async () => {
        const { alex, colleague, work, home } = await aDoublyInvitedPerson(world);
        await world.aRule(alex, { source: work, target: home, bidirectional: true });
        const invite = (hours: number, summary: string, guests: string[]) =>
          world.addEvent(colleague.cal.office, {
            ...timed(hours, { summary }),
            attendees: guests.map((email) => ({ email })),
          });
        await invite(2, "Both", [work.calendarId, home.calendarId]);
        await invite(3, "Work only", [work.calendarId]);
        // Alex accepts both copies, as a person does: unanswered invitations are never mirrored.
        for (const cal of [work, home]) await answer(world, cal, "accepted");
        await world.sync(alex);
        assert.deepEqual(await mirrorsOf(world, home), ["Busy"], "only the work-only meeting");
        assert.deepEqual(await mirrorsOf(world, work), []);

        // Later invitations arrive in an incremental run: the attendee list says it all.
        await invite(4, "Both later", [work.calendarId, home.calendarId]);
        for (const cal of [work, home]) {
          await answer(world, cal, "accepted", (summary) => summary === "Both later");
        }
        await world.takeRequests();
        await world.sync(alex);
        assert.deepEqual(await mirrorsOf(world, home), ["Busy"]);
        assert.deepEqual(await mirrorsOf(world, work), []);
        assert.equal(writesIn(await world.takeRequests()), 0);

        // Declining at home: the home calendar no longer blocks the time, so work's copy does.
        await answer(world, home, "declined", (summary) => summary === "Both later");
        await world.sync(alex);
        assert.equal((await world.mirrors(home)).length, 2, "the declined meeting is mirrored");
        assert.deepEqual(await mirrorsOf(world, work), []);
      },
    );

    await t.step(
      "a busy block made before the second invitation goes with the run that sees it",
      async () => {
        const { alex, colleague, home, work, meeting } = await aMirroredMeeting(world, "Review");
        // The colleague invites the personal address too: work's copy changes with the guest list.
        await world.patchEvent(colleague.cal.office, meeting.id, {
          attendees: [
            { email: work.calendarId, responseStatus: "accepted" },
            { email: home.calendarId },
          ],
        });
        await world.takeRequests();
        await world.sync(alex);
        assert.equal((await world.mirrors(home)).length, 0);
        const counts = await world.takeRequests();
        assert.equal(counts["events.delete"], 1);
        assert.equal(writesIn(counts), 1);
      },
    );

    await t.step(
      "a copy the attendee list does not name (imported, forwarded) is found by the full reconcile",
      async () => {
        const { alex, home, meeting } = await aMirroredMeeting(world, "Forwarded");
        // The personal calendar gets its own copy without being on the guest list, as an
        // imported invitation would (events.import is not emulated; an insert keeps the iCalUID).
        await world.addEvent(home, {
          ...timed(2, { summary: "Forwarded" }),
          iCalUID: meeting.iCalUID,
        });
        await world.sync(alex);
        assert.equal((await world.mirrors(home)).length, 1, "incremental runs do not list targets");
        await world.sync(alex, { full: true });
        await world.takeRequests();
        await world.sync(alex, { full: true });
        assert.equal(writesIn(await world.takeRequests()), 0);
        assert.equal((await world.mirrors(home)).length, 0);

        // A copy marked free in the target does not block the time there: the block comes back.
        const copy = (await world.events(home)).find((e) => e.summary === "Forwarded")!;
        await world.patchEvent(home, copy.id, { transparency: "transparent" });
        await world.sync(alex, { full: true });
        assert.equal((await world.mirrors(home)).length, 1);
      },
    );

    await t.step("with skipInvitedInTarget off, the invitation is mirrored as before", async () => {
      const { alex, colleague, work, home } = await aDoublyInvitedPerson(world);
      await world.aRule(alex, {
        source: work,
        target: home,
        filters: { skipInvitedInTarget: false },
      });
      await world.addEvent(colleague.cal.office, {
        ...timed(2, { summary: "Both" }),
        attendees: [
          { email: work.calendarId, responseStatus: "accepted" },
          { email: home.calendarId, responseStatus: "accepted" },
        ],
      });
      await world.sync(alex);
      assert.equal((await world.mirrors(home)).length, 1);
    });
  });
});
