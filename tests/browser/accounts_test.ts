import assert from "node:assert/strict";
import { HAS_CHROMIUM, launchBrowser, screenshotPath } from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

Deno.test({
  name:
    "demo accounts: a person signs in on the consent page, connects an account by form, and signs out in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // Only our pages count: the emulator's consent page has no favicon, which is not ours to fix.
    page.on("console", (m) => {
      if (m.type() === "error" && m.location().url.startsWith(server.url)) {
        errors.push(`${m.location().url}: ${m.text()}`);
      }
    });

    await page.goto(`${server.url}/signin`);
    await page.screenshot({ path: await screenshotPath("signin-desktop") });
    await page.click("text=Sign in with Google");
    await page.click("text=alex.personal@example.com");
    await page.waitForURL(`${server.url}/connections`);

    // A form post answered with a redirect to Google: the CSP's form-action must allow it.
    await page.click("text=Connect a Google account");
    await page.click("text=alex@work.example.com");
    await page.waitForURL(`${server.url}/connections`);
    const card = page.locator('[data-connection]:has-text("alex@work.example.com")');
    assert.equal(await card.locator(".pill-ok").textContent(), "Connected");
    assert.ok((await card.textContent())?.includes("read-only: source only"));
    await page.screenshot({ path: await screenshotPath("connections-desktop"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: await screenshotPath("connections-phone"), fullPage: true });

    await page.click("text=Sign out");
    await page.waitForURL(`${server.url}/`);
    const me = await page.request.get(`${server.url}/api/me`);
    assert.equal(me.status(), 401);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
