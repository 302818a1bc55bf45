import assert from "node:assert/strict";
import {
  buildMarker,
  classifyEvent,
  createMirrorIdMemo,
  deriveMirrorId,
  MARKER_KEYS,
  markerProps,
  mirrorIdFor,
  readMarker,
} from "./marker.ts";
import { anEdge, anEvent } from "../model/test_builders.ts";
import type { Edge } from "../model/events.ts";

const GOOGLE_EVENT_ID = /^[a-v0-9]{5,1024}$/;

Deno.test("mirror id: is a valid Google event id, recognisably ours", () => {
  const id = mirrorIdFor(anEdge(), "evt1");
  assert.match(id, GOOGLE_EVENT_ID);
  assert.match(id, /^bsm/);
  // 3 prefix characters + 52 base32hex characters carrying all 256 bits of the SHA-256.
  assert.equal(id.length, 55);
});

Deno.test("mirror id: the ids already written to calendars and ledgers never change", () => {
  // Literal ids computed before the encoders moved: a different id would re-create every mirror.
  const marker = {
    ruleId: "rule1",
    sourceCalendar: "connHome:me@home.example",
    sourceEvent: "evt1",
  };
  assert.equal(
    deriveMirrorId({ ...marker, generation: 0 }),
    "bsm8prer68aq3plcek8ucnupa29slm23q11mtii26e7uab5fj6uls70",
  );
  assert.equal(
    deriveMirrorId({ ...marker, generation: 1 }),
    "bsmm8rbvi636fu590fo9dlgptvpfsoni279ab05p4budunebdk7oqu0",
  );
  assert.equal(
    deriveMirrorId({ ...marker, generation: 2 }),
    "bsmh4t77shugdrbemghhb0n3tbbf07bk067nfjv5743t8imv33egnn0",
  );
  assert.equal(
    mirrorIdFor(anEdge(), "evt1"),
    "bsmm56f0gc2pcpnprhq8ot4l7lvnlv6tg3nau782tj8814145oka9rg",
  );
  assert.equal(
    mirrorIdFor(anEdge(), "evt1", 1),
    "bsmohj153544b2h66qv3l0ed8f1j0p93rj29peupmp9nlofa5rb3pog",
  );
  assert.equal(
    mirrorIdFor(anEdge(), "evt1", 2),
    "bsmaf13g5j1c5mpuofv7p4bh8hu2csorlh20hl72soh08ka0g2duhqg",
  );
});

Deno.test("mirror id: the same rule, source and event always give the same id", () => {
  assert.equal(mirrorIdFor(anEdge(), "evt1"), mirrorIdFor(anEdge({ privacy: "full" }), "evt1"));
});

Deno.test("mirror id: changing rule, source calendar or event changes the id", () => {
  const ids = new Set([
    mirrorIdFor(anEdge(), "evt1"),
    mirrorIdFor(anEdge({ id: "rule2" }), "evt1"),
    mirrorIdFor(anEdge({ source: { connectionId: "connWork", calendarId: "team@x" } }), "evt1"),
    mirrorIdFor(
      anEdge({ source: { connectionId: "connOther", calendarId: "me@work.example" } }),
      "evt1",
    ),
    mirrorIdFor(anEdge(), "evt2"),
  ]);
  assert.equal(ids.size, 5);
});

Deno.test("mirror id: the marker's parts cannot bleed into each other", () => {
  const a = deriveMirrorId({ ruleId: "ab", sourceCalendar: "c", sourceEvent: "d", generation: 0 });
  const b = deriveMirrorId({ ruleId: "a", sourceCalendar: "bc", sourceEvent: "d", generation: 0 });
  assert.notEqual(a, b);
});

Deno.test("mirror id: ten thousand recurring instances get ten thousand valid, distinct ids", () => {
  const edge = anEdge();
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const id = mirrorIdFor(edge, `series_2025${String(i).padStart(4, "0")}T100000Z`);
    assert.match(id, GOOGLE_EVENT_ID);
    ids.add(id);
  }
  assert.equal(ids.size, 10_000);
});

