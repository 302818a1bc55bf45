/**
 * /api/rules end to end against the emulator: create, read, replace, change and delete a rule
 * (with ETag / If-Match), every kind of validation error (400 naming the field, 422 for a rule
 * that cannot be accepted), validate without saving, preview (stored and draft), and confirm
 * a rule the delete guard holds. Mirrors are checked in the emulator's calendars.
 */
import assert from "node:assert/strict";
import { until } from "../support/poll.ts";
import { addEvent, aRule, eventsIn, holdARule, startApiWorld, syncNow } from "./support.ts";

const json = { "content-type": "application/json" };

Deno.test("rules API: CRUD, validation, ETags, preview and confirm", async (t) => {
  const w = await startApiWorld({ BUSYSYNC_DELETE_GUARD_MIN: "1" });
  const { ann, cal, h } = w;
  const post = (path: string, body: unknown) => ann.request(path, { method: "POST", json: body });
  const errorOf = async (res: Response, status: number) => {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    assert.deepEqual(Object.keys(body), ["error"]);
    return body.error as { code: string; message: string; fields?: Record<string, string> };
  };
  try {
    let ruleId = "";
    let etag = "";

    await t.step(
      "POST creates with defaults, 201 with Location and ETag; GET and list agree",
      async () => {
        const res = await post("/api/rules", aRule(cal));
        assert.equal(res.status, 201);
        const rule = await res.json();
        ruleId = rule.id;
        etag = res.headers.get("etag")!;
        assert.match(etag, /^"[0-9a-f]+"$/);
        assert.equal(res.headers.get("location"), `/api/rules/${ruleId}`);
        assert.equal(rule.status, "ok");
        assert.equal(rule.privacy, "busy");
        assert.equal(rule.copyPrivateTitles, false);
        assert.deepEqual(rule.window, { daysBack: 7, daysAhead: 60 });
        assert.equal(rule.filters.skipInvitedInTarget, true);
        const got = await ann.request(`/api/rules/${ruleId}`);
        assert.equal(got.headers.get("etag"), etag);
        assert.deepEqual(await got.json(), rule);
        const list = await (await ann.request("/api/rules")).json();
        assert.deepEqual(list.items, [rule]);
        assert.deepEqual(list.hints, []);
      },
    );

    await t.step("each invalid field answers 400 naming it", async () => {
      const cases: [unknown, string][] = [
        [{ ...aRule(cal), name: "" }, "name"],
        [{ source: cal.main, target: cal.work }, "name"],
        [
          { ...aRule(cal), source: { connectionId: "no/slash", calendarId: "x" } },
          "source.connectionId",
        ],
        [{ ...aRule(cal), target: undefined }, "target"],
        [{ ...aRule(cal), privacy: "secret" }, "privacy"],
        [{ ...aRule(cal), bidirectional: "yes" }, "bidirectional"],
        [{ ...aRule(cal), window: { daysAhead: 0 } }, "window.daysAhead"],
        [{ ...aRule(cal), window: { daysBack: 400 } }, "window.daysBack"],
        [{ ...aRule(cal), filters: { skipEventTypes: ["party"] } }, "filters.skipEventTypes.0"],
        [
          {
            ...aRule(cal),
            filters: {
              workingHours: { days: ["mon"], start: "25:00", end: "17:00", timeZone: "UTC" },
            },
          },
          "filters.workingHours.start",
        ],
        [
          {
            ...aRule(cal),
            filters: {
              workingHours: { days: ["mon"], start: "09:00", end: "17:00", timeZone: "Mars/Base" },
            },
          },
          "filters.workingHours.timeZone",
        ],
        [
          { ...aRule(cal), filters: { excludeSummaryRegex: "(a+)+" } },
          "filters.excludeSummaryRegex",
        ],
        [[aRule(cal)], "body"],
      ];
      for (const [body, field] of cases) {
        for (const path of ["/api/rules", "/api/rules/validate", "/api/rules/preview"]) {
          const error = await errorOf(await post(path, body), 400);
          assert.equal(error.code, "invalid_request");
          assert.ok(error.fields?.[field], `${path} ${field}: ${JSON.stringify(error.fields)}`);
        }
      }
    });

    await t.step("a summary pattern that does not compile is refused in words", async () => {
      for (const path of ["/api/rules", "/api/rules/validate"]) {
        const res = await post(path, {
          ...aRule(cal),
          filters: { excludeSummaryRegex: "lunch(" },
        });
        const error = await errorOf(res, 400);
        assert.equal(
          error.fields?.["filters.excludeSummaryRegex"],
          "The pattern has an opening bracket “(” without a closing one.",
        );
      }
    });

    await t.step("malformed JSON is 400, a form body 415: never a 500", async () => {
      const bad = await ann.request("/api/rules", { method: "POST", headers: json, body: "{" });
      assert.equal((await errorOf(bad, 400)).code, "invalid_json");
      const form = await ann.request("/api/rules", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "name=x",
      });
      assert.equal((await errorOf(form, 415)).code, "unsupported_media_type");
      const patch = await ann.request(`/api/rules/${ruleId}`, {
        method: "PATCH",
        headers: json,
        body: "nope",
      });
      assert.equal((await errorOf(patch, 400)).code, "invalid_json");
    });

    await t.step(
      "422: self-target, read-only target, unknown calendar, cycle (naming calendars)",
      async () => {
        for (const path of ["/api/rules", "/api/rules/validate"]) {
          const self = await errorOf(await post(path, aRule(cal, { target: cal.main })), 422);
          assert.equal(self.code, "self_target");
          // Shown as is under the target field: a sentence.
          assert.equal(self.fields?.target, "A calendar cannot be its own target.");
          const readOnly = await errorOf(await post(path, aRule(cal, { target: cal.family })), 422);
          assert.equal(readOnly.code, "unwritable_target");
          assert.match(readOnly.message, /“Family” \(ann@example\.com\)/);
          const both = await errorOf(
            await post(
              path,
              aRule(cal, { source: cal.family, target: cal.team, bidirectional: true }),
            ),
            422,
          );
          assert.equal(both.code, "unwritable_target");
          assert.ok(both.fields?.source);
          const unknown = await errorOf(
            await post(
              path,
              aRule(cal, { target: { ...cal.work, calendarId: "nobody@example.com" } }),
            ),
            422,
          );
          assert.equal(unknown.code, "unknown_calendar");
        }
        assert.equal(
          (await post(
            "/api/rules",
            aRule(cal, { name: "Work to team", source: cal.work, target: cal.team }),
          )).status,
          201,
        );
        const cycle = await errorOf(
          await post(
            "/api/rules/validate",
            aRule(cal, { name: "Team to main", source: cal.team, target: cal.main }),
          ),
          422,
        );
        assert.equal(cycle.code, "cycle");
        assert.ok(cycle.fields?.target, "a cycle is marked on the target");
        assert.match(cycle.message, /“Team” \(ann@work\.example\.com\)/);
        assert.match(cycle.message, /“Main calendar” \(ann@example\.com\)/);
        assert.match(cycle.message, /"Team to main"/);
        const saved = await errorOf(
          await post(
            "/api/rules",
            aRule(cal, { name: "Team to main", source: cal.team, target: cal.main }),
          ),
          422,
        );
        assert.equal(saved.code, "cycle");
      },
    );

    await t.step(
      "validate: 200 with defaults and chains that stop short; an id replaces that rule",
      async () => {
        // Off, so it duplicates nothing: a disabled rule covers no pair.
        const res = await post(
          "/api/rules/validate",
          aRule(cal, { name: "Again", enabled: false }),
        );
        assert.equal(res.status, 200);
        const body = await res.json();
        assert.equal(body.valid, true);
        assert.equal(body.rule.title, "Busy");
        assert.equal(body.hints.length, 1);
        assert.match(body.hints[0].message, /never “Team”/);
        // Turning the stored main → work around closes no cycle once it replaces itself.
        const replacing = await post("/api/rules/validate", {
          ...aRule(cal, { target: cal.team }),
          id: ruleId,
        });
        assert.equal(replacing.status, 200);
        const missing = await post("/api/rules/validate", {
          ...aRule(cal),
          id: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        });
        assert.equal((await errorOf(missing, 404)).code, "not_found");
      },
    );

    await t.step(
      "preview: the blocks a stored rule and a draft would create, with times",
      async () => {
        // The syncs earlier saves queued run first: one running late would mirror the Dentist
        // before the preview looks (seen on a loaded machine).
        await syncNow(w);
        await addEvent(h, cal.main.calendarId, "Dentist", 26);
        // Free time, so the "Work to team" rule (whose source this is) leaves it alone.
        await addEvent(h, cal.work.calendarId, "Quarterly review", 30, {
          transparency: "transparent",
        });
        const stored = await (await post(`/api/rules/${ruleId}/preview`, {})).json();
        // What the target already holds comes along, for the week view to draw beneath.
        const review = stored.existing.find((e: { summary: string }) =>
          e.summary === "Quarterly review"
        );
        assert.ok(review?.target.endsWith(cal.work.calendarId), JSON.stringify(stored.existing));
        assert.ok(review.start.dateTime && review.end.dateTime);
        const block = stored.ops.find((op: { kind: string }) => op.kind === "create");
        assert.ok(block, JSON.stringify(stored));
        assert.equal(block.summary, "Busy");
        assert.ok(block.start.dateTime && block.end.dateTime);
        assert.ok(block.target.endsWith(cal.work.calendarId));
        assert.equal(stored.counts.create, stored.ops.length);
        const draft = await (await post(
          "/api/rules/preview",
          aRule(cal, { privacy: "title", target: cal.team }),
        )).json();
        assert.ok(
          draft.ops.some((op: { summary: string }) => op.summary === "Dentist"),
          JSON.stringify(draft),
        );
        assert.ok(
          draft.ops.every((op: { target: string }) => op.target.endsWith(cal.team.calendarId)),
        );
        assert.equal(
          (await errorOf(await post("/api/rules/preview", aRule(cal, { target: cal.family })), 422))
            .code,
          "unwritable_target",
        );
        assert.deepEqual(await eventsIn(h, cal.team.calendarId), [], "a preview writes nothing");
      },
    );

    await t.step(
      "a sync mirrors; PATCH { enabled: false } turns it off and removes its blocks",
      async () => {
        await syncNow(w);
        assert.ok((await eventsIn(h, cal.work.calendarId)).some((e) => e.summary === "Busy"));
        const res = await ann.request(`/api/rules/${ruleId}`, {
          method: "PATCH",
          json: { enabled: false },
        });
        assert.equal(res.status, 200);
        assert.equal((await res.json()).enabled, false);
        assert.notEqual(res.headers.get("etag"), etag);
        etag = res.headers.get("etag")!;
        await until(
          "the mirrors to go",
          async () => !(await eventsIn(h, cal.work.calendarId)).some((e) => e.summary === "Busy"),
        );
      },
    );

    await t.step("PATCH: strict fields, null removes a filter, 404 for an unknown id", async () => {
      const typo = await ann.request(`/api/rules/${ruleId}`, {
        method: "PATCH",
        json: { enabeld: true },
      });
      assert.equal((await errorOf(typo, 400)).code, "invalid_request");
      const hours = {
        days: ["mon", "tue"],
        start: "09:00",
        end: "17:00",
        timeZone: "Europe/Berlin",
      };
      const on = await ann.request(`/api/rules/${ruleId}`, {
        method: "PATCH",
        json: { filters: { workingHours: hours } },
      });
      assert.deepEqual((await on.json()).filters.workingHours, hours);
      const off = await ann.request(`/api/rules/${ruleId}`, {
        method: "PATCH",
        json: { filters: { workingHours: null } },
      });
      const rule = await off.json();
      assert.equal(rule.filters.workingHours, undefined);
      assert.equal(rule.filters.skipAllDay, true, "the other filters stay");
      const optIn = await ann.request(`/api/rules/${ruleId}`, {
        method: "PATCH",
        json: { copyPrivateTitles: true },
      });
      assert.equal((await optIn.json()).copyPrivateTitles, true);
      etag = optIn.headers.get("etag")!;
      const self = await ann.request(`/api/rules/${ruleId}`, {
        method: "PATCH",
        json: { target: cal.main },
      });
      assert.equal((await errorOf(self, 422)).code, "self_target");
      const gone = await ann.request("/api/rules/01ARZ3NDEKTSV4RRFFQ69G5FAV", {
        method: "PATCH",
        json: {},
      });
      assert.equal((await errorOf(gone, 404)).code, "not_found");
    });

    await t.step(
      "If-Match: a stale ETag answers 409 on PUT, PATCH and DELETE; the current one works",
      async () => {
        const stale = '"00000000000000010000"';
        const cases: [string, unknown][] = [["PUT", aRule(cal)], ["PATCH", { name: "x" }], [
          "DELETE",
          undefined,
        ]];
        for (const [method, body] of cases) {
          const res = await ann.request(`/api/rules/${ruleId}`, {
            method,
            json: body,
            headers: { "if-match": stale },
          });
          assert.equal((await errorOf(res, 409)).code, "conflict", method);
        }
        const res = await ann.request(`/api/rules/${ruleId}`, {
          method: "PUT",
          json: aRule(cal, { name: "Replaced", enabled: false, window: { daysAhead: 14 } }),
          headers: { "if-match": etag },
        });
        assert.equal(res.status, 200);
        const rule = await res.json();
        assert.equal(rule.name, "Replaced");
        assert.deepEqual(rule.window, { daysBack: 7, daysAhead: 14 });
      },
    );

    await t.step("DELETE ?keepMirrors=true leaves the blocks; DELETE removes them", async () => {
      const keep = await (await post("/api/rules", aRule(cal, { name: "Keep", target: cal.team })))
        .json();
      await syncNow(w);
      const teamBlocks = (await eventsIn(h, cal.team.calendarId)).length;
      assert.ok(teamBlocks > 0);
      const kept = await ann.request(`/api/rules/${keep.id}?keepMirrors=true`, {
        method: "DELETE",
      });
      assert.deepEqual((await kept.json()).mirrors, "kept");
      await syncNow(w);
      assert.equal((await eventsIn(h, cal.team.calendarId)).length, teamBlocks);

      const doomed =
        await (await post("/api/rules", aRule(cal, { name: "Doomed", target: cal.team }))).json();
      await syncNow(w);
      assert.ok((await eventsIn(h, cal.team.calendarId)).length > teamBlocks);
      const removing = await ann.request(`/api/rules/${doomed.id}`, { method: "DELETE" });
      assert.equal((await removing.json()).mirrors, "removing");
      await until(
        "the deleted rule's blocks to go",
        async () => (await eventsIn(h, cal.team.calendarId)).length === teamBlocks,
      );

      const gone = await ann.request(`/api/rules/${ruleId}`, { method: "DELETE" });
      assert.equal(gone.status, 200);
      assert.equal((await ann.request(`/api/rules/${ruleId}`)).status, 404);
      const again = await ann.request(`/api/rules/${ruleId}`, { method: "DELETE" });
      assert.equal((await errorOf(again, 404)).code, "not_found");
      const bad = await ann.request(`/api/rules/${keep.id}?keepMirrors=maybe`, {
        method: "DELETE",
      });
      assert.ok((await errorOf(bad, 400)).fields?.keepMirrors);
    });

    await t.step(
      "confirm: 409 for a rule that is not held; a held rule's removals go ahead",
      async () => {
        const list = await (await ann.request("/api/rules")).json();
        const free = list.items[0].id;
        assert.equal(
          (await errorOf(await post(`/api/rules/${free}/confirm`, {}), 409)).code,
          "not_held",
        );
        for (const rule of list.items) {
          await ann.request(`/api/rules/${rule.id}`, { method: "DELETE" });
        }
        await syncNow(w);

        const held = await holdARule(w);
        const preview = await (await post(`/api/rules/${held}/preview`, {})).json();
        assert.equal(preview.counts.delete, 3, "the preview shows what the guard holds");
        const res = await post(`/api/rules/${held}/confirm?wait=true`, {});
        assert.equal(res.status, 200);
        const { run } = await res.json();
        assert.equal(run.trigger, "confirm");
        assert.equal(run.rules.find((r: { ruleId: string }) => r.ruleId === held).deleted, 3);
        assert.equal((await (await ann.request(`/api/rules/${held}`)).json()).status, "ok");
        const queued = await post(`/api/rules/${held}/confirm`, {});
        assert.equal((await errorOf(queued, 409)).code, "not_held");
      },
    );
  } finally {
    await h.close();
  }
});

