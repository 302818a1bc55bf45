/**
 * A new person's first minute, in Chromium against the demo server (the emulator for Google):
 * the address the server prints works and other addresses move to it, the first sign-in is one
 * trip to Google that also connects the account, the dashboard says what to do next, calendars
 * read as the person knows them (name, account, colour), the first save says "Created — syncing"
 * and then what it did, and a Google account connected under someone else opens no new account.
 * One test counts the clicks from the home page to the first busy block.
 */
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { HAS_CHROMIUM, launchBrowser, screenshotPath } from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";
import { until } from "../support/poll.ts";

const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";

/** Serious or critical WCAG 2.1 AA findings of axe on the page as it is. */
async function seriousFindings(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  const found: { id: string; impact: string | null }[] = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations;
  });
  return found.filter((f) => f.impact === "serious" || f.impact === "critical").map((f) => f.id);
}

Deno.test({
  name: "first minute: from the home page to the first busy block in 6 clicks and 2 consents, " +
    "with next steps, calendars by name, account and colour, and 'Created — syncing', in Chromium",
  ignore: !HAS_CHROMIUM,
}, async (t) => {
  const server = await startDemoServer({ EMULATOR_ADMIN: "1" });
  const emulator = server.config.google.apiUrl;
  const browser = await launchBrowser();
  try {
    // axe is injected as an inline script, which the pages' CSP rightly refuses.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    let clicks = 0;
    const click = async (selector: string) => {
      clicks++;
      await page.click(selector);
    };
    let consents = 0;
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame() && frame.url().startsWith(`${emulator}/o/oauth2/v2/auth`)) {
        consents++;
      }
    });

    await t.step(
      "the home page's button goes straight to Google: no second sign-in page",
      async () => {
        await page.goto(server.url);
        await click("text=Sign in with Google");
        await page.waitForURL((u) => u.href.startsWith(emulator));
        // The first sign-in asks for the calendars as well, in the one consent.
        const scope = new URL(page.url()).searchParams.get("scope") ?? "";
        assert.match(scope, /calendar\.events/);
        assert.match(scope, /calendar\.calendarlist\.readonly/);
        await click(`text=${PERSONAL}`);
        await page.waitForURL(`${server.url}/`);
      },
    );

    await t.step(
      "signed in, the account is connected and the next step is the other account",
      async () => {
        assert.match(
          await page.textContent(".next-step h2") ?? "",
          /Next: connect your other account/,
        );
        assert.match(
          await page.textContent("[data-connection-health]") ?? "",
          new RegExp(PERSONAL),
        );
        await page.screenshot({ path: await screenshotPath("first-minute-one-account") });
        await click("text=Connect another Google account");
        await click(`text=${WORK}`);
        await page.waitForURL(`${server.url}/`);
      },
    );

    await t.step("with two accounts: 'Next: make a rule'", async () => {
      assert.equal(await page.textContent(".next-step h2"), "Next: make a rule");
      assert.equal(await page.locator("[data-connection-health]").count(), 2);
      assert.deepEqual(await seriousFindings(page), []);
      await page.screenshot({ path: await screenshotPath("first-minute-next-rule") });
      await click(".next-step a.button");
      await page.waitForURL(`${server.url}/rules/new`);
    });

    await t.step("the editor names calendars as the person knows them, with colours", async () => {
      await page.waitForSelector('[data-island="RuleEditor"][data-hydrated="true"]');
      const closed = async (id: string) =>
        await page.locator(`${id} option:checked`).textContent() ?? "";
      assert.equal(await closed("#rule-source"), `Main calendar · ${PERSONAL}`);
      assert.equal(await closed("#rule-target"), `Main calendar · ${WORK}`);
      assert.equal(await page.inputValue("#rule-name"), "Personal → Work");
      await page.check('input[name="direction"] >> nth=1');
      assert.equal(await page.inputValue("#rule-name"), "Personal ↔ Work");
      await page.check('input[name="direction"] >> nth=0');
      assert.equal(await page.inputValue("#rule-name"), "Personal → Work");
      // Google's colours of the two calendars (the demo seed's colorIds 9 and 16), beside them.
      const swatch = (id: string) =>
        page.locator(`.calendar-select:has(${id}) .calendar-swatch circle`).getAttribute("fill");
      assert.equal(await swatch("#rule-source"), "#7bd148");
      assert.equal(await swatch("#rule-target"), "#4986e7");
      await page.screenshot({ path: await screenshotPath("first-minute-editor") });
    });

    await t.step("creating says 'Created — syncing', then what the sync did", async () => {
      await page.waitForSelector("text=✓ Ready to save");
      await click("text=Create rule");
      await page.waitForURL((u) => u.href.startsWith(`${server.url}/rules?saved=`));
      const status = page.locator(".saved-sync");
      assert.match(await status.textContent() ?? "", /^Created/);
      await page.locator('.saved-sync[data-phase="done"]').waitFor({ timeout: 20_000 });
      assert.match(
        await status.textContent() ?? "",
        /Synced: \d+ busy blocks? added in “Main calendar” \(alex@work\.example\.com\)/,
      );
      assert.deepEqual(await seriousFindings(page), []);
      await page.screenshot({ path: await screenshotPath("first-minute-saved") });
    });

    await t.step("the first busy block is in the work calendar: 6 clicks, 2 consents", async () => {
      const mirrors = await until("a busy block in the work calendar", async () => {
        const res = await fetch(
          `${emulator}/__emulator/calendars/${encodeURIComponent(WORK)}/events`,
        );
        const { items } = await res.json() as {
          items: { status?: string; extendedProperties?: { private?: Record<string, string> } }[];
        };
        const found = items.filter((e) =>
          e.status !== "cancelled" && e.extendedProperties?.private?.busysync
        );
        return found.length > 0 && found;
      }, 20_000);
      assert.ok(mirrors.length >= 1);
      console.log(
        `first minute: ${clicks} clicks and ${consents} consents to the first busy block`,
      );
      assert.equal(consents, 2, "one consent per Google account");
      assert.ok(clicks <= 8, `the goal is at most 8 clicks; took ${clicks}`);
      assert.equal(clicks, 6);
    });

    await t.step("calendars show their colour on the rules and connections pages", async () => {
      assert.equal(await page.locator(".rule-path .calendar-swatch").count(), 2);
      await page.goto(`${server.url}/connections`);
      const family = page.locator('.calendar-list li:has-text("Family") .calendar-swatch circle');
      assert.equal(await family.getAttribute("fill"), "#ffad46");
    });
  } finally {
    await browser.close();
    await server.stop();
  }
});

