import assert from "node:assert/strict";
import { withMemoryKv } from "../../tests/support/temp_kv.ts";
import { replaceCalendars } from "../db/calendars.ts";
import { saveConnectionGrant } from "../db/connections.ts";
import { getRule, listRules, RuleNotFoundError } from "../db/rules.ts";
import { RuleInputSchema } from "../model/rule.ts";
import type { SyncRequest } from "../sync/requests.ts";
import {
  addRule,
  changeRule,
  removeRule,
  RuleInvalidError,
  type RuleSaveDeps,
  RuleUnacceptableError,
} from "./save.ts";

const NOW = new Date("2026-01-01T00:00:00Z");

/** A user with one connection holding two writable calendars, and the sync requests made. */
async function world(kv: Deno.Kv) {
  await saveConnectionGrant(kv, {
    userId: "u1",
    connectionId: "c1",
    issuer: "https://issuer.test",
    sub: "s1",
    email: "ann@example.com",
    scopes: [],
    tokens: { refresh: "sealed" },
    now: NOW,
  });
  const cal = (id: string) => ({
    id,
    summary: id,
    primary: false,
    accessRole: "owner" as const,
    timeZone: "UTC",
  });
  await replaceCalendars(kv, "u1", "c1", [cal("a"), cal("b")], NOW);
  const requests: SyncRequest[] = [];
  const deps: RuleSaveDeps = {
    kv,
    now: () => NOW,
    syncRequests: {
      request: (_userId, request) => {
        requests.push(request);
        return Promise.resolve({ jobId: `job${requests.length}` });
      },
    },
  };
  return { deps, requests };
}

const input = (extra: Record<string, unknown> = {}) =>
  RuleInputSchema.parse({
    name: "a→b",
    source: { connectionId: "c1", calendarId: "a" },
    target: { connectionId: "c1", calendarId: "b" },
    ...extra,
  });

Deno.test("save: a sync is queued when a rule is on, or turned off with its mirrors going; never otherwise", () =>
  withMemoryKv(async (kv) => {
    const { deps, requests } = await world(kv);
    const queued = () => requests.splice(0).map((r) => `${r.reason}:${r.ruleIds}`);

    const on = await addRule(deps, "u1", input());
    assert.equal(on.syncJobId, "job1");
    assert.deepEqual(queued(), [`rule_created:${on.rule.id}`]);
    const off = await addRule(deps, "u1", input({ name: "off", enabled: false }));
    assert.equal(off.syncJobId, undefined);
    assert.deepEqual(queued(), []);

    const id = on.rule.id;
    await changeRule(deps, "u1", id, { enabled: false }, { keepMirrors: true });
    assert.deepEqual(queued(), [], "off, mirrors kept: nothing to sync");
    await changeRule(deps, "u1", id, { name: "renamed" }, { keepMirrors: false });
    assert.deepEqual(queued(), [], "changed while off");
    await changeRule(deps, "u1", id, { enabled: true }, { keepMirrors: false });
    assert.deepEqual(queued(), [`rule_turned_on:${id}`]);
    await changeRule(deps, "u1", id, { enabled: false }, { keepMirrors: false });
    assert.deepEqual(queued(), [`rule_turned_off:${id}`], "its mirrors go");

    await removeRule(deps, "u1", off.rule.id, { keepMirrors: true });
    assert.deepEqual(queued(), []);
    const removed = await removeRule(deps, "u1", id, { keepMirrors: false });
    assert.equal(removed.rule.name, "renamed");
    assert.deepEqual(queued(), [`rule_deleted:${id}`]);
    assert.deepEqual(await listRules(kv, "u1"), []);
  }));

Deno.test("save: a refused rule or change is not stored and queues nothing, with a typed error", () =>
  withMemoryKv(async (kv) => {
    const { deps, requests } = await world(kv);
    await assert.rejects(
      addRule(deps, "u1", input({ target: { connectionId: "c1", calendarId: "elsewhere" } })),
      (err) => err instanceof RuleUnacceptableError && err.problems[0].field === "target",
    );
    assert.deepEqual(await listRules(kv, "u1"), []);

    const { rule } = await addRule(deps, "u1", input({ enabled: false }));
    await assert.rejects(
      changeRule(deps, "u1", rule.id, {
        enabled: true,
        target: { connectionId: "c1", calendarId: "a" },
      }, { keepMirrors: false }),
      RuleInvalidError,
    );
    assert.equal((await getRule(kv, "u1", rule.id))?.rule.enabled, false);
    await assert.rejects(
      changeRule(deps, "u1", "nope", { enabled: true }, { keepMirrors: false }),
      RuleNotFoundError,
    );
    assert.deepEqual(requests, []);
  }));
