/**
 * Issue 17: the groups API. A three-calendar group made through `/api/groups` fills every
 * member with the others' events (a read-only member as a source only), lives with the same
 * ETag, validation and error rules as rules, is previewed, synced alone and found in the
 * history by its id; a member that leaves takes its blocks with it in both directions; and a
 * rule refused for closing a circle gets a proposal that, posted back, makes the group that
 * takes the rules' busy blocks over without re-creating them.
 */
import assert from "node:assert/strict";
import { ANN_WORK, BOB } from "../support/accounts.ts";
import {
  addEvent,
  type ApiWorld,
  aRule,
  deleteEvent,
  eventsIn,
  startApiWorld,
  syncNow,
} from "./support.ts";

const blocksIn = async (w: ApiWorld, calendarId: string) =>
  (await eventsIn(w.h, calendarId)).filter((e) => e.summary === "Busy");

async function errorOf(res: Response, status = 422) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  return body.error as { code: string; message: string; fields?: Record<string, string> };
}

Deno.test("groups API: create, read, change, preview, sync, history, members leaving, delete", async (t) => {
  const w = await startApiWorld();
  const { ann, cal } = w;
  const post = (path: string, json: unknown) => ann.request(path, { method: "POST", json });
  const three = {
    name: "Everything",
    members: [{ calendar: cal.main }, { calendar: cal.work }, { calendar: cal.team }],
  };
  try {
    await addEvent(w.h, cal.main.calendarId, "Dentist", 26);
    await addEvent(w.h, cal.work.calendarId, "Standup", 28);
    await addEvent(w.h, cal.family.calendarId, "School run", 30);

    let id = "";
    let etag = "";
    await t.step("a three-calendar group fills every member with the others' events", async () => {
      const res = await post("/api/groups", three);
      assert.equal(res.status, 201);
      const group = await res.json();
      id = group.id;
      etag = res.headers.get("etag")!;
      assert.match(etag, /^"[0-9a-f]+"$/);
      assert.equal(res.headers.get("location"), `/api/groups/${id}`);
      assert.ok(res.headers.get("busysync-sync-run"));
      assert.equal(group.privacy, "busy", "defaults as a rule's");
      await syncNow(w);
      // main's Dentist and work's Standup each land in the two other members, once; nothing
      // made from a block (a Busy in work made from main never reaches team again).
      assert.equal((await blocksIn(w, cal.main.calendarId)).length, 1);
      assert.equal((await blocksIn(w, cal.work.calendarId)).length, 1);
      assert.equal((await blocksIn(w, cal.team.calendarId)).length, 2);
    });

    await t.step("read, list, and a change with a stale ETag answers 409", async () => {
      const one = await ann.request(`/api/groups/${id}`);
      assert.equal(one.headers.get("etag"), etag);
      assert.equal((await one.json()).members.length, 3);
      const list = await (await ann.request("/api/groups")).json();
      assert.deepEqual(list.items.map((g: { id: string }) => g.id), [id]);
      const renamed = await ann.request(`/api/groups/${id}`, {
        method: "PATCH",
        headers: { "if-match": etag },
        json: { name: "All of them" },
      });
      assert.equal(renamed.status, 200);
      const stale = await ann.request(`/api/groups/${id}`, {
        method: "PATCH",
        headers: { "if-match": etag },
        json: { name: "Again" },
      });
      assert.equal((await errorOf(stale, 409)).code, "conflict");
      const misspelt = await ann.request(`/api/groups/${id}`, {
        method: "PATCH",
        json: { nmae: "x" },
      });
      assert.equal(misspelt.status, 400);
      await misspelt.body?.cancel();
    });

    await t.step("validation: each problem on the member's field", async () => {
      const twice = await errorOf(
        await post("/api/groups/validate", {
          name: "Twice",
          members: [{ calendar: cal.main }, { calendar: cal.main }],
        }),
        400,
      );
      assert.match(twice.fields?.["members.1.calendar"] ?? "", /already a member/);
      const alone = await errorOf(
        await post("/api/groups/validate", { name: "Alone", members: [{ calendar: cal.main }] }),
        400,
      );
      assert.match(alone.fields?.members ?? "", /at least 2/);
      const unknown = await errorOf(
        await post("/api/groups/validate", {
          name: "Unknown",
          members: [{ calendar: cal.main }, {
            calendar: { connectionId: cal.main.connectionId, calendarId: "nope@example.com" },
          }],
        }),
      );
      assert.equal(unknown.code, "unknown_calendar");
      assert.ok(unknown.fields?.["members.1.calendar"]);
      const ok = await post("/api/groups/validate", {
        name: "Other",
        members: [{ calendar: cal.family }, { calendar: cal.main }],
        enabled: false,
      });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    });

    await t.step("a rule or a group duplicating the group's pairs is refused", async () => {
      for (const path of ["/api/rules/validate", "/api/rules"]) {
        const dup = await errorOf(await post(path, aRule(cal, { name: "Again" })));
        assert.equal(dup.code, "duplicate");
        assert.match(dup.message, /The group "All of them" already mirrors/);
      }
      const overlap = await errorOf(
        await post("/api/groups", {
          name: "Overlap",
          members: [{ calendar: cal.work }, { calendar: cal.team }],
        }),
      );
      assert.equal(overlap.code, "duplicate");
      assert.ok(overlap.fields?.members);
    });

    await t.step("a preview shows what the group would do, without writing", async () => {
      const draft = await post("/api/groups/preview", {
        ...three,
        id,
        members: [...three.members, { calendar: cal.family }],
      });
      assert.equal(draft.status, 200);
      const preview = await draft.json();
      // School run into main, work and team; nothing into family, which busysync may only read.
      const creates = preview.ops.filter((o: { kind: string }) => o.kind === "create");
      assert.equal(creates.length, 3, JSON.stringify(preview.ops));
      assert.ok(
        creates.every((o: { target: string }) => !o.target.endsWith(cal.family.calendarId)),
      );
      const stored = await (await post(`/api/groups/${id}/preview`, {})).json();
      assert.equal(stored.counts.create, 0, "the stored group is in sync");
      assert.equal((await blocksIn(w, cal.main.calendarId)).length, 1, "nothing written");
    });

    await t.step("a read-only member joins as a source only", async () => {
      const res = await ann.request(`/api/groups/${id}`, {
        method: "PATCH",
        json: { members: [...three.members, { calendar: cal.family }] },
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      await syncNow(w);
      assert.equal((await blocksIn(w, cal.main.calendarId)).length, 2);
      assert.equal((await blocksIn(w, cal.team.calendarId)).length, 3);
      assert.equal((await blocksIn(w, cal.family.calendarId)).length, 0);
    });

    await t.step("sync one group, and find its runs in the history", async () => {
      const sync = await post("/api/sync?wait=true", { groupId: id });
      assert.equal(sync.status, 200);
      const { run } = await sync.json();
      const history = await (await ann.request(`/api/history?groupId=${id}`)).json();
      assert.ok(history.items.some((r: { id: string }) => r.id === run.id));
      assert.ok(
        history.items[0].rules.some((r: { ruleId: string; kind?: string }) =>
          r.ruleId === id && r.kind === "group"
        ),
      );
      const asRule = await (await ann.request(`/api/history?ruleId=${id}`)).json();
      assert.equal(asRule.items.length, 0, "a group's id is not a rule's");
      const both = await ann.request(`/api/history?groupId=${id}&ruleId=${id}`);
      assert.equal((await errorOf(both, 400)).code, "invalid_request");
      const unknown = await post("/api/sync", { groupId: "01NOSUCHGROUP" });
      assert.equal((await errorOf(unknown, 404)).code, "not_found");
      const notHeld = await post(`/api/groups/${id}/confirm`, {});
      assert.equal((await errorOf(notHeld, 409)).code, "not_held");
    });

    await t.step("a member that leaves takes its blocks with it, both ways", async () => {
      const res = await ann.request(`/api/groups/${id}`, {
        method: "PATCH",
        json: { members: [{ calendar: cal.main }, { calendar: cal.work }] },
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      await syncNow(w);
      // team lost every block; main keeps only work's Standup, work only main's Dentist.
      assert.equal((await blocksIn(w, cal.team.calendarId)).length, 0);
      assert.equal((await blocksIn(w, cal.main.calendarId)).length, 1);
      assert.equal((await blocksIn(w, cal.work.calendarId)).length, 1);
    });

    await t.step("another user's group is not there", async () => {
      const bob = w.h.client("192.0.2.9");
      await bob.signIn(BOB);
      for (const method of ["GET", "DELETE"]) {
        const res = await bob.request(`/api/groups/${id}`, { method });
        assert.equal((await errorOf(res, 404)).code, "not_found");
      }
      assert.deepEqual((await (await bob.request("/api/groups")).json()).items, []);
    });

    await t.step("off removes its blocks; delete keeping them leaves them", async () => {
      const off = await ann.request(`/api/groups/${id}`, {
        method: "PATCH",
        json: { enabled: false },
      });
      assert.equal(off.status, 200);
      await off.body?.cancel();
      await syncNow(w);
      assert.equal((await blocksIn(w, cal.main.calendarId)).length, 0);
      assert.equal((await blocksIn(w, cal.work.calendarId)).length, 0);
      const on = await ann.request(`/api/groups/${id}`, {
        method: "PATCH",
        json: { enabled: true },
      });
      assert.equal(on.status, 200);
      await on.body?.cancel();
      await syncNow(w);
      assert.equal((await blocksIn(w, cal.work.calendarId)).length, 1);
      const gone = await ann.request(`/api/groups/${id}?keepMirrors=true`, { method: "DELETE" });
      assert.equal(gone.status, 200);
      assert.equal((await gone.json()).mirrors, "kept");
      await syncNow(w);
      assert.equal((await blocksIn(w, cal.work.calendarId)).length, 1, "kept blocks stay");
      assert.equal((await errorOf(await ann.request(`/api/groups/${id}`), 404)).code, "not_found");
    });
  } finally {
    await w.h.close();
  }
});

Deno.test("groups API: a rule closing a circle is answered with the group that does it", async (t) => {
  const w = await startApiWorld();
  const { ann, cal } = w;
  const post = (path: string, json: unknown) => ann.request(path, { method: "POST", json });
  try {
    await addEvent(w.h, cal.main.calendarId, "Dentist", 26);
    await addEvent(w.h, cal.work.calendarId, "Standup", 28);
    const first = await (await post("/api/rules", aRule(cal, { name: "Main → work" }))).json();
    const second = await (await post("/api/rules", {
      name: "Work → team",
      source: cal.work,
      target: cal.team,
      title: "Work",
    })).json();
    await syncNow(w);
    const before = {
      work: (await blocksIn(w, cal.work.calendarId)).map((e) => e.id),
      team: (await eventsIn(w.h, cal.team.calendarId)).map((e) => e.id).sort(),
    };
    const closing = { name: "Team → main", source: cal.team, target: cal.main };

    let proposal: {
      group: Record<string, unknown> & { members: unknown[]; name: string };
      adoptRuleIds: string[];
      settingsFrom: string;
      differences: string[];
    };
    await t.step("the rule is refused in words, and the proposal names the group", async () => {
      const refused = await errorOf(await post("/api/rules/validate", closing));
      assert.equal(refused.code, "cycle");
      assert.match(refused.message, /make them a group/);
      const res = await post("/api/groups/proposal", closing);
      assert.equal(res.status, 200);
      proposal = await res.json();
      assert.equal(proposal.group.members.length, 3);
      assert.deepEqual(proposal.adoptRuleIds.sort(), [first.id, second.id].sort());
      assert.equal(proposal.settingsFrom, "Main → work");
      assert.ok(
        proposal.differences.some((d) => /"Work → team" differs in the block title/.test(d)),
        JSON.stringify(proposal.differences),
      );
      const none = await post("/api/groups/proposal", aRule(cal, { name: "x", target: cal.team }));
      assert.equal((await errorOf(none)).code, "no_proposal");
    });

    await t.step("making it takes the rules' blocks over: none re-created", async () => {
      const res = await post("/api/groups", {
        ...proposal.group,
        adoptRuleIds: proposal.adoptRuleIds,
      });
      assert.equal(res.status, 201, await res.clone().text());
      const group = await res.json();
      assert.equal(group.adopted.length, 2);
      const rules = await (await ann.request("/api/rules")).json();
      assert.deepEqual(rules.items, [], "the adopted rules are gone");
      const run = await syncNow(w);
      assert.equal(run.outcome, "ok");
      // The Busy block in work made from main's Dentist keeps its event id.
      const work = (await blocksIn(w, cal.work.calendarId)).map((e) => e.id);
      assert.ok(before.work.every((id) => work.includes(id)), "the old blocks stay");
      const team = (await eventsIn(w.h, cal.team.calendarId)).map((e) => e.id);
      assert.ok(before.team.every((id) => team.includes(id)));
      // And the group now fills in the rest: main gets work's Standup, team gets Dentist.
      assert.equal((await blocksIn(w, cal.main.calendarId)).length, 1);
    });

    await t.step("a rule that is not between members cannot be adopted", async () => {
      const other = await (await post("/api/rules", {
        name: "Family → work",
        source: cal.family,
        target: cal.work,
        enabled: false,
      })).json();
      const res = await post("/api/groups", {
        name: "Pair",
        members: [{ calendar: cal.family }, { calendar: cal.team }],
        enabled: false,
        adoptRuleIds: [other.id],
      });
      const err = await errorOf(res);
      assert.equal(err.code, "not_adoptable");
      assert.ok(err.fields?.["adoptRuleIds.0"]);
    });
    await t.step(
      "the status lists the group; disconnecting a member's account deletes it",
      async () => {
        const status = await (await ann.request("/api/status")).json();
        assert.equal(status.groups.length, 1);
        assert.equal(status.groups[0].status, "ok");
        const res = await ann.request(
          `/api/user/connections/${cal.work.connectionId}?removeMirrors=true`,
          { method: "DELETE" },
        );
        assert.equal(res.status, 200, await res.clone().text());
        assert.ok((await res.json()).removedRules.includes(status.groups[0].id));
        assert.deepEqual((await (await ann.request("/api/groups")).json()).items, []);
        assert.equal((await blocksIn(w, cal.main.calendarId)).length, 0, "its blocks went too");
      },
    );
  } finally {
    await w.h.close();
  }
});

Deno.test("groups API: the delete guard holds a group, says so, and confirm lets it go ahead", async () => {
  const w = await startApiWorld({ BUSYSYNC_DELETE_GUARD_MIN: "1" });
  const { ann, cal } = w;
  try {
    const ids = [];
    for (const hour of [30, 32, 34]) {
      ids.push(await addEvent(w.h, cal.main.calendarId, "Held", hour));
    }
    const res = await ann.request("/api/groups", {
      method: "POST",
      json: { name: "Pair", members: [{ calendar: cal.main }, { calendar: cal.work }] },
    });
    const { id } = await res.json();
    await syncNow(w);
    assert.equal((await blocksIn(w, cal.work.calendarId)).length, 3);
    for (const eventId of ids) await deleteEvent(w.h, cal.main.calendarId, eventId);
    await syncNow(w);
    const held = await (await ann.request(`/api/groups/${id}`)).json();
    assert.equal(held.status, "needs_confirmation");
    assert.equal((await blocksIn(w, cal.work.calendarId)).length, 3, "nothing removed yet");
    const status = await (await ann.request("/api/status")).json();
    const incident = status.incidents.find((i: { kind: string }) => i.kind === "rule_held");
    assert.equal(incident?.title, "Group “Pair” is waiting for you");
    assert.equal(incident?.actionPath, `/groups/${id}`);
    const confirmed = await ann.request(`/api/groups/${id}/confirm?wait=true`, { method: "POST" });
    assert.equal(confirmed.status, 200);
    assert.equal((await confirmed.json()).run.trigger, "confirm");
    assert.equal((await blocksIn(w, cal.work.calendarId)).length, 0);
    assert.equal((await (await ann.request(`/api/groups/${id}`)).json()).status, "ok");
  } finally {
    await w.h.close();
  }
});

Deno.test("groups API: one account to reconnect holds back only its members' share of the group", async () => {
  const w = await startApiWorld();
  const { ann, cal } = w;
  try {
    const res = await ann.request("/api/groups", {
      method: "POST",
      json: {
        name: "Family",
        members: [{ calendar: cal.main }, { calendar: cal.family }, { calendar: cal.work }],
      },
    });
    const { id } = await res.json();
    await syncNow(w);
    await w.h.admin("tokens/revoke", { email: ANN_WORK });
    await syncNow(w);
    await addEvent(w.h, cal.family.calendarId, "Piano", 30);
    await addEvent(w.h, cal.work.calendarId, "Offsite", 32);
    await syncNow(w);
    // Family's Piano still reaches main; nothing goes into or comes out of the work account.
    assert.deepEqual((await blocksIn(w, cal.main.calendarId)).length, 1);
    assert.equal((await blocksIn(w, cal.work.calendarId)).length, 0);
    const group = await (await ann.request(`/api/groups/${id}`)).json();
    assert.equal(group.status, "paused");
    assert.match(group.statusReason, /Connect the account again/);
    assert.match(group.statusReason, /other calendars keep blocking each other/);
  } finally {
    await w.h.close();
  }
});
