import assert from "node:assert/strict";
import { mirrorMatches, mirrorsOfEdge, repairLedger, UNKNOWN_HASH } from "./drift.ts";
import { hashMirror } from "./hash.ts";
import { mirrorIdFor } from "./marker.ts";
import { desiredMirror } from "./mirror.ts";
import { anEdge, anEvent, NOW } from "../model/test_builders.ts";
import type { LedgerEntry, LiveSourceEvent, Mirror } from "../model/events.ts";

const edge = anEdge();
const ctx = { now: NOW };

function wanted(event: LiveSourceEvent): Mirror {
  const decision = desiredMirror(event, edge, ctx);
  assert.equal(decision.kind, "mirror");
  return (decision as { mirror: Mirror }).mirror;
}

/** The mirror of `event` as it would be read back from the target. */
function found(event: LiveSourceEvent, edits: Partial<LiveSourceEvent> = {}) {
  const m = wanted(event);
  return {
    id: mirrorIdFor(edge, event.id),
    status: "confirmed" as const,
    summary: m.summary,
    start: m.start,
    end: m.end,
    visibility: m.visibility,
    privateProps: m.privateProps,
    sourceEventId: event.id,
    generation: 0,
    ...edits,
  };
}

function entryFor(event: LiveSourceEvent): LedgerEntry {
  return {
    mirrorId: mirrorIdFor(edge, event.id),
    hash: hashMirror(wanted(event)),
    target: edge.target,
    sourceEventId: event.id,
  };
}

Deno.test("drift: a mirror read back with the same instant in another offset matches", () => {
  const event = anEvent();
  const readBack = found(event, {
    start: { dateTime: "2025-06-03T08:00:00Z" },
    end: { dateTime: "2025-06-03T09:00:00Z" },
  });
  assert.equal(mirrorMatches(readBack, wanted(event)), true);
});

Deno.test("drift: a retitled, moved, or public mirror does not match", () => {
  const event = anEvent();
  for (
    const edit of [
      { summary: "Mine" },
      { start: { dateTime: "2025-06-03T11:00:00+02:00" } },
      { visibility: "public" as const },
      { transparency: "transparent" as const },
    ]
  ) {
    assert.equal(mirrorMatches(found(event, edit), wanted(event)), false, JSON.stringify(edit));
  }
});

Deno.test("drift: only mirrors of this edge with derived ids count as its mirrors", () => {
  const event = anEvent();
  const mine = found(event);
  const copy = { ...mine, id: "usercopy1" };
  const other = found(event, { id: mirrorIdFor(anEdge({ id: "rule2" }), event.id) });
  assert.deepEqual([...mirrorsOfEdge(edge, [mine, copy, other]).keys()], [mine.id]);
});

Deno.test("drift: a missing or edited mirror loses its hash; a right one is left alone", () => {
  const [a, b, c] = ["a", "b", "c"].map((id) => anEvent({ id }));
  const ledger = new Map([a, b, c].map((e) => [e.id, entryFor(e)]));
  const inTarget = new Map([[found(a).id, found(a)], [found(b).id, found(b, { summary: "x" })]]);
  const repair = repairLedger(edge, [a, b, c], ledger, inTarget, ctx);
  assert.equal(repair.repaired, 2);
  assert.equal(repair.ledger.get("a")!.hash, entryFor(a).hash);
  assert.equal(repair.ledger.get("b")!.hash, UNKNOWN_HASH);
  assert.equal(repair.ledger.get("c")!.hash, UNKNOWN_HASH);
  assert.deepEqual(repair.adopted, []);
});

Deno.test("drift: with no ledger, a right mirror is adopted and a stale one seeded for deletion", () => {
  const live = anEvent({ id: "live" });
  const gone = anEvent({ id: "gone" });
  const inTarget = new Map([[found(live).id, found(live)], [found(gone).id, found(gone)]]);
  const repair = repairLedger(edge, [live], new Map(), inTarget, ctx);
  assert.deepEqual(repair.adopted, [entryFor(live)]);
  assert.equal(repair.ledger.get("gone")!.hash, UNKNOWN_HASH);
  assert.equal(repair.ledger.get("gone")!.mirrorId, found(gone).id);
});
