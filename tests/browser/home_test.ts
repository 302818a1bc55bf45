import assert from "node:assert/strict";
import { HAS_CHROMIUM, launchBrowser, screenshotPath } from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

Deno.test({
  name: "demo start: the home page is served and its island hydrates in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(server.url);
    await page.waitForSelector('[data-island="LiveStatus"][data-hydrated="true"]');
    // The island re-checks /readyz in the browser: proof that its code runs, not only its HTML.
    await page.waitForSelector('[data-testid="checked-at"]');
    assert.equal(await page.textContent("[role=status]").then((t) => t?.includes("ready")), true);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: await screenshotPath("home-desktop"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: await screenshotPath("home-phone"), fullPage: true });
  } finally {
    await browser.close();
    await server.stop();
  }
});
