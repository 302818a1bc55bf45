import assert from "node:assert/strict";
import { buildEdges } from "../model/rule_graph.ts";
import { hashMirror } from "./hash.ts";
import { buildMarker, markerProps, mirrorIdFor } from "./marker.ts";
import { desiredMirror, type MirrorDecision } from "./mirror.ts";
import {
  checkDeleteGuard,
  EdgePlanner,
  planChanges,
  planEvent,
  type SourceChanges,
  tallyOps,
} from "./plan.ts";
import { anEdge, anEvent, aRule, HOME, NOW, WORK } from "../model/test_builders.ts";
import type { Edge, LedgerEntry, Mirror, PlannedOp, SourceEvent } from "../model/events.ts";

const ctx = { now: NOW };
const edge = anEdge();

function decide(event: SourceEvent, on: Edge = edge): MirrorDecision {
  return desiredMirror(event, on, ctx);
}

/** The ledger entry busysync would hold after mirroring `event` on `on`. */
function entryFor(event: SourceEvent, on: Edge = edge): LedgerEntry {
  const decision = decide(event, on);
  assert.equal(decision.kind, "mirror");
  return {
    mirrorId: mirrorIdFor(on, event.id),
    hash: hashMirror((decision as { mirror: Mirror }).mirror),
    target: on.target,
    sourceEventId: event.id,
    ...(event.recurringEventId ? { recurringEventId: event.recurringEventId } : {}),
  };
}

/** Kind and reason of each op, the part a test usually cares about. */
const summary = (ops: PlannedOp[]) =>
  ops.map((op) => `${op.kind}:${op.reason}:${op.sourceEventId}`);

Deno.test("plan: a new event creates its mirror under the derived id", () => {
  const ops = planEvent(decide(anEvent()), undefined, edge, anEvent());
  assert.equal(ops.length, 1);
  const op = ops[0];
  assert.equal(op.kind, "create");
  assert.deepEqual(op.kind === "create" && op.entry, entryFor(anEvent()));
  assert.equal(op.ruleId, "rule1");
  assert.equal(op.direction, "forward");
});

Deno.test("plan: an unchanged event costs nothing", () => {
  assert.deepEqual(summary(planEvent(decide(anEvent()), entryFor(anEvent()), edge, anEvent())), [
    "none:unchanged:evt1",
  ]);
});

Deno.test("plan: a title change under busy privacy costs nothing", () => {
  const renamed = anEvent({ summary: "Something else" });
  assert.deepEqual(summary(planEvent(decide(renamed), entryFor(anEvent()), edge, renamed)), [
    "none:unchanged:evt1",
  ]);
});

Deno.test("plan: a moved event patches its mirror and records the new hash", () => {
  const moved = anEvent({
    start: { dateTime: "2025-06-04T10:00:00+02:00" },
    end: { dateTime: "2025-06-04T11:00:00+02:00" },
  });
  const [op] = planEvent(decide(moved), entryFor(anEvent()), edge, moved);
  assert.equal(op.kind, "patch");
  assert.deepEqual(op.kind === "patch" && op.entry, entryFor(moved));
});

Deno.test("plan: an event that stops passing a filter loses its mirror", () => {
  const declined = anEvent({ selfResponseStatus: "declined" });
  const entry = entryFor(anEvent());
  const ops = planEvent(decide(declined), entry, edge, declined);
  assert.deepEqual(ops, [{
    ruleId: "rule1",
    direction: "forward",
    sourceEventId: "evt1",
    kind: "delete",
    reason: "declined",
    entry,
  }]);
});

Deno.test("plan: a cancelled event loses its mirror", () => {
  const cancelled: SourceEvent = { id: "evt1", status: "cancelled" };
  assert.deepEqual(summary(planEvent(decide(cancelled), entryFor(anEvent()), edge, cancelled)), [
    "delete:cancelled:evt1",
  ]);
});

Deno.test("plan: a filtered event that was never mirrored costs nothing", () => {
  const free = anEvent({ transparency: "transparent" });
  assert.deepEqual(summary(planEvent(decide(free), undefined, edge, free)), ["none:free:evt1"]);
});

Deno.test("plan: a mirror recorded in another target (rule edited) is moved: delete, then create", () => {
  const old = { ...entryFor(anEvent()), target: { connectionId: "connOld", calendarId: "old@x" } };
  const ops = planEvent(decide(anEvent()), old, edge, anEvent());
  assert.deepEqual(summary(ops), ["delete:moved:evt1", "create:new:evt1"]);
  assert.deepEqual(ops[0].kind === "delete" && ops[0].entry, old);
});

Deno.test("plan: a mirror recorded under another id (source calendar edited) is moved", () => {
  const old = { ...entryFor(anEvent()), mirrorId: "bsmolderid" };
  assert.deepEqual(summary(planEvent(decide(anEvent()), old, edge, anEvent())), [
    "delete:moved:evt1",
    "create:new:evt1",
  ]);
});

