/** A builder for tests that store runs: a valid, empty run record a test overrides. */
import type { RunRecord } from "./history.ts";

/** A run with nothing in it but its ids (ended `at`, now by default): enough to hang actions on. */
export function aRunRecord(
  userId: string,
  id: string,
  overrides: Partial<RunRecord> = {},
): RunRecord {
  const at = new Date().toISOString();
  return {
    v: 1,
    id,
    userId,
    trigger: "manual",
    startedAt: at,
    endedAt: at,
    dryRun: false,
    full: false,
    outcome: "ok",
    rules: [],
    errors: [],
    errorsDropped: 0,
    apiCalls: { listPages: 0, putMirror: 0, deleteMirror: 0, listMarked: 0, methods: {} },
    actionsDropped: 0,
    ...overrides,
  };
}
