/**
 * A run's detail as a person reads it (issue 19, part 1): each action names the source event
 * by title, day and time in the user's zone, the rule or group by name, and why; left-out
 * events are listed with their reason; the titles are not stored in the clear.
 */
import assert from "node:assert/strict";
import { addEvent, aRule, startApiWorld, syncNow } from "./support.ts";
import { BOB } from "../support/accounts.ts";
import { createLogger } from "../../lib/log.ts";

/** "Tue 8 Dec" and "10:00" of an instant in a zone, worked out apart from the app's helpers. */
function dayAndTime(iso: string, timeZone: string): { day: string; time: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]),
  );
  return {
    day: `${parts.weekday} ${parts.day} ${parts.month}`,
    time: `${parts.hour}:${parts.minute}`,
  };
}

async function storeBytes(path: string): Promise<string> {
  let all = "";
  for (const file of [path, `${path}-wal`]) {
    try {
      all += new TextDecoder("latin1").decode(await Deno.readFile(file));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return all;
}

Deno.test("history: a run's page and API name each event, its rule or group and why; titles are encrypted at rest", async (t) => {
  const logged: string[] = [];
  const w = await startApiWorld({}, { log: createLogger("debug", (line) => logged.push(line)) });
  const { ann, cal, h } = w;
  const post = (path: string, body: unknown) => ann.request(path, { method: "POST", json: body });
  try {
    const zone = "Europe/Berlin";
    assert.equal(
      (await ann.request("/api/me/settings", { method: "PATCH", json: { timeZone: zone } }))
        .status,
      200,
    );
    const rule = await post(
      "/api/rules",
      aRule(cal, { name: "Main to work", filters: { skipAllDay: true } }),
    );
    assert.equal(rule.status, 201, await rule.clone().text());
    const ruleId = (await rule.json()).id;
    const group = await post("/api/groups", {
      name: "Family and team",
      members: [{ calendar: cal.family }, { calendar: cal.team }],
    });
    assert.equal(group.status, 201, await group.clone().text());
    const groupId = (await group.json()).id;
    await syncNow(w);

    await addEvent(h, cal.main.calendarId, "Dentist appointment", 26);
    await addEvent(h, cal.family.calendarId, "Piano lesson", 30);
    const holiday = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const after = new Date(Date.parse(holiday) + 86_400_000).toISOString().slice(0, 10);
    await addEvent(h, cal.main.calendarId, "Bank holiday", 0, {
      start: { date: holiday },
      end: { date: after },
    });
    const run = await syncNow(w);
    assert.equal(run.outcome, "ok");

    const detail = await (await ann.request(`/api/history/${run.id}`)).json();
    const actions = detail.actions as {
      kind: string;
      reason: string;
      ruleId: string;
      title?: string;
      start?: { dateTime?: string; date?: string };
    }[];

    await t.step("the API gives the owner each action's title and time, left-out ones too", () => {
      const dentist = actions.find((a) => a.title === "Dentist appointment");
      assert.ok(dentist, JSON.stringify(actions));
      assert.equal(dentist.kind, "create");
      assert.equal(dentist.ruleId, ruleId);
      assert.ok(dentist.start?.dateTime);
      const piano = actions.find((a) => a.title === "Piano lesson");
      assert.equal(piano?.ruleId, groupId);
      const left = actions.find((a) => a.kind === "skip" && a.reason === "all_day");
      assert.equal(left?.title, "Bank holiday");
      assert.deepEqual(left?.start, { date: holiday });
    });

    await t.step("the run page names event, day, time, rule, group and the reason", async () => {
      const res = await ann.request(`/history/${run.id}`);
      assert.equal(res.status, 200);
      const html = await res.text();
      const dentist = actions.find((a) => a.title === "Dentist appointment")!;
      const { day, time } = dayAndTime(dentist.start!.dateTime!, zone);
      // The time is a <time> element the browser redraws on the reader's clock.
      assert.match(
        html,
        new RegExp(`\u201cDentist appointment\u201d · <time [^>]*>${day}, ${time}`),
        `no title, day and time ${day}, ${time} in the page`,
      );
      assert.ok(html.includes("\u201cPiano lesson\u201d"));
      assert.match(html, new RegExp(`<a href="/rules/${ruleId}">Main to work</a>`));
      assert.match(html, new RegExp(`<a href="/groups/${groupId}">Family and team</a>`));
      assert.ok(html.includes("\u201cBank holiday\u201d"));
      assert.match(html, /Left out<\/span>/);
      assert.ok(html.includes("all-day events are left out"));
      assert.ok(html.includes(", all day"));
      for (const a of actions as unknown as { sourceEventId: string }[]) {
        if (a.sourceEventId) assert.ok(!html.includes(a.sourceEventId), "a raw event id shown");
      }
    });

    await t.step("the store holds no title in the clear", async () => {
      const bytes = await storeBytes(h.kvPath);
      assert.ok(bytes.includes("Family and team"), "the scan reads the store (a group name)");
      for (const title of ["Dentist appointment", "Piano lesson", "Bank holiday"]) {
        assert.ok(!bytes.includes(title), `${title} is stored in the clear`);
      }
    });

    await t.step("no log line carries a title", () => {
      assert.ok(logged.some((line) => line.includes("sync: run finished")), "the log is read");
      for (const title of ["Dentist appointment", "Piano lesson", "Bank holiday"]) {
        assert.ok(!logged.some((line) => line.includes(title)), `${title} was logged`);
      }
    });

    await t.step("another user gets no such run", async () => {
      const bob = h.client("192.0.2.9");
      await bob.signIn(BOB);
      const res = await bob.request(`/api/history/${run.id}`);
      assert.equal(res.status, 404);
      await res.body?.cancel();
    });
  } finally {
    await h.close();
  }
});
