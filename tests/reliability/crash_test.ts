import assert from "node:assert/strict";
import { RADICALE_TOOLS, startRadicale, toolsMissing } from "../support/caldav_servers.ts";
import { needing } from "../support/infrastructure.ts";
import { type CrashResult, runCrashTrials } from "./crash.ts";

function assertConverged(result: CrashResult): void {
  const context = JSON.stringify(result, null, 2);
  assert.ok(result.killedMidRun >= 1, `every kill came after the sync had finished:\n${context}`);
  const claim = {
    duplicates: result.duplicates,
    missing: result.missing,
    stale: result.stale,
    ledgerMismatches: result.ledgerMismatches,
    writesAfterRecovery: result.writesAfterRecovery,
  };
  assert.deepEqual(claim, {
    duplicates: 0,
    missing: 0,
    stale: 0,
    ledgerMismatches: 0,
    writesAfterRecovery: 0,
  }, context);
}

Deno.test(
  "crash: a sync killed with SIGKILL mid-run converges after a restart, with no duplicate, " +
    "even where Google does not detect an id collision",
  async () => {
    const result = await runCrashTrials({
      seed: 20261124,
      trials: 1,
      events: 300,
      leaseTtlMs: 2_000,
      incrementalTrials: false,
      undetectedCollisions: true,
    });
    assertConverged(result);
  },
);

Deno.test({
  name: needing(
    "crash: a sync into a CalDAV calendar killed with SIGKILL mid-run (first sync and an " +
      "incremental one) converges after a restart, with no duplicate",
    RADICALE_TOOLS,
  ),
  ignore: toolsMissing(RADICALE_TOOLS),
  fn: async () => {
    await using radicale = await startRadicale();
    assertConverged(
      await runCrashTrials({
        seed: 20261203,
        trials: 2,
        events: 60,
        leaseTtlMs: 2_000,
        incrementalTrials: true,
        caldav: radicale,
      }),
    );
  },
});
