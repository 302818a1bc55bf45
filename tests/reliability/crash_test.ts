import assert from "node:assert/strict";
import { runCrashTrials } from "./crash.ts";

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
  },
);
