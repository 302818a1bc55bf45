/**
 * Google's Calendar usage limits as the person sees them: once Google answers 403 quotaExceeded
 * for an account (its calendars read-only for hours: support.google.com/a/answer/2905486), the
 * dashboard and /api/status show a banner for that account while the rule itself stays ok.
 */
import assert from "node:assert/strict";
import { addEvent, aRule, startApiWorld, syncNow } from "./support.ts";

Deno.test("usage limits: a 403 quotaExceeded shows the account's write pause on the dashboard and in /api/status", async () => {
  const w = await startApiWorld();
  try {
    for (const hour of [30, 32, 34]) await addEvent(w.h, w.cal.main.calendarId, "Busy", hour);
    await w.h.admin("usage-limits", { createsPerDay: 1 });
    const res = await w.ann.request("/api/rules", { method: "POST", json: aRule(w.cal) });
    const ruleId = (await res.json()).id;
    const run = await syncNow(w);
    assert.equal(run.outcome, "partial");

    const status = await (await w.ann.request("/api/status")).json();
    const kinds = status.incidents.map((i: { kind: string }) => i.kind);
    assert.deepEqual(kinds, ["account_write_paused"]);
    assert.equal(status.incidents[0].connectionId, w.cal.work.connectionId);
    assert.equal(status.rules.find((r: { id: string }) => r.id === ruleId).status, "ok");

    const page = await (await w.ann.request("/")).text();
    assert.match(page, /data-banner="account_write_paused"/);
  } finally {
    await w.h.close();
  }
});
