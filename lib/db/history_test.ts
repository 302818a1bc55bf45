import assert from "node:assert/strict";
import { monotonicFactory } from "ulid";
import { getRun, listRuns, type RunRecord, saveRun } from "./history.ts";
import { aRunRecord } from "./test_runs.ts";

const ulid = monotonicFactory();

function aRun(userId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return aRunRecord(userId, ulid(), {
    trigger: "schedule",
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:01.000Z",
    apiCalls: { listPages: 1, putMirror: 0, deleteMirror: 0, listMarked: 0, methods: {} },
    ...overrides,
  });
}

Deno.test("history: runs page newest first; only the newest maxRuns are kept", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const run = aRun("u1");
      ids.push(run.id);
      await saveRun(kv, run, [], { maxRuns: 5, maxDays: 30 });
    }
    const first = await listRuns(kv, "u1", { limit: 3 });
    assert.deepEqual(first.items.map((r) => r.id), ids.slice(4).reverse());
    const second = await listRuns(kv, "u1", { limit: 3, cursor: first.cursor });
    assert.deepEqual(second.items.map((r) => r.id), ids.slice(2, 4).reverse());
    assert.equal(second.cursor, undefined);
    assert.equal(await getRun(kv, "u1", ids[0]), null);
  } finally {
    kv.close();
  }
});

Deno.test("history: a run keeps its errors with causes and its actions", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const run = aRun("u1", {
      outcome: "partial",
      errors: [{ ruleId: "r1", error: "CalendarNotFoundError", message: "gone", cause: "404" }],
    });
    const action = {
      ruleId: "r1",
      direction: "forward" as const,
      kind: "create" as const,
      reason: "new",
      sourceEventId: "e1",
      mirrorId: "bsm1",
      target: "c:t",
    };
    await saveRun(kv, run, [action], { maxRuns: 5, maxDays: 30 });
    const expiresAt = new Date(Date.parse(run.endedAt) + 30 * 24 * 3_600_000).toISOString();
    assert.deepEqual(await getRun(kv, "u1", run.id), {
      run: { ...run, expiresAt },
      actions: [action],
    });
  } finally {
    kv.close();
  }
});