Deno.test("plan: an instance's ledger entry remembers its series", () => {
  const instance = anEvent({ id: "weekly_20250603T080000Z", recurringEventId: "weekly" });
  const [op] = planEvent(decide(instance), undefined, edge, instance);
  assert.equal(op.kind === "create" && op.entry.recurringEventId, "weekly");
});

/** A ledger holding `entries` for every edge. */
function ledgerWith(...entries: LedgerEntry[]) {
  const map = new Map(entries.map((e) => [e.sourceEventId, e]));
  return () => map;
}

Deno.test("plan changes: every edge from the listed source is planned, others ignored", () => {
  const edges = buildEdges([
    aRule({ id: "toHome" }),
    aRule({ id: "toTeam", target: { connectionId: "connWork", calendarId: "team@work.example" } }),
    aRule({ id: "fromHome", source: HOME, target: WORK }),
  ]);
  const changes: SourceChanges = { source: WORK, events: [anEvent()], listing: "incremental" };
  const ops = planChanges(changes, ledgerWith(), edges, ctx);
  assert.deepEqual(ops.map((op) => `${op.ruleId}:${op.kind}`), ["toHome:create", "toTeam:create"]);
});

Deno.test("plan changes: both ways, each side's mirrors are skipped on the way back", () => {
  const [forward, reverse] = buildEdges([aRule({ bidirectional: true })]);
  const homeEvent = anEvent({ id: "homeEvt" });
  const mirrorOfWorkEvent = anEvent({
    id: mirrorIdFor(forward, "evt1"),
    privateProps: markerProps(buildMarker(forward, "evt1")),
  });
  const changes: SourceChanges = {
    source: HOME,
    events: [homeEvent, mirrorOfWorkEvent],
    listing: "incremental",
  };
  const ops = planChanges(changes, ledgerWith(), [forward, reverse], ctx);
  assert.deepEqual(summary(ops), ["create:new:homeEvt", `none:is_mirror:${mirrorOfWorkEvent.id}`]);
  assert.equal(ops[0].direction, "reverse");
  assert.deepEqual(ops[0].kind === "create" && ops[0].entry.target, WORK);
});

Deno.test("plan changes: an event listed twice is planned once, as its last version", () => {
  const first = anEvent();
  const then = anEvent({ selfResponseStatus: "declined" });
  const changes: SourceChanges = { source: WORK, events: [first, then], listing: "incremental" };
  assert.deepEqual(summary(planChanges(changes, ledgerWith(entryFor(first)), [edge], ctx)), [
    "delete:declined:evt1",
  ]);
});

Deno.test("plan changes: an incremental listing leaves unlisted mirrors alone", () => {
  const other = anEvent({ id: "evt2" });
  const changes: SourceChanges = { source: WORK, events: [anEvent()], listing: "incremental" };
  const ops = planChanges(changes, ledgerWith(entryFor(anEvent()), entryFor(other)), [edge], ctx);
  assert.deepEqual(summary(ops), ["none:unchanged:evt1"]);
});

Deno.test("plan changes: a full listing removes mirrors whose source event is gone", () => {
  const gone = anEvent({ id: "evt2" });
  const changes: SourceChanges = { source: WORK, events: [anEvent()], listing: "full" };
  const ops = planChanges(changes, ledgerWith(entryFor(anEvent()), entryFor(gone)), [edge], ctx);
  assert.deepEqual(summary(ops), ["none:unchanged:evt1", "delete:source_gone:evt2"]);
});

Deno.test("plan changes: an empty full listing plans every mirror's removal (the delete guard decides)", () => {
  const ledger = ledgerWith(entryFor(anEvent()), entryFor(anEvent({ id: "evt2" })));
  const ops = planChanges({ source: WORK, events: [], listing: "full" }, ledger, [edge], ctx);
  assert.deepEqual(summary(ops), ["delete:source_gone:evt1", "delete:source_gone:evt2"]);
});

Deno.test("plan changes: a cancelled series removes the mirrors of all its instances, once each", async (t) => {
  const a = anEvent({ id: "weekly_1", recurringEventId: "weekly" });
  const b = anEvent({ id: "weekly_2", recurringEventId: "weekly" });
  const unrelated = anEvent({ id: "evt9" });
  const ledger = ledgerWith(entryFor(a), entryFor(b), entryFor(unrelated));
  const series: SourceEvent = { id: "weekly", status: "cancelled" };
  await t.step("incremental", () => {
    const ops = planChanges({ source: WORK, events: [series], listing: "incremental" }, ledger, [
      edge,
    ], ctx);
    assert.deepEqual(summary(ops), [
      "none:cancelled:weekly",
      "delete:cancelled:weekly_1",
      "delete:cancelled:weekly_2",
    ]);
  });
  await t.step("full, where the instances are also missing from the listing", () => {
    const events = [series, unrelated];
    const ops = planChanges({ source: WORK, events, listing: "full" }, ledger, [edge], ctx);
    assert.deepEqual(summary(ops), [
      "none:cancelled:weekly",
      "none:unchanged:evt9",
      "delete:cancelled:weekly_1",
      "delete:cancelled:weekly_2",
    ]);
  });
  await t.step("an instance listed itself is planned from its own record", () => {
    const cancelledA: SourceEvent = {
      id: "weekly_1",
      status: "cancelled",
      recurringEventId: "weekly",
    };
    const ops = planChanges(
      { source: WORK, events: [series, cancelledA, b], listing: "incremental" },
      ledger,
      [edge],
      ctx,
    );
    assert.deepEqual(summary(ops), [
      "none:cancelled:weekly",
      "none:unchanged:weekly_2",
      "delete:cancelled:weekly_1",
    ]);
  });
});

