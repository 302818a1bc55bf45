/**
 * Asking for a sync and reading what happened: POST /api/sync (202 and a pollable id, or the
 * run with ?wait=true, a full reconcile with { full: true }, the per-user rate limit), GET
 * /api/sync/{runId}, GET /api/history (pages, filters) and /api/history/{runId} (per-event
 * actions), and GET /api/status.
 */
import assert from "node:assert/strict";
import { until } from "../support/poll.ts";
import { markNeedsReconnect } from "../../lib/db/connections.ts";
import { addEvent, aRule, deleteEvent, eventsIn, startApiWorld, syncNow } from "./support.ts";

interface RunView {
  id: string;
  full: boolean;
  trigger: string;
  outcome: string;
  rules: { created: number }[];
}

Deno.test("sync API: trigger, poll, rate limit, history and status", async (t) => {
  const w = await startApiWorld();
  const { ann, cal, h } = w;
  const post = (path: string, body?: unknown) => ann.request(path, { method: "POST", json: body });
  const errorOf = async (res: Response, status: number) => {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    return body.error as { code: string; message: string; fields?: Record<string, string> };
  };
  /** The history record of a requested sync, once it ran (404 `run_pending` until then). */
  const recorded = async (runId: string) => {
    let detail: { run: RunView; actions: unknown[] } | undefined;
    await until("the run to be recorded", async () => {
      const polled = await ann.request(`/api/history/${runId}`);
      if (polled.status === 404) {
        assert.equal((await polled.json()).error.code, "run_pending");
        return false;
      }
      detail = await polled.json();
      return true;
    });
    return detail!;
  };
  try {
    await addEvent(h, cal.main.calendarId, "Standup", 20);
    const rule = await (await post("/api/rules", aRule(cal))).json();
    await syncNow(w);
    await addEvent(h, cal.main.calendarId, "Review", 22);

    await t.step(
      "POST /api/sync: 202 with a runId that GET /api/sync and /api/history resolve",
      async () => {
        const res = await post("/api/sync", {});
        assert.equal(res.status, 202);
        const { runId } = await res.json();
        assert.equal(res.headers.get("location"), `/api/sync/${runId}`);
        const job = await (await ann.request(`/api/sync/${runId}`)).json();
        assert.equal(job.id, runId);
        assert.equal(job.reason, "manual");
        const detail = await recorded(runId);
        assert.equal(detail.run.rules[0].created, 1);
        assert.deepEqual(detail.actions.map((a) => (a as { kind: string }).kind), ["create"]);
        const byRunId = await (await ann.request(`/api/history/${detail.run.id}`)).json();
        assert.deepEqual(byRunId, detail);
        assert.equal(
          (await ann.request(`/api/sync/${runId}`).then((r) => r.json())).runId,
          detail.run.id,
        );
      },
    );

    await t.step(
      "?wait=true answers 200 with the finished run; a body may name one rule",
      async () => {
        const res = await post("/api/sync?wait=true", { ruleId: rule.id });
        assert.equal(res.status, 200);
        const body = await res.json();
        assert.equal(body.run.trigger, "manual");
        assert.equal(body.run.outcome, "ok");
        assert.equal(typeof body.runId, "string");
        const empty = await ann.request("/api/sync?wait=true", { method: "POST" });
        assert.equal(empty.status, 200, "no body at all is fine");
      },
    );

    await t.step(
      "{ full: true } queues a full reconcile: a busy block deleted behind busysync's back " +
        "comes back, which a plain sync leaves missing",
      async () => {
        h.clock.advance(60_000); // a fresh rate-limit window for this step's four requests
        const mirrors = async () =>
          (await eventsIn(h, cal.work.calendarId)).filter((e) => e.id.startsWith("bsm"));
        const [gone, ...kept] = await mirrors();
        assert.ok(gone, "the rule made busy blocks in the work calendar");
        await deleteEvent(h, cal.work.calendarId, gone.id);

        const plain = await (await post("/api/sync?wait=true", {})).json();
        assert.equal(plain.run.full, false);
        assert.equal((await mirrors()).length, kept.length, "an incremental run does not look");

        const queued = await post("/api/sync", { full: true, ruleId: rule.id });
        assert.equal(queued.status, 202);
        const { runId } = await queued.json();
        const job = await (await ann.request(`/api/sync/${runId}`)).json();
        assert.equal(job.full, true);
        assert.equal(job.reason, "manual");
        const { run } = await recorded(runId);
        assert.deepEqual(
          { full: run.full, trigger: run.trigger, outcome: run.outcome },
          { full: true, trigger: "manual", outcome: "ok" },
        );
        // Deleted in the web UI, its id is refused for good (notes §10): the block comes back
        // under the next id generation, the others stay as they were.
        const now = await mirrors();
        assert.equal(now.length, kept.length + 1);
        assert.deepEqual(
          now.filter((m) => kept.some((k) => k.id === m.id)).map((m) => m.id).sort(),
          kept.map((m) => m.id).sort(),
        );
        const back = now.find((m) => !kept.some((k) => k.id === m.id))!;
        assert.notEqual(back.id, gone.id);
        assert.equal(back.summary, gone.summary);

        // Without a rule: every rule, still full; nothing left to repair.
        const all = await (await post("/api/sync?wait=true", { full: true })).json();
        assert.equal(all.run.full, true);
        assert.equal(all.run.outcome, "ok");
      },
    );

    await t.step("validation: 400 per field, 404 for an unknown rule or run", async () => {
      h.clock.advance(60_000); // a fresh rate-limit window: refused requests count too
      assert.ok((await errorOf(await post("/api/sync", { ruleId: 5 }), 400)).fields?.ruleId);
      assert.ok((await errorOf(await post("/api/sync", { full: "yes" }), 400)).fields?.full);
      assert.ok((await errorOf(await post("/api/sync", { fast: true }), 400)).fields);
      assert.ok((await errorOf(await post("/api/sync?wait=soon", {}), 400)).fields?.wait);
      const malformed = await ann.request("/api/sync", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{x",
      });
      assert.equal((await errorOf(malformed, 400)).code, "invalid_json");
      const unknown = await post("/api/sync", { ruleId: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
      assert.equal((await errorOf(unknown, 404)).code, "not_found");
      assert.equal((await errorOf(await ann.request("/api/sync/nope"), 404)).code, "not_found");
      assert.equal((await errorOf(await ann.request("/api/history/nope"), 404)).code, "not_found");
    });

    await t.step(
      "a user's triggers are rate limited: 429 with Retry-After, then allowed again",
      async () => {
        h.clock.advance(60_000);
        const answers: number[] = [];
        // "Check and repair" (a full reconcile) spends the same allowance as "Sync now".
        for (let i = 0; i < 7; i++) {
          answers.push((await post("/api/sync", i % 2 ? { full: true } : {})).status);
        }
        assert.deepEqual(answers, [202, 202, 202, 202, 202, 202, 429]);
        const limited = await post("/api/sync", {});
        assert.equal((await errorOf(limited, 429)).code, "rate_limited");
        assert.ok(Number(limited.headers.get("retry-after")) > 0);
        // Confirming a held rule queues a sync too, and spends the same allowance.
        const confirm = await post("/api/rules/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm", {});
        assert.equal((await errorOf(confirm, 429)).code, "rate_limited");
        h.clock.advance(60_000);
        assert.equal((await post("/api/sync", {})).status, 202);
        // The steps below read the history: none of these syncs may still be writing to it.
        await until("the queued syncs to finish", async () => {
          const { sync } = await (await ann.request("/api/status")).json();
          return !sync.running && sync.waiting.length === 0;
        }, 20_000);
      },
    );

    await t.step(
      "GET /api/history: newest first, paged by cursor, filtered by rule and outcome",
      async () => {
        const all = await (await ann.request("/api/history?limit=100")).json();
        assert.ok(all.items.length >= 3);
        const starts = all.items.map((r: { startedAt: string }) => r.startedAt);
        assert.deepEqual(starts, [...starts].sort().reverse());
        const first = await (await ann.request("/api/history?limit=1")).json();
        assert.equal(first.items[0].id, all.items[0].id);
        const second = await (await ann.request(`/api/history?limit=1&cursor=${first.cursor}`))
          .json();
        assert.equal(second.items[0].id, all.items[1].id);
        const ok = await (await ann.request(`/api/history?outcome=ok&ruleId=${rule.id}`)).json();
        assert.ok(ok.items.length > 0);
        const failed = await (await ann.request("/api/history?outcome=failed")).json();
        assert.deepEqual(failed.items, []);
        const other = await (await ann.request("/api/history?ruleId=01ARZ3NDEKTSV4RRFFQ69G5FAV"))
          .json();
        assert.deepEqual(other.items, []);
        for (
          const [query, field] of [["limit=0", "limit"], ["limit=x", "limit"], [
            "outcome=meh",
            "outcome",
          ], ["cursor=garbage", "cursor"]]
        ) {
          const error = await errorOf(await ann.request(`/api/history?${query}`), 400);
          assert.ok(error.fields?.[field], `${query}: ${JSON.stringify(error)}`);
        }
      },
    );

    await t.step(
      "GET /api/status: connections, rules, last run, sync progress, incidents",
      async () => {
        const status = await (await ann.request("/api/status")).json();
        assert.equal(status.user.id, w.annId);
        assert.deepEqual(status.connections.map((c: { healthy: boolean }) => c.healthy), [
          true,
          true,
        ]);
        assert.deepEqual(status.rules, [{
          id: rule.id,
          name: rule.name,
          enabled: true,
          status: "ok",
        }]);
        assert.equal(typeof status.lastRun.id, "string");
        assert.equal(typeof status.sync.running, "boolean");
        assert.ok(Array.isArray(status.sync.waiting));
        assert.equal(typeof status.sync.nextScheduledRun, "string");
        assert.deepEqual(status.incidents, []);

        const [connection] = status.connections;
        await markNeedsReconnect(
          h.kv,
          w.annId,
          connection.id,
          "Google refused the token.",
          new Date(),
        );
        const after = await (await ann.request("/api/status")).json();
        assert.equal(after.connections[0].healthy, false);
        assert.equal(after.incidents[0].kind, "connection_needs_reconnect");
        assert.equal(after.incidents[0].actionPath, "/connections");
        assert.match(after.incidents[0].message, /Google refused the token/);
      },
    );
  } finally {
    await h.close();
  }
});
