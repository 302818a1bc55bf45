/**
 * A long first sync says how far it has got: GET /api/status (`sync.progress`, what the
 * dashboard shows) and GET /api/sync/{runId} (what "Sync now" polls) carry the events listed,
 * the busy blocks written of those planned and the time left, and say nothing once it is over.
 */
import assert from "node:assert/strict";
import { until } from "../support/poll.ts";
import { addEvent, aRule, startApiWorld } from "./support.ts";

interface Progress {
  stage: "nearest" | "all";
  listed: number;
  planned: number;
  written: number;
  nearestUntil?: string;
  remainingSeconds?: number;
}

interface Status {
  sync: { running: boolean; current?: { id: string }; progress?: Progress };
}

Deno.test("sync API: a long first sync shows its progress and the time left", async () => {
  const w = await startApiWorld();
  const { ann, cal, h } = w;
  try {
    for (let day = 1; day <= 50; day++) {
      await addEvent(h, cal.main.calendarId, `Day ${day}`, day * 24 + 2);
    }
    // Slow writes stand in for the request budget pacing a first sync of thousands of events.
    await h.admin("faults", { method: "events.insert", fault: "delay", delayMs: 250 });
    const saved = await ann.request("/api/rules", { method: "POST", json: aRule(cal) });
    assert.equal(saved.status, 201);

    const status = async () => (await (await ann.request("/api/status")).json()) as Status;
    const seen = await until("the sync's progress", async () => {
      const s = await status();
      const p = s.sync.progress;
      return p && p.stage === "all" && p.written > 0 && p.written < p.planned ? s : undefined;
    }, 20_000);
    const progress = seen.sync.progress!;
    assert.equal(seen.sync.running, true);
    // The next 14 days came first: their blocks are in place while the rest are written.
    assert.ok(progress.nearestUntil, JSON.stringify(progress));
    assert.ok(progress.listed >= 50, JSON.stringify(progress));
    assert.equal(progress.planned, 50, JSON.stringify(progress));
    assert.equal(typeof progress.remainingSeconds, "number");

    const job = await (await ann.request(`/api/sync/${seen.sync.current!.id}`)).json();
    assert.equal(job.state, "running");
    assert.equal(typeof job.progress?.written, "number");

    await h.admin("faults", undefined, "DELETE");
    await until("the sync to end", async () => !(await status()).sync.running, 20_000);
    assert.equal((await status()).sync.progress, undefined);
  } finally {
    await h.close();
  }
});