Deno.test("edge planner: pages of one listing plan as the whole listing would", async (t) => {
  const a = anEvent({ id: "weekly_1", recurringEventId: "weekly" });
  const b = anEvent({ id: "weekly_2", recurringEventId: "weekly" });
  const kept = anEvent({ id: "evt9" });
  const ledger = new Map([a, b, kept].map((e) => [e.id, entryFor(e)]));
  const series: SourceEvent = { id: "weekly", status: "cancelled" };

  await t.step(
    "removals wait for the end; an instance a later page lists live keeps its mirror",
    () => {
      const planner = new EdgePlanner(edge, ledger, ctx, "full");
      assert.deepEqual(summary(planner.plan([series])), ["none:cancelled:weekly"]);
      assert.deepEqual(summary(planner.plan([b])), ["none:unchanged:weekly_2"]);
      assert.deepEqual(summary(planner.removals()), [
        "delete:cancelled:weekly_1",
        "delete:source_gone:evt9",
      ]);
    },
  );

  await t.step("an event a later page lists again counts as that version", () => {
    const planner = new EdgePlanner(edge, new Map(), ctx, "full");
    const fresh = anEvent({ id: "evt2" });
    assert.deepEqual(summary(planner.plan([fresh])), ["create:new:evt2"]);
    assert.equal(planner.creates, 1);
    // Declined on a later page: the mirror the first page created is the one to remove.
    assert.deepEqual(summary(planner.plan([{ ...fresh, selfResponseStatus: "declined" }])), []);
    const [removal] = planner.removals();
    assert.equal(removal.reason, "declined");
    assert.equal(removal.entry.mirrorId, mirrorIdFor(edge, "evt2"));
  });

  await t.step("a removal is taken back when a later page lists the event as wanted", () => {
    const planner = new EdgePlanner(edge, ledger, ctx, "incremental");
    planner.plan([{ ...kept, status: "cancelled" }]);
    assert.deepEqual(summary(planner.plan([kept])), ["none:unchanged:evt9"]);
    assert.deepEqual(planner.removals(), []);
    assert.deepEqual([...planner.listed], ["evt9"]);
  });
});

Deno.test("tally: counts ops by kind; a move is not a removal", () => {
  const old = { ...entryFor(anEvent()), target: { connectionId: "connOld", calendarId: "old@x" } };
  const ops = [
    ...planEvent(decide(anEvent()), old, edge, anEvent()),
    ...planEvent(decide(anEvent({ id: "e2" })), undefined, edge, anEvent({ id: "e2" })),
    ...planEvent(decide({ id: "e3", status: "cancelled" }), entryFor(anEvent({ id: "e3" })), edge, {
      id: "e3",
    }),
    ...planEvent(
      decide(anEvent({ id: "e4" })),
      entryFor(anEvent({ id: "e4" })),
      edge,
      anEvent({ id: "e4" }),
    ),
  ];
  assert.deepEqual(tallyOps(ops), { create: 2, patch: 0, delete: 2, none: 1, removals: 1 });
});

Deno.test("delete guard: trips only above both the minimum and the percentage", async (t) => {
  const guard = { percent: 20, min: 10 };
  const cases: [string, number, number, boolean][] = [
    ["exactly the minimum passes, whatever the share", 10, 10, false],
    ["one above the minimum and above the share trips", 11, 50, true],
    ["above the minimum but exactly the percentage passes", 20, 100, false],
    ["above the minimum and one above the percentage trips", 21, 100, true],
    ["many deletes that are a small share pass", 15, 1000, false],
    ["deletes with no mirrors known trip once above the minimum", 11, 0, true],
    ["nothing to delete passes", 0, 0, false],
  ];
  for (const [name, deletes, existingMirrors, tripped] of cases) {
    await t.step(name, () => {
      assert.equal(checkDeleteGuard({ deletes, existingMirrors, ...guard }).tripped, tripped);
    });
  }
  await t.step("a tripped guard says what it held back", () => {
    assert.deepEqual(checkDeleteGuard({ deletes: 40, existingMirrors: 50, ...guard }), {
      tripped: true,
      reason: "would delete 40 of 50 mirrors (more than 10 and more than 20%); confirm to proceed",
    });
  });
  await t.step("at 100% only deleting more mirrors than exist can trip", () => {
    assert.equal(
      checkDeleteGuard({ deletes: 50, existingMirrors: 50, percent: 100, min: 0 }).tripped,
      false,
    );
  });
});
