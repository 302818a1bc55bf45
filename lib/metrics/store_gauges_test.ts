import assert from "node:assert/strict";
import { monotonicFactory } from "ulid";
import { parseExposition, total } from "../../tests/support/prometheus.ts";
import { withMemoryKv } from "../../tests/support/temp_kv.ts";
import { claimDueJob, enqueueJob } from "../db/jobs.ts";
import { acquireLease } from "../db/leases.ts";
import { createRule, setRuleStatus } from "../db/rules.ts";
import { upsertUserBySub } from "../db/users.ts";
import { RuleInputSchema } from "../model/rule.ts";
import { HOME, WORK } from "../model/test_builders.ts";
import { createStoreGauges } from "./store_gauges.ts";

const T0 = new Date("2026-01-01T00:00:00Z");
const newId = monotonicFactory();

Deno.test("store gauges: a scrape reads the job table and the open incidents as they are now", () =>
  withMemoryKv(async (kv) => {
    let now = T0;
    const registry = createStoreGauges({ kv, now: () => now });
    const scrape = async () => parseExposition(await registry.metrics());

    const empty = await scrape();
    assert.equal(total(empty, "busysync_jobs_waiting"), 0);
    assert.equal(total(empty, "busysync_jobs_oldest_due_seconds"), 0);
    assert.equal(total(empty, "busysync_incidents_open"), 0);
    assert.equal(total(empty, "busysync_users_with_enabled_rules"), 0);

    const { user } = await upsertUserBySub(
      kv,
      { issuer: "https://issuer.example", sub: "1", email: "a@example.com", name: "A" },
      T0,
    );
    const input = RuleInputSchema.parse({ name: "Work into home", source: WORK, target: HOME });
    const { rule } = await createRule(kv, user.id, input, { now: T0 });
    await enqueueJob(kv, user.id, { reason: "manual" }, { now: T0, newId });
    await enqueueJob(kv, user.id, { reason: "schedule" }, { now: T0, newId });
    await enqueueJob(kv, "u2", { reason: "manual" }, { now: T0, newId });
    await claimDueJob(kv, { owner: "w", now: T0, claimMs: 60_000, skipUsers: new Set([user.id]) });
    const lease = await acquireLease(kv, user.id, { owner: "o", now: T0, ttlMs: 60_000 });
    assert.ok(lease);
    await setRuleStatus(kv, lease, user.id, rule.id, "broken", "the target is gone");

    now = new Date(T0.getTime() + 90_000);
    const later = await scrape();
    assert.equal(total(later, "busysync_jobs_waiting", { reason: "manual" }), 1);
    assert.equal(total(later, "busysync_jobs_waiting", { reason: "schedule" }), 1);
    assert.equal(total(later, "busysync_jobs_running"), 1);
    assert.equal(total(later, "busysync_jobs_oldest_due_seconds"), 90);
    assert.equal(total(later, "busysync_incidents_open", { kind: "rule_broken" }), 1);
    assert.equal(total(later, "busysync_incidents_open", { kind: "rule_failing" }), 0);
    assert.equal(total(later, "busysync_users_with_enabled_rules"), 1);
  }));
