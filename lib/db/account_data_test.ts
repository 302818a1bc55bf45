import assert from "node:assert/strict";
import { withMemoryKv } from "../../tests/support/temp_kv.ts";
import { deleteAllUserData } from "./account_data.ts";
import { keys } from "./keys.ts";
import { createRule } from "./rules.ts";
import { RuleInputSchema } from "../model/rule.ts";

Deno.test("account data: deleting a user leaves none of their keys, including the ones a prefix listing skips", () =>
  withMemoryKv(async (kv) => {
    const rule = RuleInputSchema.parse({
      name: "a→b",
      source: { connectionId: "c1", calendarId: "a" },
      target: { connectionId: "c1", calendarId: "b" },
    });
    // Creating a rule also bumps the user's rule-set version, a key equal to its prefix.
    await createRule(kv, "u1", rule, { now: new Date("2026-01-01T00:00:00Z") });
    await createRule(kv, "u2", rule, { now: new Date("2026-01-01T00:00:00Z") });
    assert.notEqual((await kv.get(keys.ruleSet("u1"))).value, null);

    await deleteAllUserData(kv, "u1");
    const left: Deno.KvKey[] = [];
    for await (const e of kv.list({ prefix: [] })) left.push(e.key);
    assert.deepEqual(left.filter((k) => k.includes("u1")), []);
    assert.notEqual((await kv.get(keys.ruleSet("u2"))).value, null, "another user's stay");
  }));
