/**
 * Logs name no one and say what they belong to. One run through a sign-in, a second account's
 * connection, a rule and sync runs (one with a failing rule) against the emulator, logged at
 * debug level into memory, with Google failing where that makes the app log about a user, a
 * connection or a calendar: no line holds a test user's address, a calendar id of theirs, their
 * user id or a connection id in the clear (plain, URL-encoded or in other case); every line
 * written while a request is handled carries that request's id, every line of a run its run id;
 * and one user is one hash on every line about them, the hash their id gives under the
 * instance's key.
 */
import assert from "node:assert/strict";
import { listCalendars } from "../../lib/db/calendars.ts";
import { createLogger } from "../../lib/log.ts";
import { logIdsFromSecret } from "../../lib/log_ids.ts";
import { addEvent, FAST, liveChannels } from "../scheduler/support.ts";
import { until } from "../support/poll.ts";
import { ANN, ANN_WORK, startHarness, type TestClient } from "../support/accounts.ts";

const SESSION_SECRET = "the session secret of the instance under test";

type Entry = Record<string, unknown> & { msg: string };

Deno.test("logs: no line names a user or a calendar, each carries its request or run id, one user is one hash", async (t) => {
  const lines: string[] = [];
  const ids = logIdsFromSecret(new TextEncoder().encode(SESSION_SECRET));
  const log = createLogger("debug", (line) => lines.push(line), { ids });
  const h = await startHarness(
    { BUSYSYNC_PUSH: "on", BUSYSYNC_SESSION_SECRET: SESSION_SECRET },
    { serve: true, log, scheduler: FAST },
  );
  const entries = () => lines.map((line) => JSON.parse(line) as Entry);
  const ann = h.client("192.0.2.1");
  /**
   * Sends one request and returns the lines written meanwhile. The worker runs jobs alongside;
   * its lines carry their job's id instead. Every other line must be the request's.
   */
  const during = async (send: () => Promise<Response>) => {
    const from = lines.length;
    const res = await send();
    const requestId = res.headers.get("x-request-id")!;
    const written = entries().slice(from);
    for (const entry of written) {
      if (entry.jobId !== undefined) continue;
      assert.equal(entry.requestId, requestId, `a line of the request: ${JSON.stringify(entry)}`);
    }
    return { res, requestId, ofRequest: written.filter((e) => e.requestId === requestId) };
  };
  /** Google's side of a flow, then the callback request into busysync. */
  const throughGoogle = async (browser: TestClient, authUrl: string, email: string) => {
    const back = await browser.authorizeAtGoogle(authUrl, email);
    return await during(() => browser.request(`${back.pathname}${back.search}`));
  };
  const syncNow = async () => {
    h.clock.advance(60_000);
    const sent = await during(() =>
      ann.request("/api/sync?wait=true", { method: "POST", json: {} })
    );
    assert.equal(sent.res.status, 200);
    return { ...sent, run: (await sent.res.json()).run as { id: string; outcome: string } };
  };

  try {
    let userId = "";
    await t.step("a sign-in whose calendar list fails logs within its request", async () => {
      // The list after connecting fails (a 404 is not retried) and is logged; sign-in goes on.
      await h.admin("faults", { method: "calendarList.list", fault: "notFound", times: 1 });
      const login = await ann.request("/api/auth/login");
      const callback = await throughGoogle(ann, login.headers.get("location")!, ANN);
      await h.admin("faults", undefined, "DELETE");
      assert.equal(callback.res.status, 303);
      const failed = callback.ofRequest.find((e) =>
        e.msg === "calendar list after connecting failed"
      );
      assert.ok(failed, `logged: ${callback.ofRequest.map((e) => e.msg).join(" | ")}`);
      userId = (await (await ann.request("/api/me")).json()).id;
      const [connection] = await ann.connections();
      assert.equal(failed.connectionId, ids.hash("conn", connection.id));
      const refreshed = await during(() => ann.request("/api/user/calendars?refresh=true"));
      assert.equal(refreshed.res.status, 200);
    });

    await t.step(
      "a connection refused by Google's token endpoint logs within its request",
      async () => {
        await h.admin("faults", { method: "oauth.token", fault: "backendError" });
        const start = await ann.request("/api/user/calendars/connect", {
          method: "POST",
          json: {},
        });
        const refused = await throughGoogle(ann, (await start.json()).url, ANN_WORK);
        await h.admin("faults", undefined, "DELETE");
        assert.equal(refused.res.status, 502);
        assert.ok(refused.ofRequest.some((e) => e.msg === "OAuth code exchange failed"));
        const again = await ann.request("/api/user/calendars/connect", {
          method: "POST",
          json: {},
        });
        assert.equal(
          (await throughGoogle(ann, (await again.json()).url, ANN_WORK)).res.status,
          303,
        );
      },
    );

    const byEmail = new Map((await ann.connections()).map((c) => [c.email, c.id]));
    const rule = await ann.request("/api/rules", {
      method: "POST",
      json: {
        name: "Personal into work",
        source: { connectionId: byEmail.get(ANN), calendarId: ANN },
        target: { connectionId: byEmail.get(ANN_WORK), calendarId: ANN_WORK },
      },
    });
    assert.equal(rule.status, 201);

    await t.step("every line of a sync run carries its run id and job id", async () => {
      await addEvent(h, ANN, "Dentist");
      const first = await syncNow();
      assert.equal(first.run.outcome, "ok");
      await until("the push channel", async () => (await liveChannels(h)).length > 0);
      // Writes into the work calendar fail (a 404 is not retried): the rule fails, the run goes on.
      await h.admin("faults", { method: "events.insert", fault: "notFound" });
      await addEvent(h, ANN, "Lunch", 12);
      const second = await syncNow();
      await h.admin("faults", undefined, "DELETE");
      assert.equal(second.run.outcome, "partial");
      for (const { run } of [first, second]) {
        const ofRun = entries().filter((e) => e.runId === run.id);
        assert.ok(ofRun.some((e) => e.msg === "sync: run finished"), `run ${run.id}`);
        for (const entry of ofRun) assert.ok(entry.jobId, `a job's line: ${JSON.stringify(entry)}`);
      }
      assert.ok(
        entries().some((e) => e.runId === second.run.id && e.msg === "sync: rule failed"),
        "the rule's failure is a line of its run",
      );
      // The engine's lines are all lines of a run (a lease renewal spans runs: none here).
      for (const entry of entries().filter((e) => e.msg.startsWith("sync: "))) {
        assert.ok(entry.runId, `a line of a run: ${JSON.stringify(entry)}`);
      }
    });

    await t.step("lines about one user carry one hash, the one their id gives", () => {
      const aboutAnn = entries().filter((e) => e.userId !== undefined);
      const messages = new Set(aboutAnn.map((e) => e.msg));
      for (const msg of ["push: channel opened", "sync: run finished", "sync: rule failed"]) {
        assert.ok(messages.has(msg), `"${msg}" names its user: ${[...messages].join(" | ")}`);
      }
      for (const entry of aboutAnn) assert.equal(entry.userId, ids.hash("user", userId));
    });

    await t.step("no line holds an address, a calendar id, a user or a connection id", async () => {
      const calendars = (await listCalendars(h.kv, userId)).map((c) => c.id);
      assert.ok(calendars.length >= 4, `Ann's calendars: ${calendars.join(", ")}`);
      const named = [ANN, ANN_WORK, ...calendars, userId, ...byEmail.values()];
      const text = lines.join("\n").toLowerCase();
      for (const value of new Set(named)) {
        for (const form of new Set([value, encodeURIComponent(value)])) {
          assert.ok(!text.includes(form.toLowerCase()), `${form} is in the log`);
        }
      }
    });
  } finally {
    await h.close();
  }
});
