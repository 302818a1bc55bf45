import assert from "node:assert/strict";
import { withMemoryKv } from "../../tests/support/temp_kv.ts";
import { ConflictError } from "./commit.ts";
import { keys } from "./keys.ts";
import { acquireLease } from "./leases.ts";
import { LedgerWriter } from "./ledger.ts";
import {
  createRule,
  deleteRule,
  getRule,
  listMirrorRemovals,
  listReleasedRuleIds,
  listRules,
  RuleDuplicateError,
  RuleNotFoundError,
  RuleRejectedError,
  setRuleStatus,
  updateRule,
} from "./rules.ts";
import { RuleInputSchema } from "../model/rule.ts";

const NOW = new Date("2026-01-01T00:00:00Z");
const cal = (id: string) => ({ connectionId: "conn1", calendarId: id });
const input = (from: string, to: string, extra = {}) =>
  RuleInputSchema.parse({ name: `${from}→${to}`, source: cal(from), target: cal(to), ...extra });

Deno.test("rules: created, read back (zod-parsed) and listed in creation order", () =>
  withMemoryKv(async (kv) => {
    const a = await createRule(kv, "u1", input("a", "b"), { now: NOW });
    const b = await createRule(kv, "u1", input("b", "c"), { now: NOW });
    assert.equal(a.rule.status, "ok");
    assert.deepEqual((await getRule(kv, "u1", a.rule.id))?.rule, a.rule);
    assert.deepEqual((await listRules(kv, "u1")).map((e) => e.rule.id), [a.rule.id, b.rule.id]);
    assert.equal((await kv.get<{ v: number }>(keys.rule("u1", a.rule.id))).value?.v, 1);
  }));

Deno.test("rules: a rule closing a cycle of three calendars is rejected, naming the cycle", () =>
  withMemoryKv(async (kv) => {
    await createRule(kv, "u1", input("a", "b"), { now: NOW });
    await createRule(kv, "u1", input("b", "c"), { now: NOW });
    await assert.rejects(
      createRule(kv, "u1", input("c", "a"), { now: NOW }),
      (e: unknown) =>
        e instanceof RuleRejectedError && e.problems[0].code === "cycle" &&
        /a → b → c → a|b → c → a → b|c → a → b → c/.test(e.message),
    );
    // Both ways between two calendars is fine.
    await createRule(kv, "u1", input("b", "a"), { now: NOW });
  }));

Deno.test("rules: the store refuses a duplicate of an enabled rule, stores a disabled one, refuses turning it on", () =>
  withMemoryKv(async (kv) => {
    await createRule(kv, "u1", input("a", "b", { bidirectional: true }), { now: NOW });
    await assert.rejects(createRule(kv, "u1", input("b", "a"), { now: NOW }), RuleDuplicateError);
    const off = await createRule(kv, "u1", input("a", "b", { enabled: false }), { now: NOW });
    await assert.rejects(
      updateRule(kv, "u1", off.rule.id, { enabled: true }, { now: NOW }),
      (e: unknown) =>
        e instanceof RuleDuplicateError && /"a→b" already mirrors a into b/.test(e.message),
    );
    assert.equal(
      (await updateRule(kv, "u1", off.rule.id, { name: "Spare" }, { now: NOW })).rule.name,
      "Spare",
    );
  }));

Deno.test("rules: an edit with a stale versionstamp is a conflict; a fresh one applies", () =>
  withMemoryKv(async (kv) => {
    const { rule, versionstamp } = await createRule(kv, "u1", input("a", "b"), { now: NOW });
    const edited = await updateRule(kv, "u1", rule.id, { name: "Renamed" }, {
      now: NOW,
      ifVersionstamp: versionstamp,
    });
    assert.equal(edited.rule.name, "Renamed");
    await assert.rejects(
      updateRule(kv, "u1", rule.id, { name: "Again" }, { now: NOW, ifVersionstamp: versionstamp }),
      ConflictError,
    );
    await assert.rejects(updateRule(kv, "u1", "nope", {}, { now: NOW }), RuleNotFoundError);
  }));

