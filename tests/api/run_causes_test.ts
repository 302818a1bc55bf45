/**
 * A run says what the person did and counts what it removed: turning a rule off, deleting a
 * group and disconnecting an account each start a run named by that cause, whose line for the
 * rule or group (gone or off, so no longer synced) names it and counts its removed blocks, in
 * GET /api/history and on the run's page.
 */
import assert from "node:assert/strict";
import { until } from "../support/poll.ts";
import { addEvent, type ApiWorld, aRule, eventsIn, startApiWorld, syncNow } from "./support.ts";

interface OwnerLine {
  ruleId: string;
  kind?: string;
  name?: string;
  removed?: string;
  deleted: number;
  created: number;
  restored: number;
  status?: string;
}

interface RunView {
  id: string;
  trigger: string;
  outcome: string;
  rules: OwnerLine[];
}

/** The newest run of `trigger` in Ann's history, once there is one. */
async function runOf(w: ApiWorld, trigger: string): Promise<RunView> {
  let found: RunView | undefined;
  await until(`a run started by ${trigger}`, async () => {
    const { items } = await (await w.ann.request("/api/history")).json();
    found = (items as RunView[]).find((r) => r.trigger === trigger);
    return found !== undefined;
  });
  return found!;
}

/** The run's page as text, tags dropped. */
async function pageText(w: ApiWorld, runId: string): Promise<string> {
  const res = await w.ann.request(`/history/${runId}`);
  assert.equal(res.status, 200);
  return (await res.text()).replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
}

/** Busy blocks busysync wrote into a calendar. */
async function blocksIn(w: ApiWorld, calendarId: string): Promise<number> {
  return (await eventsIn(w.h, calendarId)).filter((e) => e.summary === "Busy").length;
}

Deno.test("run causes: turning a rule off, deleting a group, disconnecting an account", async (t) => {
  const w = await startApiWorld();
  const { ann, cal } = w;
  try {
    await addEvent(w.h, cal.main.calendarId, "Dentist", 26);
    await addEvent(w.h, cal.main.calendarId, "Gym", 30);

    await t.step(
      "a rule turned off: 'Rule turned off', its line counts the 2 removals",
      async () => {
        const rule = await (await ann.request("/api/rules", {
          method: "POST",
          json: aRule(cal, { name: "Personal into work" }),
        })).json();
        await syncNow(w);
        assert.equal(await blocksIn(w, cal.work.calendarId), 2);
        const created = await runOf(w, "rule_created");
        assert.equal(created.rules[0].name, "Personal into work");

        const off = await ann.request(`/api/rules/${rule.id}`, {
          method: "PATCH",
          json: { enabled: false },
        });
        assert.equal(off.status, 200);
        const run = await runOf(w, "rule_turned_off");
        assert.equal(run.outcome, "ok");
        assert.deepEqual(
          run.rules.map((r) => [r.ruleId, r.name, r.removed, r.deleted]),
          [[rule.id, "Personal into work", "turned_off", 2]],
        );
        assert.equal(await blocksIn(w, cal.work.calendarId), 0);
        const text = await pageText(w, run.id);
        assert.match(text, /Rule turned off/);
        assert.match(text, /2 busy blocks removed/);
        assert.match(text, /because its rule was turned off/);
        assert.doesNotMatch(text, /No changes/);
        const list = (await (await ann.request("/history")).text()).replace(/<[^>]+>/g, " ");
        assert.match(list, /Rule turned off\s+.*?2 busy blocks removed/s);

        // Turned on again, the run says so and its blocks come back.
        const on = await ann.request(`/api/rules/${rule.id}`, {
          method: "PATCH",
          json: { enabled: true },
        });
        assert.equal(on.status, 200);
        await on.body?.cancel();
        const back = await runOf(w, "rule_turned_on");
        assert.equal(back.rules[0].created + back.rules[0].restored, 2);
        assert.match(await pageText(w, back.id), /Rule turned on/);
        assert.equal(await blocksIn(w, cal.work.calendarId), 2);

        await ann.request(`/api/rules/${rule.id}`, { method: "DELETE" });
        await syncNow(w);
      },
    );

    await t.step("a group deleted: 'Group deleted', named, its removals counted", async () => {
      const res = await ann.request("/api/groups", {
        method: "POST",
        json: { name: "Main and work", members: [{ calendar: cal.main }, { calendar: cal.work }] },
      });
      assert.equal(res.status, 201);
      const group = await res.json();
      await runOf(w, "group_created");
      await syncNow(w);
      assert.equal(await blocksIn(w, cal.work.calendarId), 2);

      const gone = await ann.request(`/api/groups/${group.id}`, { method: "DELETE" });
      assert.equal(gone.status, 200);
      const run = await runOf(w, "group_deleted");
      assert.deepEqual(
        run.rules.map((r) => [r.ruleId, r.kind, r.name, r.removed, r.deleted, r.status]),
        [[group.id, "group", "Main and work", "deleted", 2, undefined]],
      );
      const text = await pageText(w, run.id);
      assert.match(text, /Group deleted/);
      assert.match(text, /2 busy blocks removed/);
      assert.match(text, /because its group was deleted/);
      assert.match(text, /Main and work/, "a deleted group is named, not 'A deleted rule'");
      assert.doesNotMatch(text, /A deleted rule/);
    });

    await t.step(
      "an account disconnected: 'Account disconnected', rule named and counted",
      async () => {
        const rule = await (await ann.request("/api/rules", {
          method: "POST",
          json: aRule(cal, { name: "Home into work" }),
        })).json();
        await syncNow(w);
        assert.equal(await blocksIn(w, cal.work.calendarId), 2);

        const res = await ann.request(`/api/user/connections/${cal.main.connectionId}`, {
          method: "DELETE",
        });
        assert.equal(res.status, 200);
        const run = await runOf(w, "account_disconnected");
        assert.deepEqual(
          run.rules.map((r) => [r.ruleId, r.name, r.removed, r.deleted]),
          [[rule.id, "Home into work", "account_disconnected", 2]],
        );
        const text = await pageText(w, run.id);
        assert.match(text, /Account disconnected/);
        assert.match(text, /2 busy blocks removed/);
        assert.match(text, /because the account was disconnected/);
        assert.match(text, /rule Home into work/);
        assert.doesNotMatch(text, /A deleted rule/);
      },
    );
  } finally {
    await w.h.close();
  }
});
