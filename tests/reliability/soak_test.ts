import assert from "node:assert/strict";
import { RADICALE_TOOLS, startRadicale, toolsMissing } from "../support/caldav_servers.ts";
import { needing } from "../support/infrastructure.ts";
import { runSoak } from "./soak.ts";

Deno.test({
  name: needing(
    "soak: under 20% faults, dying sync tokens and Calendar usage limits, the targets end exactly as the sources say, a group's members coming and going, Google and CalDAV mixed",
    RADICALE_TOOLS,
  ),
  ignore: toolsMissing(RADICALE_TOOLS),
  fn: async () => {
    await using radicale = await startRadicale();
    const result = await runSoak({
      seed: 2,
      rounds: 12,
      warmupOps: 60,
      opsPerRound: 12,
      faultRate: 0.2,
      invalidateRate: 0.5,
      maxAttempts: 2,
      purgeAfterSeconds: 0.3,
      usageLimits: {
        budgetAfterSetup: 8,
        readOnlyRounds: [2, 3],
        readOnlySeconds: 0.3,
        pauseSeconds: 30,
      },
      caldav: radicale,
    });
    const context = JSON.stringify(result, null, 2);
    assert.ok(result.faultsInjected > 0, `no fault was injected:\n${context}`);
    const caldavFaults = result.caldav!.faults;
    assert.ok(
      Object.values(caldavFaults).every((n) => n > 0) && result.caldav!.tokensRefused > 0,
      `not every CalDAV fault was injected, or no sync token was refused:\n${context}`,
    );
    const seen = result.operationsByKind;
    assert.ok(
      (seen.moveSeries ?? 0) > 0 && (seen.splitSeries ?? 0) > 0 && result.purgedMirrorIds > 0,
      `no series edit, split or purged mirror id:\n${context}`,
    );
    assert.ok(result.doubleInvitations > 0, `no double invitation at the end:\n${context}`);
    assert.ok(
      (seen.addMember ?? 0) > 0 && (seen.removeMember ?? 0) > 0 &&
        result.memberChangesDuringRuns > 0,
      `the group's members never changed:\n${context}`,
    );
    const { writesPaused, creationBudgetSpent } = result.usageLimitRuns;
    assert.ok(
      writesPaused > 0 && creationBudgetSpent > 0,
      `no run met a write pause or a spent budget:\n${context}`,
    );
    const claim = {
      duplicates: result.duplicates,
      missing: result.missing,
      stale: result.stale,
      ledgerMismatches: result.afterIncremental.ledgerMismatches,
      reconcileWrites: result.afterFullReconcile.writes,
      lostEvents: result.lostEvents,
      rulesNotOk: result.rulesNotOk,
    };
    assert.deepEqual(claim, {
      duplicates: 0,
      missing: 0,
      stale: 0,
      ledgerMismatches: 0,
      reconcileWrites: 0,
      lostEvents: 0,
      rulesNotOk: 0,
    }, context);
  },
});
