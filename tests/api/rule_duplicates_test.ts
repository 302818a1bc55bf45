/**
 * Issue 17 part 3: a rule whose source → target pair an enabled rule already covers is refused
 * with 422 `duplicate`, naming that rule, on create, replace, change and validate, also when two
 * identical creates race; a disabled duplicate may be stored, but not turned on.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/db/keys.ts";
import { getRule } from "../../lib/db/rules.ts";
import { buildRule, RuleInputSchema } from "../../lib/model/rule.ts";
import { aRule, startApiWorld } from "./support.ts";

Deno.test("rules API: a duplicate of an enabled rule is refused with 422 duplicate, naming it", async (t) => {
  const w = await startApiWorld();
  const { ann, cal } = w;
  const post = (path: string, body: unknown) => ann.request(path, { method: "POST", json: body });
  const errorOf = async (res: Response) => {
    const body = await res.json();
    assert.equal(res.status, 422, JSON.stringify(body));
    return body.error as { code: string; message: string; fields?: Record<string, string> };
  };
  try {
    const first = await post(
      "/api/rules",
      aRule(cal, { name: "Main ↔ work", bidirectional: true }),
    );
    assert.equal(first.status, 201);

    await t.step(
      "the same pair, and the reverse of a both-ways rule, on create and validate",
      async () => {
        for (const path of ["/api/rules", "/api/rules/validate"]) {
          const same = await errorOf(await post(path, aRule(cal, { name: "Again" })));
          assert.equal(same.code, "duplicate");
          assert.match(
            same.message,
            /"Main ↔ work" already mirrors .*Main calendar.* into .*edit it instead/,
          );
          assert.ok(same.fields?.target);
          const reverse = await errorOf(
            await post(path, aRule(cal, { name: "Back", source: cal.work, target: cal.main })),
          );
          assert.equal(reverse.code, "duplicate");
        }
      },
    );

    await t.step("a new rule's form opens on a pair nothing mirrors yet", async () => {
      const html = await (await ann.request("/rules/new")).text();
      const props = /data-island="RuleEditor" data-props="([^"]*)"/.exec(html)?.[1];
      assert.ok(props, "the editor is on the page");
      const { draft } = JSON.parse(props.replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
      const pair = [draft.source.calendarId, draft.target.calendarId];
      // main → work is the first pair by the form's order, and "Main ↔ work" mirrors it.
      assert.notDeepEqual(pair, [cal.main.calendarId, cal.work.calendarId]);
      assert.notDeepEqual(pair, [cal.work.calendarId, cal.main.calendarId]);
      const check = await post("/api/rules/validate", draft);
      assert.equal(check.status, 200, await check.clone().text());
      await check.body?.cancel();
    });

    let offId = "";
    await t.step(
      "a disabled duplicate is stored; turning it on is refused the same way",
      async () => {
        const off = await post("/api/rules", aRule(cal, { name: "Spare", enabled: false }));
        assert.equal(off.status, 201);
        offId = (await off.json()).id;
        const on = await errorOf(
          await ann.request(`/api/rules/${offId}`, { method: "PATCH", json: { enabled: true } }),
        );
        assert.equal(on.code, "duplicate");
        assert.match(on.message, /"Main ↔ work"/);
      },
    );

    await t.step("a change of calendars that would duplicate is refused on PUT", async () => {
      const other = await post(
        "/api/rules",
        aRule(cal, { name: "Work to team", source: cal.work, target: cal.team }),
      );
      assert.equal(other.status, 201);
      const id = (await other.json()).id;
      const put = await errorOf(
        await ann.request(`/api/rules/${id}`, {
          method: "PUT",
          json: aRule(cal, { name: "Work to team" }),
        }),
      );
      assert.equal(put.code, "duplicate");
    });

    await t.step("two identical creates at once: exactly one lands", async () => {
      const rule = aRule(cal, { name: "Team to work", source: cal.team, target: cal.work });
      const answers = await Promise.all([post("/api/rules", rule), post("/api/rules", rule)]);
      const statuses = answers.map((r) => r.status).sort();
      for (const r of answers) await r.body?.cancel();
      assert.deepEqual(statuses, [201, 422]);
    });

    await t.step(
      "a store holding duplicates names them on the rules page; they stay editable",
      async () => {
        // Past the store's check, as a store from before duplicates were refused holds them.
        const old = buildRule(RuleInputSchema.parse(aRule(cal, { name: "Old copy" })), {
          id: "01OLDCOPY0000000000000000A",
          now: new Date(),
        });
        await w.h.kv.set(keys.rule(w.annId, old.id), { v: 1, ...old });
        const page = await (await ann.request("/rules")).text();
        assert.match(page, /data-duplicates/);
        assert.match(
          page,
          /Rules &quot;Main ↔ work&quot; and &quot;Old copy&quot; both mirror/,
        );
        const renamed = await ann.request(`/api/rules/${old.id}`, {
          method: "PATCH",
          json: { name: "Old copy, renamed" },
        });
        assert.equal(renamed.status, 200);
        assert.equal((await getRule(w.h.kv, w.annId, old.id))?.rule.name, "Old copy, renamed");
      },
    );
  } finally {
    await w.h.close();
  }
});