Deno.test("rules: an edit that could close a cycle is rejected like a create", () =>
  withMemoryKv(async (kv) => {
    await createRule(kv, "u1", input("a", "b"), { now: NOW });
    await createRule(kv, "u1", input("b", "c"), { now: NOW });
    const { rule } = await createRule(kv, "u1", input("c", "d"), { now: NOW });
    await assert.rejects(
      updateRule(kv, "u1", rule.id, { target: cal("a") }, { now: NOW }),
      RuleRejectedError,
    );
  }));

Deno.test("rules: the engine's status survives a rename; a changed target resets it to ok", () =>
  withMemoryKv(async (kv) => {
    const { rule } = await createRule(kv, "u1", input("a", "b"), { now: NOW });
    const lease = await acquireLease(kv, "u1", { owner: "o", now: NOW, ttlMs: 60_000 });
    assert.ok(lease);
    await setRuleStatus(kv, lease, "u1", rule.id, "broken", "calendar b is gone");
    const renamed = await updateRule(kv, "u1", rule.id, { name: "x" }, { now: NOW });
    assert.equal(renamed.rule.status, "broken");
    const moved = await updateRule(kv, "u1", rule.id, { target: cal("c") }, { now: NOW });
    assert.equal(moved.rule.status, "ok");
    assert.equal(moved.rule.statusReason, undefined);
  }));

Deno.test("rules: deleting queues mirror removal, or releases the mirrors and forgets the ledger", () =>
  withMemoryKv(async (kv) => {
    const removed = await createRule(kv, "u1", input("a", "b"), { now: NOW });
    const kept = await createRule(kv, "u1", input("c", "d"), { now: NOW });
    const lease = await acquireLease(kv, "u1", { owner: "o", now: NOW, ttlMs: 60_000 });
    assert.ok(lease);
    const writer = new LedgerWriter(lease, "u1");
    await writer.put({ ruleId: kept.rule.id, direction: "forward" }, {
      mirrorId: "m1",
      hash: "h",
      target: cal("d"),
      sourceEventId: "e1",
    });
    await writer.flush();
    await deleteRule(kv, "u1", removed.rule.id, { now: NOW, removeMirrors: true });
    await deleteRule(kv, "u1", kept.rule.id, { now: NOW, removeMirrors: false });
    assert.deepEqual(await listRules(kv, "u1"), []);
    const [removal] = await listMirrorRemovals(kv, "u1");
    assert.deepEqual([removal.ruleId, removal.targets], [removed.rule.id, [cal("b")]]);
    assert.deepEqual([...await listReleasedRuleIds(kv, "u1")], [kept.rule.id]);
    const ledger = await Array.fromAsync(kv.list({ prefix: keys.ledger("u1") }));
    assert.equal(ledger.length, 0);
  }));

Deno.test("rules: disabling with removal queues it; enabling again withdraws it", () =>
  withMemoryKv(async (kv) => {
    const { rule } = await createRule(kv, "u1", input("a", "b"), { now: NOW });
    await updateRule(kv, "u1", rule.id, { enabled: false }, { now: NOW, removeMirrors: true });
    assert.equal((await listMirrorRemovals(kv, "u1")).length, 1);
    await updateRule(kv, "u1", rule.id, { enabled: true }, { now: NOW });
    assert.equal((await listMirrorRemovals(kv, "u1")).length, 0);
  }));

Deno.test("rules: a stored rule keeps the event types it skipped when the default changes", () =>
  withMemoryKv(async (kv) => {
    const created = await createRule(kv, "u1", input("a", "b"), { now: NOW });
    // Stored with every filter spelt out, so a later default never reaches an existing rule.
    const stored = await kv.get<{ filters: Record<string, unknown> }>(
      keys.rule("u1", created.rule.id),
    );
    assert.deepEqual(stored.value?.filters.skipEventTypes, ["workingLocation", "birthday"]);
    // A rule as busysync stored it before out of office and focus time became busy time.
    const before = ["workingLocation", "focusTime", "outOfOffice", "birthday"];
    await kv.set(keys.rule("u1", "old"), {
      ...stored.value,
      id: "old",
      filters: { ...stored.value?.filters, skipEventTypes: before },
    });
    assert.deepEqual((await getRule(kv, "u1", "old"))?.rule.filters.skipEventTypes, before);
  }));