Deno.test("rules API: a calendar shared as free/busy only is refused as a source, in words", async () => {
  const w = await startApiWorld();
  const { ann, cal, h } = w;
  try {
    // Bob shares his calendar with Ann's personal account as free/busy only.
    await h.admin("seed", {
      users: [{
        email: "ann@example.com",
        name: "Ann Example",
        calendars: [{
          id: "bob@example.org",
          summary: "Bob",
          timeZone: "America/New_York",
          accessRole: "freeBusyReader",
        }],
      }],
    });
    const { items } = await (await ann.request("/api/user/calendars?refresh=true")).json();
    const bob = items.find((c: { calendarId: string }) => c.calendarId === "bob@example.org");
    assert.equal(bob?.accessRole, "freeBusyReader", "still listed, with its role");
    const source = { connectionId: bob.connectionId, calendarId: "bob@example.org" };
    for (const path of ["/api/rules", "/api/rules/validate", "/api/rules/preview"]) {
      const res = await ann.request(path, { method: "POST", json: aRule(cal, { source }) });
      const { error } = await res.json();
      assert.equal(res.status, 422, path);
      assert.equal(error.code, "free_busy_only");
      assert.match(error.fields.source, /“Bob” \(ann@example\.com\).*free\/busy only/);
    }
    assert.deepEqual((await (await ann.request("/api/rules")).json()).items, []);
  } finally {
    await h.close();
  }
});
