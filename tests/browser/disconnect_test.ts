import assert from "node:assert/strict";
import { HAS_CHROMIUM, launchBrowser, signInAndConnect } from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";

Deno.test({
  name: "disconnect: when the sign-in service offers no revocation, the person is told so " +
    "before the page moves on, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer({ EMULATOR_ADMIN: "1" });
  const emulator = server.config.google.apiUrl;
  // Before busysync first reads the discovery document (it keeps it in memory).
  const omitted = await fetch(`${emulator}/__emulator/oauth/discovery`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ omit: ["revocation_endpoint"] }),
  });
  await omitted.body?.cancel();
  assert.equal(omitted.status, 200);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, [PERSONAL, WORK]);
    assert.equal(await page.locator("[data-connection]").count(), 2);

    const work = page.locator("[data-connection]", { hasText: WORK });
    await work.getByRole("button", { name: "Disconnect" }).click();
    await page.getByRole("button", { name: "Disconnect, keep them" }).click();
    const notice = page.getByRole("status").filter({ hasText: "cannot revoke" });
    await notice.waitFor({ timeout: 10_000 });
    assert.match(await notice.textContent() ?? "", /myaccount\.google\.com\/permissions/);
    await notice.getByRole("button", { name: "OK" }).click();
    await page.waitForLoadState("load");
    await page.locator("[data-connection]").first().waitFor();
    assert.equal(await page.locator("[data-connection]").count(), 1);
  } finally {
    await browser.close();
    await server.stop();
  }
});
