import assert from "node:assert/strict";
import { hashMirror } from "./hash.ts";
import { desiredMirror } from "./mirror.ts";
import { anEdge, anEvent, NOW } from "../model/test_builders.ts";
import type { Edge, LiveSourceEvent, Mirror } from "../model/events.ts";

function hashOf(event: LiveSourceEvent, edge: Edge = anEdge()): string {
  const decision = desiredMirror(event, edge, { now: NOW });
  assert.equal(decision.kind, "mirror");
  return hashMirror((decision as { mirror: Mirror }).mirror);
}

Deno.test("hash: is a SHA-256 hex digest, the same for the same mirror", () => {
  assert.match(hashOf(anEvent()), /^[0-9a-f]{64}$/);
  assert.equal(hashOf(anEvent()), hashOf(anEvent()));
});

Deno.test("hash: a title change under busy privacy changes nothing, so costs no write", () => {
  assert.equal(
    hashOf(anEvent({ summary: "Dentist" })),
    hashOf(anEvent({ summary: "Job interview" })),
  );
});

Deno.test("hash: changes the mirror does not copy leave it unchanged", () => {
  const base = hashOf(anEvent());
  assert.equal(hashOf(anEvent({ description: "new agenda", location: "elsewhere" })), base);
  assert.equal(hashOf(anEvent({ updated: "2025-06-02T00:00:00Z", visibility: "public" })), base);
});

Deno.test("hash: a title change under title privacy changes it", () => {
  const edge = anEdge({ privacy: "title" });
  assert.notEqual(
    hashOf(anEvent({ summary: "Dentist" }), edge),
    hashOf(anEvent({ summary: "Job interview" }), edge),
  );
});

Deno.test("hash: a moved event changes it", () => {
  const moved = anEvent({
    start: { dateTime: "2025-06-03T10:30:00+02:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2025-06-03T11:30:00+02:00", timeZone: "Europe/Berlin" },
  });
  assert.notEqual(hashOf(moved), hashOf(anEvent()));
});

Deno.test("hash: a change of rule settings that shows in the mirror changes it", () => {
  assert.notEqual(hashOf(anEvent(), anEdge({ visibility: "default" })), hashOf(anEvent()));
  assert.notEqual(hashOf(anEvent(), anEdge({ titlePrefix: "W " })), hashOf(anEvent()));
});

Deno.test("hash: key order and undefined fields do not matter", () => {
  const mirror: Mirror = {
    summary: "Busy",
    start: { dateTime: "2025-06-03T10:00:00Z" },
    end: { dateTime: "2025-06-03T11:00:00Z" },
    transparency: "opaque",
    visibility: "private",
    reminders: "none",
    privateProps: { b: "2", a: "1" },
  };
  const reordered = {
    privateProps: { a: "1", b: "2" },
    reminders: "none",
    visibility: "private",
    transparency: "opaque",
    end: { dateTime: "2025-06-03T11:00:00Z" },
    start: { dateTime: "2025-06-03T10:00:00Z", timeZone: undefined },
    summary: "Busy",
    location: undefined,
  } as Mirror;
  assert.equal(hashMirror(reordered), hashMirror(mirror));
});

Deno.test("hash: the canonical form never changes, since every stored ledger entry holds one", () => {
  const mirror = {
    summary: 'Busy é "q" 😀',
    start: { dateTime: "2025-06-03T10:00:00Z", timeZone: "Europe/Berlin" },
    end: { date: "2025-06-04" },
    transparency: "opaque",
    visibility: "private",
    reminders: "none",
    description: "line\nbreak",
    location: undefined,
    privateProps: { busysyncRule: "r1", busysync: "1", busysyncEvent: "e\u0000x" },
  } as Mirror;
  assert.equal(
    hashMirror(mirror),
    "d23d9d59b41e308899c7b554b882d7f579359edd2bc1dad5075fbdeb9d57573e",
  );
});
