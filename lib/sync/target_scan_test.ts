import assert from "node:assert/strict";
import { mirrorIdFor } from "./marker.ts";
import { desiredMirror } from "./mirror.ts";
import { TargetScanBuilder } from "./target_scan.ts";
import { anEdge, anEvent, NOW } from "../model/test_builders.ts";
import type { LiveSourceEvent, Mirror, SourceEvent } from "../model/events.ts";

const edge = anEdge();

/** The mirror of `event` as a target listing shows it. */
function listedMirror(event: LiveSourceEvent): LiveSourceEvent {
  const decision = desiredMirror(event, edge, { now: NOW });
  assert.equal(decision.kind, "mirror");
  const m = (decision as { mirror: Mirror }).mirror;
  return {
    id: mirrorIdFor(edge, event.id),
    status: "confirmed",
    summary: m.summary,
    start: m.start,
    end: m.end,
    visibility: m.visibility,
    privateProps: m.privateProps,
    attendees: [{ email: "someone@example.com", responseStatus: "accepted" }],
  };
}

Deno.test("target scan: keeps each edge's mirrors (once), the busysync mirrors and meeting copies", () => {
  const source = anEvent({ id: "s1" });
  const mirror = listedMirror(source);
  const meeting = anEvent({ id: "m1", iCalUID: "meeting@google.com" });
  const builder = new TargetScanBuilder([edge]);
  builder.add([mirror]);
  builder.add([meeting]);
  const scan = builder.finish();
  assert.deepEqual([...scan.marked], [[mirror.id, edge.ruleId]]);
  assert.equal(scan.copies.get("meeting@google.com"), true);
  const found = scan.takeMirrorsOf(edge);
  assert.deepEqual([...found.keys()], [mirror.id]);
  assert.equal(found.get(mirror.id)!.sourceEventId, "s1");
  assert.equal("attendees" in found.get(mirror.id)!, false, "only what drift compares is kept");
  assert.equal(scan.takeMirrorsOf(edge).size, 0, "handed out once");
});

Deno.test("target scan: an event listed again on a later page counts as its last version", () => {
  const mirror = listedMirror(anEvent({ id: "s1" }));
  const meeting = anEvent({ id: "m1", iCalUID: "meeting@google.com" });
  const builder = new TargetScanBuilder([edge]);
  builder.add([mirror, meeting]);
  const gone: SourceEvent[] = [
    { id: mirror.id, status: "cancelled" },
    { ...meeting, transparency: "transparent" },
  ];
  builder.add(gone);
  const scan = builder.finish();
  assert.equal(scan.marked.size, 0);
  assert.equal(scan.takeMirrorsOf(edge).size, 0);
  assert.equal(scan.copies.get("meeting@google.com"), false);
});
