import assert from "node:assert/strict";
import { buildMarker, markerProps, mirrorIdFor } from "./marker.ts";
import { desiredMirror, type MirrorDecision } from "./mirror.ts";
import { buildEdges } from "../model/rule_graph.ts";
import { anAllDayEvent, anEdge, anEvent, aRule, NOW } from "../model/test_builders.ts";
import type { Mirror } from "../model/events.ts";

const ctx = { now: NOW };

function mirrorOf(decision: MirrorDecision): Mirror {
  assert.equal(decision.kind, "mirror", `expected a mirror, got ${JSON.stringify(decision)}`);
  return (decision as { mirror: Mirror }).mirror;
}

/** A source event carrying everything a meeting can, including what must never be copied. */
const richEvent = anEvent({
  summary: "  1:1 with Ana  ",
  description: "Agenda: salary",
  location: "Room 4",
  visibility: "public",
  privateProps: { someoneElse: "x" },
  attendees: [{ email: "ana@x", responseStatus: "accepted" }],
  ...({ hangoutLink: "https://meet", attachments: [{}] }),
});

Deno.test("mirror: busy privacy copies only the time, with the rule's title", () => {
  const mirror = mirrorOf(desiredMirror(richEvent, anEdge(), ctx));
  assert.deepEqual(mirror, {
    summary: "Busy",
    start: { dateTime: "2025-06-03T10:00:00+02:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2025-06-03T11:00:00+02:00", timeZone: "Europe/Berlin" },
    transparency: "opaque",
    visibility: "private",
    reminders: "none",
    privateProps: markerProps(buildMarker(anEdge(), "evt1")),
  });
});

Deno.test("mirror: busy privacy puts the prefix before the rule's own title", () => {
  const edge = anEdge({ title: "Occupied", titlePrefix: "[AUTO-SYNC] " });
  assert.equal(mirrorOf(desiredMirror(richEvent, edge, ctx)).summary, "[AUTO-SYNC] Occupied");
});

Deno.test("mirror: title privacy copies the summary and nothing else", () => {
  const mirror = mirrorOf(
    desiredMirror(richEvent, anEdge({ privacy: "title", titlePrefix: "W: " }), ctx),
  );
  assert.equal(mirror.summary, "W: 1:1 with Ana");
  assert.equal(mirror.location, undefined);
  assert.equal(mirror.description, undefined);
});

Deno.test("mirror: title privacy falls back to the rule's title for an untitled event", () => {
  const edge = anEdge({ privacy: "title" });
  assert.equal(mirrorOf(desiredMirror(anEvent({ summary: undefined }), edge, ctx)).summary, "Busy");
  assert.equal(mirrorOf(desiredMirror(anEvent({ summary: "   " }), edge, ctx)).summary, "Busy");
});

Deno.test("mirror: full privacy adds location and description, never attendees, links or attachments", () => {
  const edge = anEdge({ privacy: "full" });
  const mirror = mirrorOf(desiredMirror(richEvent, edge, ctx));
  assert.deepEqual(mirror, {
    summary: "1:1 with Ana",
    description: "Agenda: salary",
    location: "Room 4",
    start: { dateTime: "2025-06-03T10:00:00+02:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2025-06-03T11:00:00+02:00", timeZone: "Europe/Berlin" },
    transparency: "opaque",
    visibility: "private",
    reminders: "none",
    privateProps: markerProps(buildMarker(edge, "evt1")),
  });
});

Deno.test("mirror: a private or confidential event shows only the busy title unless opted in", () => {
  for (const visibility of ["private", "confidential"] as const) {
    const hidden = { ...richEvent, visibility };
    for (const privacy of ["title", "full"] as const) {
      const mirror = mirrorOf(desiredMirror(hidden, anEdge({ privacy, titlePrefix: "W: " }), ctx));
      assert.deepEqual([mirror.summary, mirror.location, mirror.description], [
        "W: Busy",
        undefined,
        undefined,
      ]);
      const optIn = anEdge({ privacy, titlePrefix: "W: ", copyPrivateTitles: true });
      const copied = mirrorOf(desiredMirror(hidden, optIn, ctx));
      assert.deepEqual([copied.summary, copied.location, copied.description], [
        "W: 1:1 with Ana",
        undefined,
        undefined,
      ]);
    }
  }
});

Deno.test("mirror: visibility comes from the rule, not from the source event", () => {
  assert.equal(mirrorOf(desiredMirror(richEvent, anEdge(), ctx)).visibility, "private");
  assert.equal(
    mirrorOf(desiredMirror(richEvent, anEdge({ visibility: "default" }), ctx)).visibility,
    "default",
  );
});

Deno.test("mirror: a tentative source still yields a busy mirror when the rule keeps it", () => {
  const edge = anEdge({ filters: { skipTentative: false, skipFree: false } });
  const mirror = mirrorOf(desiredMirror(anEvent({ status: "tentative" }), edge, ctx));
  assert.equal(mirror.transparency, "opaque");
});

Deno.test("mirror: an all-day event stays all-day on the same dates", () => {
  const edge = anEdge({ filters: { skipAllDay: false } });
  const mirror = mirrorOf(desiredMirror(anAllDayEvent("2025-06-10", "2025-06-12"), edge, ctx));
  assert.deepEqual([mirror.start, mirror.end], [{ date: "2025-06-10" }, { date: "2025-06-12" }]);
});

