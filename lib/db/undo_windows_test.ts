import assert from "node:assert/strict";
import { withMemoryKv } from "../../tests/support/temp_kv.ts";
import { acquireLease } from "./leases.ts";
import { createRule, deleteRule, getRule, updateRule } from "./rules.ts";
import {
  claimMirrorRemoval,
  listDueMirrorRemovals,
  NothingToUndoError,
  undoRuleRemoval,
  UndoTooLateError,
} from "./undo_windows.ts";
import { RuleInputSchema } from "../model/rule.ts";

const NOW = new Date("2026-01-01T00:00:00Z");
const LATER = new Date(NOW.getTime() + 11_000);
const UNTIL = new Date(NOW.getTime() + 10_000);
const cal = (id: string) => ({ connectionId: "conn1", calendarId: id });
const input = RuleInputSchema.parse({ name: "a→b", source: cal("a"), target: cal("b") });

async function lease(kv: Deno.Kv) {
  return (await acquireLease(kv, "u1", { owner: "run", now: LATER, ttlMs: 60_000 }))!;
}

Deno.test("undo windows: a removal waits out its window; an undo and a run's claim exclude each other", async (t) => {
  await t.step(
    "inside the window no run sees it; after it, a run does",
    () =>
      withMemoryKv(async (kv) => {
        const { rule } = await createRule(kv, "u1", input, { now: NOW });
        await updateRule(kv, "u1", rule.id, { enabled: false }, {
          now: NOW,
          removeMirrors: true,
          undoUntil: UNTIL,
        });
        assert.equal((await listDueMirrorRemovals(kv, "u1", NOW)).length, 0);
        assert.equal((await listDueMirrorRemovals(kv, "u1", LATER)).length, 1);
      }),
  );

  await t.step(
    "claimed first: the undo is refused and the rule stays off",
    () =>
      withMemoryKv(async (kv) => {
        const { rule } = await createRule(kv, "u1", input, { now: NOW });
        await updateRule(kv, "u1", rule.id, { enabled: false }, {
          now: NOW,
          removeMirrors: true,
          undoUntil: UNTIL,
        });
        const [due] = await listDueMirrorRemovals(kv, "u1", LATER);
        assert.equal(await claimMirrorRemoval(await lease(kv), "u1", due, LATER), true);
        // Even a clock behind the window's end (another instance) cannot undo a begun removal.
        await assert.rejects(undoRuleRemoval(kv, "u1", rule.id, NOW), UndoTooLateError);
        assert.equal((await getRule(kv, "u1", rule.id))?.rule.enabled, false);
      }),
  );

  await t.step(
    "undone first: the run's claim fails and it removes nothing",
    () =>
      withMemoryKv(async (kv) => {
        const { rule } = await createRule(kv, "u1", input, { now: NOW });
        await deleteRule(kv, "u1", rule.id, { now: NOW, removeMirrors: true, undoUntil: UNTIL });
        // A run listed the request as due (its clock ahead), then the undo committed.
        const [due] = await listDueMirrorRemovals(kv, "u1", LATER);
        const back = await undoRuleRemoval(kv, "u1", rule.id, NOW);
        assert.deepEqual(back.rule, rule);
        assert.equal(await claimMirrorRemoval(await lease(kv), "u1", due, LATER), false);
        await assert.rejects(undoRuleRemoval(kv, "u1", rule.id, NOW), NothingToUndoError);
      }),
  );

  await t.step(
    "after the window an undo is too late, claimed or not",
    () =>
      withMemoryKv(async (kv) => {
        const { rule } = await createRule(kv, "u1", input, { now: NOW });
        await deleteRule(kv, "u1", rule.id, { now: NOW, removeMirrors: true, undoUntil: UNTIL });
        await assert.rejects(undoRuleRemoval(kv, "u1", rule.id, LATER), UndoTooLateError);
        assert.equal(await getRule(kv, "u1", rule.id), null);
      }),
  );
});