Deno.test({
  name: "first minute: a page opened at another address of the server moves to PUBLIC_URL, " +
    "and sign-in works from there, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    // PORT=0: PUBLIC_URL is the listening address, http://127.0.0.1:<port>; localhost is the
    // same server under another host, where sign-in cookies would not come back.
    const other = server.config.publicUrl.replace("127.0.0.1", "localhost");
    assert.notEqual(other, server.config.publicUrl);
    await page.goto(`${other}/`);
    assert.equal(page.url(), `${server.config.publicUrl}/`);
    await page.click("text=Sign in with Google");
    await page.click(`text=${PERSONAL}`);
    await page.waitForURL(`${server.config.publicUrl}/`);
    assert.match(await page.textContent("h1") ?? "", /Hello, Alex/);
    // Machines are not redirected: the health check calls whichever address it knows.
    const health = await fetch(`${other}/healthz`, { headers: { accept: "text/html" } });
    await health.body?.cancel();
    assert.equal(health.status, 200);
    // An expired or foreign sign-in link names the address that works.
    await page.goto(`${server.config.publicUrl}/api/auth/callback?state=stale&code=x`);
    assert.match(
      await page.textContent(".notice-body") ?? "",
      new RegExp(`Open ${server.config.publicUrl.replaceAll(".", "\\.")} in this browser`),
    );
    await page.screenshot({ path: await screenshotPath("first-minute-expired-link") });
  } finally {
    await browser.close();
    await server.stop();
  }
});

Deno.test({
  name: "first minute: signing in with a Google account connected to another busysync account " +
    "is refused with that account named, masked, and opens no new account, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const alex = await browser.newPage();
    await alex.goto(server.url);
    await alex.click("text=Sign in with Google");
    await alex.click(`text=${PERSONAL}`);
    await alex.waitForURL(`${server.url}/`);
    await alex.click("text=Connect another Google account");
    await alex.click(`text=${WORK}`);
    await alex.waitForURL(`${server.url}/`);

    // Someone else (another browser) who knows the work account's password.
    const other = await (await browser.newContext({ bypassCSP: true })).newPage();
    await other.goto(server.url);
    await other.click("text=Sign in with Google");
    await other.click(`text=${WORK}`);
    await other.waitForSelector("h1");
    assert.equal(
      await other.textContent("h1"),
      "This Google account is connected to another busysync account",
    );
    assert.equal(await other.textContent('[data-testid="holder"]'), "a•••@example.com");
    assert.doesNotMatch(await other.content(), /alex\.personal@example\.com/);
    assert.deepEqual(await seriousFindings(other), []);
    await other.screenshot({ path: await screenshotPath("first-minute-held-account") });
    const me = await other.request.get(`${server.url}/api/me`);
    assert.equal(me.status(), 401, "not signed in to anything");
  } finally {
    await browser.close();
    await server.stop();
  }
});