Deno.test("mirror: a timed event keeps its instant and zone, whatever the target's zone", () => {
  const tokyo = anEvent({
    start: { dateTime: "2025-06-03T17:00:00+09:00", timeZone: "Asia/Tokyo" },
    end: { dateTime: "2025-06-03T18:00:00+09:00", timeZone: "Asia/Tokyo" },
  });
  const mirror = mirrorOf(desiredMirror(tokyo, anEdge(), ctx));
  assert.deepEqual([mirror.start, mirror.end], [tokyo.start, tokyo.end]);
  const offsetOnly = anEvent({
    start: { dateTime: "2025-06-03T08:00:00Z" },
    end: { dateTime: "2025-06-03T09:00:00Z" },
  });
  assert.deepEqual(mirrorOf(desiredMirror(offsetOnly, anEdge(), ctx)).start, {
    dateTime: "2025-06-03T08:00:00Z",
  });
});

Deno.test("mirror: an instance of a recurring series is mirrored as its own event", () => {
  const instance = anEvent({
    id: "weekly1_20250603T080000Z",
    recurringEventId: "weekly1",
    originalStartTime: { dateTime: "2025-06-03T10:00:00+02:00", timeZone: "Europe/Berlin" },
  });
  const mirror = mirrorOf(desiredMirror(instance, anEdge(), ctx));
  assert.equal(mirror.privateProps.busysyncEvent, "weekly1_20250603T080000Z");
});

Deno.test("mirror: no mirror for a cancelled event", () => {
  assert.deepEqual(desiredMirror({ id: "evt1", status: "cancelled" }, anEdge(), ctx), {
    kind: "skip",
    reason: "cancelled",
  });
});

Deno.test("mirror: a mirror is never mirrored again (A↔B does not ping-pong)", () => {
  const [forward, reverse] = buildEdges([aRule({ bidirectional: true })]);
  const mirrorInHome = anEvent({
    id: mirrorIdFor(forward, "evt1"),
    privateProps: markerProps(buildMarker(forward, "evt1")),
  });
  assert.deepEqual(desiredMirror(mirrorInHome, reverse, ctx), {
    kind: "skip",
    reason: "is_mirror",
  });
});

Deno.test("mirror: a forged copy of a mirror is a real event and is mirrored", () => {
  const edge = anEdge();
  const copy = anEvent({
    id: "copyofmirror1",
    privateProps: markerProps(buildMarker(edge, "evt1")),
  });
  const mirror = mirrorOf(desiredMirror(copy, edge, ctx));
  assert.equal(mirror.privateProps.busysyncEvent, "copyofmirror1");
});

Deno.test("mirror: an event whose times cannot be read gets no mirror", () => {
  assert.deepEqual(desiredMirror(anEvent({ end: { dateTime: "soon" } }), anEdge(), ctx), {
    kind: "skip",
    reason: "unreadable_time",
  });
});

Deno.test("mirror: the window is the rule's, around now, with Google's exclusive bounds", async (t) => {
  // NOW is 2025-06-01T12:00Z; with daysBack 1 the window starts 2025-05-31T12:00Z.
  const edge = anEdge({ window: { daysBack: 1, daysAhead: 2 } });
  const timed = (start: string, end: string) =>
    anEvent({ start: { dateTime: start }, end: { dateTime: end } });
  await t.step("an event ending exactly at the window's start is out", () => {
    const e = timed("2025-05-31T11:00:00Z", "2025-05-31T12:00:00Z");
    assert.deepEqual(desiredMirror(e, edge, ctx), { kind: "skip", reason: "outside_window" });
  });
  await t.step("an event ending a minute later is in", () => {
    const e = timed("2025-05-31T11:00:00Z", "2025-05-31T12:01:00Z");
    assert.equal(desiredMirror(e, edge, ctx).kind, "mirror");
  });
  await t.step("an event starting exactly at the window's end is out", () => {
    const e = timed("2025-06-03T12:00:00Z", "2025-06-03T13:00:00Z");
    assert.deepEqual(desiredMirror(e, edge, ctx), { kind: "skip", reason: "outside_window" });
  });
  await t.step("an event starting a minute earlier is in", () => {
    const e = timed("2025-06-03T11:59:00Z", "2025-06-03T13:00:00Z");
    assert.equal(desiredMirror(e, edge, ctx).kind, "mirror");
  });
});

Deno.test("mirror: all-day events meet the window at midnight in the source calendar's zone", () => {
  // The window opens 2025-06-10T22:30Z. 10 June ends at 2025-06-11T00:00Z in UTC (inside), but
  // at 2025-06-10T10:00Z on Kiritimati (UTC+14), before the window opens.
  const edge = anEdge({ window: { daysBack: 0, daysAhead: 5 }, filters: { skipAllDay: false } });
  const now = new Date("2025-06-10T22:30:00Z");
  const june10 = anAllDayEvent("2025-06-10", "2025-06-11");
  assert.equal(desiredMirror(june10, edge, { now }).kind, "mirror");
  assert.deepEqual(desiredMirror(june10, edge, { now, sourceTimeZone: "Pacific/Kiritimati" }), {
    kind: "skip",
    reason: "outside_window",
  });
});

Deno.test("mirror: a filtered event gets no mirror and says why", () => {
  assert.deepEqual(desiredMirror(anEvent({ selfResponseStatus: "declined" }), anEdge(), ctx), {
    kind: "skip",
    reason: "declined",
  });
});
