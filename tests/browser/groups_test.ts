/**
 * Sync groups in the web app, in Chromium against the demo server (the emulator for Google):
 * a person makes a group of their three calendars and each gets the other two's busy blocks,
 * turns it off (the blocks go) and deletes it; and a rule that would close a cycle offers to
 * make its calendars a group, which takes over the rules' busy blocks under their ids.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  HAS_CHROMIUM,
  hydrated,
  launchBrowser,
  shoot,
  signInAndConnect,
} from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";
import { until } from "../support/poll.ts";

const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";
const FAMILY = "family0demo0calendar@group.calendar.google.com";
const MEMBERS = [PERSONAL, WORK, FAMILY];

interface EmulatorEvent {
  id: string;
  status?: string;
  recurringEventId?: string;
  extendedProperties?: { private?: Record<string, string> };
}

Deno.test({
  name: "groups: a three-calendar group made in the web app fills each calendar with the " +
    "other two's busy blocks, turns off and is deleted; a rule closing a cycle becomes a group " +
    "that keeps the rules' busy blocks, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async (t) => {
  const server = await startDemoServer({ EMULATOR_ADMIN: "1" });
  const emulator = server.config.google.apiUrl;
  const eventsIn = async (calendarId: string): Promise<EmulatorEvent[]> => {
    const res = await fetch(
      `${emulator}/__emulator/calendars/${encodeURIComponent(calendarId)}/events`,
    );
    const { items } = await res.json() as { items: EmulatorEvent[] };
    return items.filter((e) => e.status !== "cancelled");
  };
  const isMirror = (e: EmulatorEvent) => e.extendedProperties?.private?.busysync !== undefined;
  const mirrorsIn = async (calendarId: string) => (await eventsIn(calendarId)).filter(isMirror);
  /** Whether `target` holds a busy block made from a real event of `source`. */
  const blocksFrom = async (source: string, target: string) => {
    const real = new Set((await eventsIn(source)).filter((e) => !isMirror(e)).map((e) => e.id));
    return (await mirrorsIn(target)).some((m) => {
      const from = m.extendedProperties?.private?.busysyncEvent ?? "";
      // An occurrence of a recurring event is named after its series: `<series id>_<start>`.
      return real.has(from) || real.has(from.replace(/_[^_]+$/, ""));
    });
  };
  /** Every member holds blocks of each other member's events. */
  const everyPairFilled = async () => {
    for (const source of MEMBERS) {
      for (const target of MEMBERS) {
        if (source !== target && !await blocksFrom(source, target)) return false;
      }
    }
    return true;
  };
  const noMirrors = async () => {
    for (const calendarId of MEMBERS) if ((await mirrorsIn(calendarId)).length) return false;
    return true;
  };
  const browser = await launchBrowser();
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
    const api = apiOf(page, server.url);
    let groupId = "";

    await t.step("sign in and connect both accounts", async () => {
      await page.goto(`${server.url}/signin`);
      await signInAndConnect(page, server.url, [PERSONAL, WORK]);
    });

    await t.step(
      "a group of Personal, Work and Family, made from /rules, fills all three",
      async () => {
        const started = performance.now();
        await page.goto(`${server.url}/rules`);
        await page.click("text=New group");
        await page.waitForURL(`${server.url}/groups/new`);
        await hydrated(page);
        // Each account's main calendar to start with; Family is the one to add.
        assert.equal(await page.locator("[data-member]").count(), 2);
        await page.click("text=Add a calendar");
        assert.equal(await page.locator("[data-member]").count(), 3);
        assert.match(
          await page.locator("#group-member-2 option:checked").textContent() ?? "",
          /Family/,
        );
        assert.equal(await page.inputValue("#group-name"), "Personal, Work and Family");
        await page.waitForSelector("text=✓ Ready to save");
        await page.waitForSelector('[data-preview-state="ready"]');
        assert.equal(await page.locator(".preview .tab").count(), 3, "a tab per member");
        await shoot(page, "group-new");
        await page.click("text=Create group");
        await page.waitForURL((u) => u.href.startsWith(`${server.url}/rules?saved=`));
        groupId = new URL(page.url()).searchParams.get("saved") ?? "";
        assert.ok(await page.locator(`[data-group="${groupId}"]`).isVisible());
        await until("busy blocks of each member in every other", everyPairFilled, 30_000, 200);
        const seconds = (performance.now() - started) / 1000;
        console.log(
          `groups: from opening /rules to a three-calendar group's busy blocks in all three ` +
            `calendars: ${seconds.toFixed(1)} s`,
        );
        await page.locator('.saved-sync[data-phase="done"]').waitFor({ timeout: 20_000 });
        // The graph draws the group as one box with a line to each member, not six arrows.
        assert.equal(await page.locator(".gr-hub").count(), 1);
        assert.equal(await page.locator(".gr-tie").count(), 3);
        assert.equal(await page.locator(".gr-edge:not(.gr-tie)").count(), 0);
        await shoot(page, "rules-with-group");
      },
    );

    await t.step(
      "the group's page edits it (Save stays off while a field is wrong) and checks and repairs it",
      async () => {
        await page.goto(`${server.url}/groups/${groupId}`);
        await hydrated(page);
        await page.waitForSelector('[data-preview-state="ready"]');
        // The same calendar twice: the API marks the second, and Save says why it is off.
        const first = await page.inputValue("#group-member-0");
        await page.selectOption("#group-member-2", first);
        await page.locator('[data-error-for="group-member-2"]').filter({ hasText: /already/ })
          .waitFor();
        assert.equal(await page.getAttribute("#group-member-2", "aria-invalid"), "true");
        assert.equal(await page.getByRole("button", { name: "Save changes" }).isDisabled(), true);
        assert.match(await page.textContent("#editor-status") ?? "", /Save is off/);
        await shoot(page, "group-edit-error");
        await page.goto(`${server.url}/groups/${groupId}`);
        await hydrated(page);
        await page.waitForSelector('[data-preview-state="ready"]');
        await shoot(page, "group-edit");
        // Check and repair: a full reconcile of this group alone, which finds everything right.
        const posted = page.waitForRequest((r) =>
          r.url().endsWith("/api/sync") && r.method() === "POST"
        );
        // The status as it was before the check, marked: once the check is done the page
        // shows the server's status again without a reload, so the mark is gone.
        const status = page.locator('[data-live="owner-status"]');
        const before = await status.innerHTML();
        await status.evaluate((el) => el.textContent = "stale");
        const navigations: string[] = [];
        page.on("framenavigated", (f) => navigations.push(f.url()));
        await page.getByRole("button", { name: "Check and repair" }).click();
        assert.deepEqual((await posted).postDataJSON(), { groupId, full: true });
        const result = page.locator('[data-testid="sync-result"]');
        await result.waitFor({ timeout: 20_000 });
        assert.match(await result.textContent() ?? "", /Done in/);
        await page.waitForFunction(
          () => document.querySelector('[data-live="owner-status"]')?.textContent !== "stale",
        );
        assert.equal(await status.innerHTML(), before);
        assert.deepEqual(navigations, [], "no reload");
      },
    );

    await t.step("turned off in the list, its busy blocks go; then it is deleted", async () => {
      await page.goto(`${server.url}/rules`);
      await hydrated(page);
      const toggle = page.locator(`[data-group-toggle="${groupId}"]`);
      const patched = page.waitForResponse((r) =>
        r.url().includes(`/api/groups/${groupId}`) && r.request().method() === "PATCH"
      );
      await toggle.click();
      assert.equal((await patched).status(), 200);
      await page.reload();
      assert.equal(await toggle.getAttribute("aria-checked"), "false", "the change was stored");
      await until("no busy block left in any member", noMirrors, 30_000, 200);

      await page.locator(`[data-group="${groupId}"]`).getByRole("button", {
        name: "Delete group",
      }).click();
      await page.click("text=Delete and remove its busy blocks");
      // Its blocks went when it was turned off: nothing left to remove, so no clause for it.
      const said = page.locator("[data-undo-delete]");
      await said.locator("[data-undo]").waitFor();
      assert.match(
        (await said.innerText()).replace(/\s+/g, " ").trim(),
        /^Group “[^”]+” deleted · Undo$/,
      );
      await page.waitForSelector("text=No rules yet");
      assert.deepEqual((await (await api("GET", "/api/groups")).json()).items, []);
    });

    await t.step(
      "Family → Personal beside Personal → Work and Work → Family: the editor says so and " +
        "makes the three a group that keeps the rules' busy blocks",
      async () => {
        const ref = await calendarRefs(page, server.url);
        for (const [source, target] of [[PERSONAL, WORK], [WORK, FAMILY]]) {
          const res = await api("POST", "/api/rules", {
            name: `${source} → ${target}`,
            source: ref(source),
            target: ref(target),
          });
          assert.equal(res.status(), 201);
        }
        await (await api("POST", "/api/sync?wait=true", {})).dispose();
        const before = new Map<string, string[]>();
        for (const calendarId of [WORK, FAMILY]) {
          const ids = (await mirrorsIn(calendarId)).map((m) => m.id);
          assert.ok(ids.length > 0, `the rules made busy blocks in ${calendarId}`);
          before.set(calendarId, ids);
        }

        await page.goto(`${server.url}/rules/new`);
        await hydrated(page);
        const key = (calendarId: string) => `${ref(calendarId).connectionId}:${calendarId}`;
        await page.selectOption("#rule-source", key(FAMILY));
        await page.selectOption("#rule-target", key(PERSONAL));
        await page.locator('[data-error-for="rule-target"]')
          .filter({ hasText: /make them a group/ }).waitFor();
        assert.equal(await page.getByRole("button", { name: "Create rule" }).isDisabled(), true);
        await page.getByRole("button", { name: "Make them a group", exact: true }).click();
        await page.waitForSelector("[data-proposal-members] li");
        assert.equal(await page.locator("[data-proposal-members] li").count(), 3);
        assert.match(await page.textContent("[data-proposal]") ?? "", /takes its settings from/);
        await shoot(page, "rule-cycle-proposal");
        await page.getByRole("button", { name: "Make the group", exact: true }).click();
        await page.waitForURL((u) => u.href.startsWith(`${server.url}/rules?saved=`));
        assert.match(await page.textContent("[data-adopted]") ?? "", /took over the busy blocks/);

        const groups = (await (await api("GET", "/api/groups")).json()).items;
        assert.equal(groups.length, 1);
        assert.equal(groups[0].members.length, 3);
        assert.deepEqual((await (await api("GET", "/api/rules")).json()).items, [], "rules gone");
        await until("the group's busy blocks in every member", everyPairFilled, 30_000, 200);
        for (const [calendarId, ids] of before) {
          const now = new Set((await mirrorsIn(calendarId)).map((m) => m.id));
          assert.deepEqual(ids.filter((id) => !now.has(id)), [], `kept in ${calendarId}`);
        }
      },
    );

    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

/** Same-origin API calls from the signed-in page (the CSRF guard wants the Origin). */
function apiOf(page: Page, url: string) {
  return (method: "GET" | "POST", path: string, body?: unknown) =>
    page.request.fetch(`${url}${path}`, {
      method,
      headers: { origin: url, "content-type": "application/json" },
      ...(body === undefined ? {} : { data: JSON.stringify(body) }),
    });
}

/** The `{ connectionId, calendarId }` of each of the user's calendars, by calendar id. */
async function calendarRefs(page: Page, url: string) {
  const { items } = await (await page.request.get(`${url}/api/user/calendars`)).json() as {
    items: { connectionId: string; calendarId: string }[];
  };
  return (calendarId: string) => {
    const found = items.find((c) => c.calendarId === calendarId);
    assert.ok(found, `calendar ${calendarId}`);
    return { connectionId: found.connectionId, calendarId };
  };
}
