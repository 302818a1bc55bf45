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
    // A mistyped address is a page in the layout with a way back, not a JSON body.
    const missing = await page.goto(`${server.url}/rulez`);
    assert.equal(missing?.status(), 404);
    assert.equal(await page.textContent("h1"), "No such page");
    await page.screenshot({ path: await screenshotPath("not-found-phone"), fullPage: true });
    await page.click("text=Back to the start page");
    await page.waitForURL(`${server.url}/`);
    // Chromium logs the page's own 404; a missing stylesheet or script would add a second line.
    assert.deepEqual(errors, [
      "Failed to load resource: the server responded with a status of 404 (Not Found)",
    ]);
  } finally {
    await browser.close();
    await server.stop();
  }
});
