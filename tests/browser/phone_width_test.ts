/**
 * On a phone's width the pages never scroll sideways (tests/browser/accessibility_test.ts
 * checks every page); the two drawings wider than a phone, the rule graph and the editor's
 * week, scroll inside their own box instead, and say so: a line below and a fade at the edge
 * that clears once the box is scrolled to its end. On a desktop neither cue shows.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  assertNoSideScroll,
  HAS_CHROMIUM,
  hydrated,
  launchBrowser,
  PHONE,
  setUpDemoRuleAndGroup,
  signInAndConnect,
} from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

/** The scroll box of one drawing, how wide it is against its content, and its cues. */
async function scrollBox(page: Page, kind: "week" | "graph") {
  const root = page.locator(`.side-scroll-${kind}`);
  await root.waitFor();
  return {
    hint: root.getByTestId("scroll-hint"),
    overflow: () =>
      root.locator(".side-scroll-box").evaluate((box) => box.scrollWidth - box.clientWidth),
    scrollToEnd: () =>
      root.locator(".side-scroll-box").evaluate((box) => {
        box.scrollLeft = box.scrollWidth;
      }),
    fade: () =>
      root.locator(".side-scroll-frame").evaluate((frame) => {
        const after = getComputedStyle(frame, "::after");
        return after.display === "none" ? 0 : Number(after.opacity);
      }),
  };
}

Deno.test({
  name: "phone width: the graph and the week scroll in their own box with a visible cue, " +
    "the page never sideways, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async (t) => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, [
      "alex.personal@example.com",
      "alex@work.example.com",
    ]);
    const { ruleId } = await setUpDemoRuleAndGroup(page, server.url);

    for (
      const [path, kind] of [
        ["/rules", "graph"],
        ["/rules/new", "week"],
        [`/rules/${ruleId}`, "week"],
      ] as const
    ) {
      await t.step(`${path}: the ${kind} on a phone and on a desktop`, async () => {
        await page.setViewportSize(PHONE);
        await page.goto(`${server.url}${path}`);
        await hydrated(page);
        const box = await scrollBox(page, kind);
        await assertNoSideScroll(page, path);
        assert.ok((await box.overflow()) > 0, "the drawing is wider than its box");
        assert.equal(await box.hint.isVisible(), true, "the line below says to scroll");
        assert.equal(await box.fade(), 1, "the right edge fades out");
        await box.scrollToEnd();
        await page.waitForFunction(
          (k) =>
            getComputedStyle(
              document.querySelector(`.side-scroll-${k} .side-scroll-frame`)!,
              "::after",
            ).opacity === "0",
          kind,
        );

        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(`${server.url}${path}`);
        await hydrated(page);
        const wide = await scrollBox(page, kind);
        assert.equal(await wide.overflow(), 0, "on a desktop the drawing fits");
        assert.equal(await wide.hint.isVisible(), false);
        assert.equal(await wide.fade(), 0);
      });
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});