Deno.test("mirror id: a run's memo gives every marker the id deriveMirrorId gives it", () => {
  const memo = createMirrorIdMemo();
  const markers = [
    { ruleId: "ab", sourceCalendar: "c", sourceEvent: "d", generation: 0 },
    { ruleId: "a", sourceCalendar: "bc", sourceEvent: "d", generation: 0 },
    { ruleId: "a", sourceCalendar: "b", sourceEvent: 'c","d', generation: 0 },
    { ruleId: "a", sourceCalendar: "b", sourceEvent: "c", generation: 0 },
    { ruleId: "a", sourceCalendar: "b", sourceEvent: "c", generation: 2 },
  ];
  for (let round = 0; round < 2; round++) {
    for (const marker of markers) assert.equal(memo(marker), deriveMirrorId(marker));
  }
  const edge = anEdge();
  assert.equal(mirrorIdFor(edge, "evt1", 0, memo), mirrorIdFor(edge, "evt1"));
});

Deno.test("marker: keys fit Google's 44-character limit and values its 1024", () => {
  // The rule schema allows 1024 characters; the calendar key adds the connection id.
  const longCalendar = "c".repeat(990) + "@group.calendar.google.com";
  const edge = anEdge({
    source: { connectionId: "connWork", calendarId: longCalendar },
    identity: { kind: "group" },
  });
  const props = markerProps(buildMarker(edge, "e".repeat(3000), 7));
  for (const [key, value] of Object.entries(props)) {
    assert.ok(key.length <= 44, key);
    assert.ok(value.length <= 1024, key);
  }
  assert.deepEqual(Object.keys(props).sort(), Object.values(MARKER_KEYS).sort());
});

Deno.test("marker: a long source calendar id is stored as its hash and still identifies the mirror", () => {
  const longCalendar = "c".repeat(1020);
  const edge = anEdge({ source: { connectionId: "connWork", calendarId: longCalendar } });
  const marker = buildMarker(edge, "evt1");
  assert.match(marker.sourceCalendar, /^sha256:[0-9a-f]{64}$/);
  const other = buildMarker(
    anEdge({ source: { connectionId: "connWork", calendarId: longCalendar.slice(1) + "x" } }),
    "evt1",
  );
  assert.notEqual(marker.sourceCalendar, other.sourceCalendar);
  const mirror = anEvent({ id: mirrorIdFor(edge, "evt1"), privateProps: markerProps(marker) });
  assert.equal(classifyEvent(mirror).kind, "mirror");
});

Deno.test("marker: short values are stored readably", () => {
  assert.deepEqual(buildMarker(anEdge(), "evt1"), {
    ruleId: "rule1",
    sourceCalendar: "connWork:me@work.example",
    sourceEvent: "evt1",
    generation: 0,
  });
});

Deno.test("marker: a new id generation is a new id, recognised as a mirror, and reads back", () => {
  const edge = anEdge();
  const marker = buildMarker(edge, "evt1", 2);
  const props = markerProps(marker);
  assert.equal(props[MARKER_KEYS.generation], "2");
  assert.deepEqual(readMarker(props), marker);
  const id = mirrorIdFor(edge, "evt1", 2);
  assert.notEqual(id, mirrorIdFor(edge, "evt1"));
  assert.notEqual(id, mirrorIdFor(edge, "evt1", 1));
  assert.match(id, /^[a-v0-9]{5,1024}$/);
  assert.equal(classifyEvent(anEvent({ id, privateProps: props })).kind, "mirror");
  // The generation is part of the proof: the same marker under another generation's id is not.
  const other = anEvent({ id: mirrorIdFor(edge, "evt1", 1), privateProps: props });
  assert.equal(classifyEvent(other).kind, "event");
  // Generation 0 writes no property, so mirrors made before generations existed keep their ids.
  assert.equal(markerProps(buildMarker(edge, "evt1"))[MARKER_KEYS.generation], undefined);
  for (const bad of ["0", "01", "-1", "x", ""]) {
    assert.equal(readMarker({ ...props, [MARKER_KEYS.generation]: bad }), undefined);
  }
});

