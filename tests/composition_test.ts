/**
 * One process, one set of services: the app's request handlers and the scheduler's syncs draw
 * Google tokens from the same token source, so concurrent refreshes of a connection share one
 * call to Google's token endpoint whichever path asked first. The harness builds its stack with
 * server_stack.ts, as main.ts and http_thread.ts do.
 */
import assert from "node:assert/strict";
import { aRule, startApiWorld, syncNow } from "./api/support.ts";

Deno.test("composition: a request and a sync refreshing the same connections at once cost one token call each", async () => {
  const w = await startApiWorld();
  try {
    const rule = await w.ann.request("/api/rules", { method: "POST", json: aRule(w.cal) });
    assert.equal(rule.status, 201);
    await syncNow(w);
    // Both connections' access tokens are now within the refresh-ahead window, and each token
    // call takes long enough for the other path to ask while it is outstanding.
    w.h.clock.advance(56 * 60_000);
    await w.h.admin("faults", { method: "oauth.token", fault: "delay", delayMs: 1_000 });
    const [calendars, run] = await Promise.all([
      w.ann.request("/api/user/calendars?refresh=true"),
      syncNow(w),
    ]);
    assert.equal(calendars.status, 200);
    assert.deepEqual((await calendars.json()).failures, []);
    assert.equal(run.outcome, "ok");
    const { faults } = await w.h.admin("faults", undefined, "GET") as {
      faults: { hits: number }[];
    };
    assert.equal(faults[0].hits, 2, "one refresh per connection, shared by both paths");
  } finally {
    await w.h.close();
  }
});
