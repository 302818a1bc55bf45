/**
 * Accessibility: every page, signed out and signed in, light and dark, checked in Chromium by
 * axe-core (the engine behind Lighthouse's and the browsers' accessibility audits) against
 * WCAG 2.1 A and AA. Serious and critical findings fail; the rest are reported.
 */
import assert from "node:assert/strict";
import axe from "axe-core";
import type { BrowserContext, Page } from "playwright-core";
import {
  assertNoSideScroll,
  HAS_CHROMIUM,
  launchBrowser,
  PHONE,
  screenshotPath,
} from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";
const FAMILY = "family0demo0calendar@group.calendar.google.com";

interface Finding {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string; html: string }[];
}

/** axe's findings for the page as it is now (islands hydrated). */
async function audit(page: Page): Promise<Finding[]> {
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>("[data-island]")].every((el) =>
      el.dataset.hydrated === "true"
    )
  );
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations;
  });
}

/** Signs in and connects both demo accounts through the consent page, as a person would. */
async function setUp(context: BrowserContext, url: string): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${url}/signin`);
  await page.click("text=Sign in with Google");
  await page.click(`text=${PERSONAL}`);
  await page.waitForURL(`${url}/connections`);
  // A first sign-in connected PERSONAL already; the work account is one more trip.
  for (const email of [WORK]) {
    await page.click("text=Connect a Google account");
    await page.click(`text=${email}`);
    await page.waitForURL(`${url}/connections`);
  }
  await page.close();
}

Deno.test({
  name: "accessibility: no serious or critical WCAG 2.1 AA finding on any page, light or dark",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    // axe is injected as an inline script, which the pages' CSP rightly refuses.
    const context = await browser.newContext({ bypassCSP: true });
    // "/rulez": a mistyped address, answered by the error page.
    const pages: string[] = ["/", "/signin", "/rulez"];
    const signedOut = await context.newPage();
    const findings: string[] = [];
    /** Pages that scroll sideways on a phone: collected so one run names them all. */
    const tooWide: string[] = [];
    /**
     * Audits `path` at a desktop's and a phone's width (the layout changes there), light and
     * dark, and keeps a screenshot of each for a person to look at. `prepare` brings the page
     * into the state to audit after it loads (a dialog open, say); `name` names that state.
     */
    const check = async (
      page: Page,
      path: string,
      { prepare, name }: { prepare?: (page: Page) => Promise<void>; name?: string } = {},
    ) => {
      // Ids left out, so a screenshot keeps its name from run to run.
      const slug = name ??
        (path.replace(/[0-9A-Z]{26}/g, "id").replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "") ||
          "home");
      for (
        const [width, height, device] of [
          [1280, 720, "desktop"],
          [PHONE.width, PHONE.height, "phone"],
        ] as const
      ) {
        await page.setViewportSize({ width, height });
        for (const scheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          await page.goto(`${server.url}${path}`);
          await prepare?.(page);
          const where = `${name ?? path} (${scheme}, ${device})`;
          for (const f of await audit(page)) {
            const nodes = f.nodes.slice(0, 3).map((n) =>
              `${n.target.join(" ")} [${n.html.slice(0, 120)}] ${n.failureSummary ?? ""}`
            ).join(", ");
            const line = `${where} ${f.impact} ${f.id}: ${f.help} at ${nodes}`;
            if (f.impact === "serious" || f.impact === "critical") findings.push(line);
            else console.log(`accessibility (minor): ${line}`);
          }
          // After the audit, which waited for the islands: hydrated, as a person sees it.
          if (device === "phone") {
            await assertNoSideScroll(page, where).catch((e: Error) => tooWide.push(e.message));
          }
          await page.screenshot({
            path: await screenshotPath(`a11y-${slug}-${device}-${scheme}`),
            fullPage: true,
            animations: "disabled",
          });
        }
      }
      await page.setViewportSize({ width: 1280, height: 720 });
    };
    for (const path of pages) {
      await check(signedOut, path, { name: `signed-out-${path.slice(1) || "home"}` });
    }
    await signedOut.close();

    await setUp(context, server.url);
    const page = await context.newPage();
    // Before any rule: the dashboard and connections page say what to do next.
    for (const path of ["/", "/connections"]) await check(page, path);
    const api = (path: string, body: unknown) =>
      page.request.post(`${server.url}${path}`, {
        headers: { origin: server.url, "content-type": "application/json" },
        data: JSON.stringify(body),
      });
    const { items } = await (await page.request.get(`${server.url}/api/user/calendars`)).json();
    const ref = (calendarId: string) => ({
      connectionId: items.find((c: { calendarId: string }) => c.calendarId === calendarId)
        .connectionId,
      calendarId,
    });
    const rule = await (await api("/api/rules", {
      name: "Personal into work",
      source: ref(PERSONAL),
      target: ref(WORK),
    })).json();
    // Work and Family block each other: beside the rule, it covers no pair twice.
    const group = await (await api("/api/groups", {
      name: "Work and Family",
      members: [{ calendar: ref(WORK) }, { calendar: ref(FAMILY), privacy: "title" }],
    })).json();
    const synced = await (await api("/api/sync?wait=true", {})).json();
    assert.ok(rule.id && group.id && synced.run?.id, "a rule, a group and a finished run");
    for (
      const path of [
        "/",
        "/connections",
        "/rules",
        "/rules/new",
        `/rules/${rule.id}`,
        "/history",
        `/history/${synced.run.id}`,
        // Where the editor lands after a save: "Saved — syncing", then the result.
        `/rules?saved=${rule.id}&run=${synced.run.id}`,
        "/settings",
        "/rulez",
      ]
    ) await check(page, path);
    // A token just created (shown once, with its copy button) above the list of tokens.
    await check(page, "/settings", {
      name: "settings-token-created",
      prepare: async (p) => {
        await p.waitForFunction(() =>
          [...document.querySelectorAll<HTMLElement>("[data-island]")].every((el) =>
            el.dataset.hydrated === "true"
          )
        );
        await p.getByLabel("Name").fill("accessibility");
        await p.getByRole("button", { name: "Create token" }).click();
        await p.locator("[data-new-token]").waitFor();
      },
    });
    for (const path of ["/groups/new", `/groups/${group.id}`]) await check(page, path);
    // The disconnect dialog, naming the rule and the group the work account is in.
    await check(page, "/connections", {
      name: "disconnect-dialog",
      prepare: async (p) => {
        await p.waitForFunction(() =>
          [...document.querySelectorAll<HTMLElement>("[data-island]")].every((el) =>
            el.dataset.hydrated === "true"
          )
        );
        await p.locator("[data-connection]", { hasText: WORK })
          .getByRole("button", { name: "Disconnect" }).click();
        await p.getByRole("dialog").waitFor();
      },
    });
    // A run whose lines say which blocks went, and why: the rule was turned off.
    const off = await page.request.patch(`${server.url}/api/rules/${rule.id}`, {
      headers: { origin: server.url, "content-type": "application/json" },
      data: JSON.stringify({ enabled: false }),
    });
    assert.equal(off.status(), 200, await off.text());
    await off.body();
    let removal: string | undefined;
    for (let tries = 0; !removal && tries < 100; tries++) {
      const { items } = await (await page.request.get(`${server.url}/api/history`)).json();
      removal = (items as { id: string; trigger: string; outcome?: string }[])
        .find((r) => r.trigger === "rule_turned_off" && r.outcome)?.id;
      if (!removal) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(removal, "the run that removed the turned-off rule's blocks");
    await check(page, `/history/${removal}`, { name: "history-run-removed" });
    assert.deepEqual(findings, []);
    assert.deepEqual(tooWide, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
