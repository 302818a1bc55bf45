/**
 * ICS feeds end to end, with a feed publisher of the test's own (tests/ics/support.ts) and
 * Google (the emulator): adding a feed through the API (checked first, stored sealed, shown
 * masked), a rule and a group fed by it, changes, removals, a recurring series, conditional
 * fetches, a failed fetch, an empty feed held for the person's confirmation, and a feed that
 * rewrites its UIDs on every fetch.
 */
import assert from "node:assert/strict";
import { type ApiWorld, eventsIn, startApiWorld, syncNow } from "../api/support.ts";
import { ANN_WORK } from "../support/accounts.ts";
import { daysAhead, feed, type FeedServer, startFeedServer, utc, vevent } from "./support.ts";

const ALLOW_LOOPBACK = { BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" };

/** Adds `url` as a feed through the API; returns the answer's status and body. */
async function addFeed(w: ApiWorld, url: string, name?: string) {
  const res = await w.ann.request("/api/user/connections/ics", {
    method: "POST",
    json: { url, ...(name ? { name } : {}) },
  });
  return { status: res.status, body: await res.json() };
}

async function addedFeed(w: ApiWorld, server: FeedServer, name = "School") {
  const { status, body } = await addFeed(w, server.url, name);
  assert.equal(status, 201, JSON.stringify(body));
  return { connectionId: body.connection.id as string, calendarId: "feed" };
}

async function post(w: ApiWorld, path: string, json: unknown) {
  const res = await w.ann.request(path, { method: "POST", json });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

/** Every value stored in KV, as text, for looking for a secret in it. */
async function everythingStored(w: ApiWorld): Promise<string> {
  const out: string[] = [];
  for await (const entry of w.h.kv.list({ prefix: [] })) {
    out.push(JSON.stringify(entry.key), JSON.stringify(entry.value));
  }
  return out.join("\n");
}

async function busyIn(w: ApiWorld, calendarId: string) {
  return (await eventsIn(w.h, calendarId)).filter((e) => e.summary === "Busy");
}

Deno.test("ics feeds: adding one fetches it first, seals its address and shows it masked", async (t) => {
  await using server = await startFeedServer();
  await server.write(feed([vevent("a@school", "Maths", daysAhead(1, 9))]));
  const w = await startApiWorld(ALLOW_LOOPBACK);
  try {
    await t.step(
      "an address that is no feed's is refused with a code, naming the host only",
      async () => {
        const bad = await addFeed(w, "ftp://files.example.com/feed.ics");
        assert.equal(bad.status, 422);
        assert.equal(bad.body.error.code, "invalid_feed_url");

        const refused = await addFeed(w, "https://10.1.2.3/calendars/s3cret/feed.ics");
        assert.equal(refused.status, 422);
        assert.equal(refused.body.error.code, "address_refused");
        assert.doesNotMatch(JSON.stringify(refused.body), /s3cret/);

        const unreachable = await addFeed(w, "http://127.0.0.1:9/calendars/s3cret/feed.ics");
        assert.equal(unreachable.status, 422);
        assert.equal(unreachable.body.error.code, "feed_unreachable");
        assert.match(unreachable.body.error.message, /127\.0\.0\.1:9/);
        assert.doesNotMatch(JSON.stringify(unreachable.body), /s3cret/);

        const missing = await addFeed(w, server.url.replace(server.secret, "wrong"));
        assert.equal(missing.status, 422);
        assert.equal(missing.body.error.code, "feed_refused");

        server.mode = "html";
        const page = await addFeed(w, server.url);
        server.mode = "ok";
        assert.equal(page.status, 422);
        assert.equal(page.body.error.code, "not_a_feed");
        assert.doesNotMatch(JSON.stringify(page.body), new RegExp(server.secret));

        const connections = await (await w.ann.request("/api/user/connections")).json();
        assert.equal(connections.items.filter((c: { kind: string }) => c.kind === "ics").length, 0);
      },
    );

    let connectionId = "";
    await t.step("a feed is added with its one read-only calendar", async () => {
      const { status, body } = await addFeed(w, server.url, "School");
      assert.equal(status, 201, JSON.stringify(body));
      connectionId = body.connection.id;
      assert.equal(body.connection.kind, "ics");
      assert.equal(body.connection.email, `Feed from ${new URL(server.url).host}`);
      assert.equal(body.connection.feed, `http://${new URL(server.url).host}/…`);
      assert.doesNotMatch(JSON.stringify(body), new RegExp(server.secret));
      const { items } = await (await w.ann.request("/api/user/calendars")).json();
      const cal = items.find((c: { connectionId: string }) => c.connectionId === connectionId);
      assert.equal(cal.calendarId, "feed");
      assert.equal(cal.writable, false);
      assert.equal(cal.summary, "School");
    });

    await t.step("the address is nowhere in plain: not in KV, not in the export", async () => {
      assert.doesNotMatch(await everythingStored(w), new RegExp(server.secret));
      const exported = await (await w.ann.request("/api/user/export")).text();
      assert.doesNotMatch(exported, new RegExp(server.secret));
    });

    await t.step("adding the same address again renews the same connection", async () => {
      const again = await addFeed(w, server.url, "School again");
      assert.equal(again.status, 201);
      assert.equal(again.body.connection.id, connectionId);
    });

    await t.step("a feed cannot be a rule's target", async () => {
      const res = await w.ann.request("/api/rules", {
        method: "POST",
        json: {
          name: "Into a feed",
          source: w.cal.main,
          target: { connectionId, calendarId: "feed" },
        },
      });
      await res.body?.cancel();
      assert.equal(res.status, 422);
    });

    await t.step("disconnecting a feed forgets it; nothing to revoke", async () => {
      const res = await w.ann.request(`/api/user/connections/${connectionId}`, {
        method: "DELETE",
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.revoked, true);
      const connections = await (await w.ann.request("/api/user/connections")).json();
      assert.equal(connections.items.some((c: { id: string }) => c.id === connectionId), false);
    });
  } finally {
    await w.h.close();
  }
});

Deno.test("ics feeds: a feed's events become busy blocks in Google, through changes, removals and a series", async (t) => {
  await using server = await startFeedServer();
  const w = await startApiWorld(ALLOW_LOOPBACK);
  try {
    const maths = daysAhead(1, 9);
    const art = daysAhead(2, 13);
    const weekly = daysAhead(3, 8);
    const week = 7 * 24 * 3_600_000;
    const series = (overrides: string[][] = []) => [
      vevent("weekly@school", "Sport", weekly, 1, [
        "RRULE:FREQ=WEEKLY;COUNT=4",
        `EXDATE:${utc(new Date(weekly.getTime() + 2 * week))}`,
      ]),
      ...overrides,
    ];
    const moved = vevent(
      "weekly@school",
      "Sport (moved)",
      new Date(weekly.getTime() + week + 3 * 3_600_000),
      1,
      [
        `RECURRENCE-ID:${utc(new Date(weekly.getTime() + week))}`,
      ],
    );
    await server.write(feed([
      vevent("maths@school", "Maths", maths),
      vevent("art@school", "Art", art, 2),
      vevent("free@school", "Study time", art, 1, ["TRANSP:TRANSPARENT"]),
      vevent("outlook-free@school", "Lunch", maths, 1, ["X-MICROSOFT-CDO-BUSYSTATUS:FREE"]),
      ...series([moved]),
    ]));
    const source = await addedFeed(w, server);
    const rule = await post(w, "/api/rules", {
      name: "School into work",
      source,
      target: w.cal.work,
    });

    const startsOf = async () =>
      (await w.h.admin(`calendars/${encodeURIComponent(ANN_WORK)}/events`, undefined, "GET") as {
        items: { summary?: string; status: string; start: { dateTime: string } }[];
      }).items.filter((e) => e.status !== "cancelled" && e.summary === "Busy")
        .map((e) => new Date(e.start.dateTime).toISOString()).sort();

    await t.step(
      "the busy events and the series' live instances are mirrored; free ones not",
      async () => {
        assert.equal((await syncNow(w)).outcome, "ok");
        const expected = [
          maths,
          art,
          weekly,
          new Date(weekly.getTime() + week + 3 * 3_600_000),
          new Date(weekly.getTime() + 3 * week),
        ].map((d) => d.toISOString()).sort();
        assert.deepEqual(await startsOf(), expected);
      },
    );

    await t.step(
      "an unchanged feed costs one conditional request answered 304, and no write",
      async () => {
        const before = { ...server.counts };
        const busy = await busyIn(w, ANN_WORK);
        assert.equal((await syncNow(w)).outcome, "ok");
        assert.equal(server.counts.requests - before.requests, 1);
        assert.equal(server.counts.notModified - before.notModified, 1);
        assert.deepEqual(await busyIn(w, ANN_WORK), busy);
      },
    );

    await t.step(
      "a moved event moves its block in place; a removed one takes its block",
      async () => {
        const idsBefore = new Set((await busyIn(w, ANN_WORK)).map((e) => e.id));
        const later = daysAhead(1, 15);
        await server.write(feed([
          vevent("maths@school", "Maths", later),
          ...series([moved]),
        ]));
        assert.equal((await syncNow(w)).outcome, "ok");
        const starts = await startsOf();
        assert.ok(starts.includes(later.toISOString()), "maths moved");
        assert.ok(!starts.includes(maths.toISOString()), "maths left its old slot");
        assert.ok(!starts.includes(art.toISOString()), "art's block went with it");
        assert.equal(starts.length, 4);
        const ids = (await busyIn(w, ANN_WORK)).map((e) => e.id);
        assert.ok(ids.every((id) => idsBefore.has(id)), "moved blocks keep their ids (patched)");
      },
    );

    await t.step(
      "a failed fetch is a failure, never an empty feed: every block stays",
      async () => {
        const busy = await busyIn(w, ANN_WORK);
        server.mode = "fail";
        const run = await syncNow(w);
        server.mode = "ok";
        assert.notEqual(run.outcome, "ok");
        assert.deepEqual(await busyIn(w, ANN_WORK), busy);
        const history = await (await w.ann.request(`/api/history/${run.id}`)).text();
        assert.match(history, /127\.0\.0\.1/);
        assert.doesNotMatch(history, new RegExp(server.secret), "the history names the host only");
      },
    );

    await t.step("a feed that comes back empty holds every removal for the person", async () => {
      const busy = await busyIn(w, ANN_WORK);
      await server.write(feed([]));
      await syncNow(w);
      const held = await (await w.ann.request(`/api/rules/${rule.id}`)).json();
      assert.equal(held.status, "needs_confirmation", JSON.stringify(held));
      assert.match(held.statusReason ?? JSON.stringify(held), /no event at all/);
      assert.deepEqual(await busyIn(w, ANN_WORK), busy, "four removals, under the guard's minimum");

      const res = await w.ann.request(`/api/rules/${rule.id}/confirm?wait=true`, {
        method: "POST",
        json: {},
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      assert.deepEqual(await busyIn(w, ANN_WORK), []);
    });
  } finally {
    await w.h.close();
  }
});

Deno.test("ics feeds: a feed that rewrites every UID on every fetch is keyed by content, without churn", async () => {
  await using server = await startFeedServer();
  const w = await startApiWorld(ALLOW_LOOPBACK);
  try {
    const starts = [1, 2, 3, 4, 5, 6].map((d) => daysAhead(d, 10));
    const publish = (title = "Shift") =>
      server.write(feed(starts.map((s, i) => vevent(crypto.randomUUID(), `${title} ${i}`, s))));
    await publish();
    const source = await addedFeed(w, server, "Rota");
    const rule = await post(w, "/api/rules", {
      name: "Rota into work",
      source,
      target: w.cal.work,
    });
    // The first sync's fetch is judged against the one made when adding it: new UIDs for the
    // same events, so the feed is keyed by content before any block is written.
    await publish();
    assert.equal((await syncNow(w)).outcome, "ok");
    const blocks = (await busyIn(w, ANN_WORK)).map((e) => e.id).sort();
    assert.equal(blocks.length, 6);

    for (let fetch = 0; fetch < 3; fetch++) {
      await publish();
      assert.equal((await syncNow(w)).outcome, "ok");
      assert.deepEqual((await busyIn(w, ANN_WORK)).map((e) => e.id).sort(), blocks);
      const history = await (await w.ann.request("/api/history")).json();
      const line = history.items[0].rules.find((r: { ruleId: string }) => r.ruleId === rule.id);
      assert.ok(line, JSON.stringify(history.items[0]));
      assert.equal(line.created, 0, "no block created again");
      assert.equal(line.deleted, 0, "no block deleted");
    }

    // A real change still shows: a moved shift is one block removed and one created.
    starts[0] = daysAhead(1, 14);
    await publish();
    assert.equal((await syncNow(w)).outcome, "ok");
    const moved = (await busyIn(w, ANN_WORK)).map((e) => e.id);
    assert.equal(moved.length, 6);
    assert.equal(moved.filter((id) => !blocks.includes(id)).length, 1);
  } finally {
    await w.h.close();
  }
});

Deno.test("ics feeds: a group with a feed blocks the feed's time in each Google member", async () => {
  await using server = await startFeedServer();
  const w = await startApiWorld(ALLOW_LOOPBACK);
  try {
    await server.write(feed([vevent("trip@tripit", "Flight", daysAhead(2, 7), 3)]));
    const source = await addedFeed(w, server, "TripIt");
    await post(w, "/api/groups", {
      name: "Everything",
      members: [{ calendar: source }, { calendar: w.cal.main }, { calendar: w.cal.work }],
    });
    assert.equal((await syncNow(w)).outcome, "ok");
    assert.equal((await busyIn(w, ANN_WORK)).length, 1);
    assert.equal((await busyIn(w, w.cal.main.calendarId)).length, 1);

    await server.write(feed([]));
    await syncNow(w);
    assert.equal((await busyIn(w, ANN_WORK)).length, 1, "an emptied feed waits for the person");
  } finally {
    await w.h.close();
  }
});

Deno.test("ics feeds: a feed disconnected with its rules kept resumes when its address is added again", async () => {
  await using server = await startFeedServer();
  const w = await startApiWorld(ALLOW_LOOPBACK);
  try {
    await server.write(feed([vevent("a@course", "Lecture", daysAhead(1, 9))]));
    const source = await addedFeed(w, server, "Course");
    const rule = await post(w, "/api/rules", { name: "Course", source, target: w.cal.work });
    assert.equal((await syncNow(w)).outcome, "ok");

    const res = await w.ann.request(
      `/api/user/connections/${source.connectionId}?keepRules=true`,
      { method: "DELETE" },
    );
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal((await busyIn(w, ANN_WORK)).length, 1, "paused, its block stays");

    await server.write(feed([
      vevent("a@course", "Lecture", daysAhead(1, 9)),
      vevent("b@course", "Lab", daysAhead(2, 9)),
    ]));
    const again = await addedFeed(w, server, "Course");
    assert.equal(again.connectionId, source.connectionId, "the same feed, renewed");
    assert.equal((await syncNow(w)).outcome, "ok");
    const status = await (await w.ann.request(`/api/rules/${rule.id}`)).json();
    assert.equal(status.status, "ok", JSON.stringify(status));
    assert.equal((await busyIn(w, ANN_WORK)).length, 2);
  } finally {
    await w.h.close();
  }
});