Deno.test("marker: reading needs the flag and every part", () => {
  const props = markerProps(buildMarker(anEdge(), "evt1"));
  assert.deepEqual(readMarker(props), buildMarker(anEdge(), "evt1"));
  assert.equal(readMarker(undefined), undefined);
  assert.equal(readMarker({ ...props, [MARKER_KEYS.flag]: "0" }), undefined);
  const { [MARKER_KEYS.event]: _dropped, ...partial } = props;
  assert.equal(readMarker(partial), undefined);
});

Deno.test("classify: an event with our marker and the id derived from it is a mirror", () => {
  const marker = buildMarker(anEdge(), "evt1");
  const mirror = anEvent({ id: deriveMirrorId(marker), privateProps: markerProps(marker) });
  assert.deepEqual(classifyEvent(mirror), { kind: "mirror", marker });
});

Deno.test("classify: a user's copy of a mirror (marker copied, new id) is a real event", () => {
  const marker = buildMarker(anEdge(), "evt1");
  const copy = anEvent({ id: "duplicatedbyuser01", privateProps: markerProps(marker) });
  assert.deepEqual(classifyEvent(copy), { kind: "event" });
});

Deno.test("classify: a series split off a mirrored series (new id, marker copied) is a real event", () => {
  const marker = buildMarker(anEdge(), "series1");
  const split = anEvent({
    id: deriveMirrorId(marker) + "_r20250610t100000",
    privateProps: markerProps(marker),
  });
  assert.equal(classifyEvent(split).kind, "event");
});

Deno.test("classify: an instance of a mirrored series (recurringEventId is the derived id) is a mirror", () => {
  const marker = buildMarker(anEdge(), "series1");
  const seriesId = deriveMirrorId(marker);
  const instance = anEvent({
    id: `${seriesId}_20250610T080000Z`,
    recurringEventId: seriesId,
    privateProps: markerProps(marker),
  });
  assert.equal(classifyEvent(instance).kind, "mirror");
});

Deno.test("classify: events without the marker are real, even with an id shaped like ours", () => {
  assert.equal(classifyEvent(anEvent({ id: mirrorIdFor(anEdge(), "evt1") })).kind, "event");
  assert.equal(classifyEvent({ id: "gone1", status: "cancelled" }).kind, "event");
});

Deno.test("marker: a group's mirrors of one event differ per target; a rule's and an adopted edge's do not name it", () => {
  const into = (calendarId: string, identity?: Edge["identity"]) =>
    anEdge({ target: { connectionId: "connHome", calendarId }, identity });
  const group = { kind: "group" } as const;
  const a = buildMarker(into("b@example.com", group), "evt1");
  const b = buildMarker(into("c@example.com", group), "evt1");
  assert.equal(a.targetCalendar, "connHome:b@example.com");
  assert.notEqual(deriveMirrorId(a), deriveMirrorId(b));
  assert.deepEqual(readMarker(markerProps(a)), a);
  const rule = buildMarker(into("b@example.com"), "evt1");
  assert.equal(rule.targetCalendar, undefined);
  assert.notEqual(deriveMirrorId(rule), deriveMirrorId({ ...rule, targetCalendar: "x" }));
  const adopted = buildMarker(into("b@example.com", { kind: "adopted", ruleId: "R1" }), "evt1");
  assert.deepEqual(adopted, { ...rule, ruleId: "R1" });
  const memo = createMirrorIdMemo();
  assert.equal(memo(a), deriveMirrorId(a));
  assert.notEqual(memo(b), memo(a));
});
