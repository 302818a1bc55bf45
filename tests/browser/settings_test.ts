import assert from "node:assert/strict";
import {
  HAS_CHROMIUM,
  hydrated,
  launchBrowser,
  shoot,
  signInAndConnect,
} from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

const PERSONAL = "alex.personal@example.com";

Deno.test({
  name: "settings: from the header a person sets the time zone (the browser's is offered), " +
    "creates an API token shown once, sees its last use, revokes it, downloads their data and " +
    "deletes the account after typing their address, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async (t) => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      timezoneId: "America/New_York",
      permissions: ["clipboard-read", "clipboard-write"],
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, [PERSONAL]);
    const asScript = (token: string, path: string, method = "GET") =>
      fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

    await t.step("the header's Settings link opens the page", async () => {
      await page.getByRole("link", { name: "Settings" }).click();
      await page.waitForURL(`${server.url}/settings`);
      await hydrated(page);
      assert.equal(
        await page.getByRole("link", { name: "Settings" }).getAttribute("aria-current"),
        "page",
      );
      assert.equal(await page.locator("[data-signin-email]").textContent(), PERSONAL);
    });

    await t.step("a chosen time zone is saved and shown again after a reload", async () => {
      await page.getByLabel("Show times in").selectOption("Asia/Tokyo");
      await page.getByRole("button", { name: "Save time zone" }).click();
      await page.getByRole("status").filter({ hasText: "Saved: times are shown in Asia/Tokyo" })
        .waitFor();
      await page.reload();
      await hydrated(page);
      assert.equal(await page.getByLabel("Show times in").inputValue(), "Asia/Tokyo");
    });

    await t.step("the browser's own zone is offered in one click", async () => {
      await page.getByRole("button", { name: "Use this browser's zone (America/New York)" })
        .click();
      await page.getByRole("status").filter({ hasText: "America/New_York" }).waitFor();
      const me = await (await page.request.get(`${server.url}/api/me`)).json();
      assert.equal(me.settings.timeZone, "America/New_York");
      assert.equal(
        await page.getByRole("button", { name: /Use this browser's zone/ }).count(),
        0,
        "no offer once it is the setting",
      );
    });

    let token = "";
    await t.step(
      "a new token is shown once, with a copy button, and works for a script",
      async () => {
        await page.getByLabel("Name").fill("nightly backup");
        await page.getByLabel("Expires after").selectOption("365");
        await page.getByRole("button", { name: "Create token" }).click();
        const shown = page.locator("[data-new-token]");
        await shown.waitFor();
        token = await shown.inputValue();
        assert.match(token, /^bsy_[\w-]{43}$/);
        await page.getByRole("button", { name: "Copy" }).click();
        await page.getByRole("button", { name: "Copied" }).waitFor();
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
        await shoot(page, "settings-token-created");

        const res = await asScript(token, "/api/me");
        assert.equal(res.status, 200);
        assert.equal((await res.json()).email, PERSONAL);
        await page.reload();
        await hydrated(page);
        assert.equal(await page.locator("[data-new-token]").count(), 0, "never shown again");
        const row = page.locator("[data-token]", { hasText: "nightly backup" });
        assert.match(await row.textContent() ?? "", /last used/);
      },
    );

    await t.step("revoking asks first, then the token stops working at once", async () => {
      const row = page.locator("[data-token]", { hasText: "nightly backup" });
      await row.getByRole("button", { name: "Revoke “nightly backup”" }).click();
      await row.getByRole("button", { name: "Keep it" }).click();
      assert.equal((await asScript(token, "/api/me")).status, 200, "kept");
      await row.getByRole("button", { name: "Revoke “nightly backup”" }).click();
      await row.getByRole("button", { name: "Revoke now" }).click();
      await page.locator("[data-no-tokens]").waitFor();
      assert.equal((await asScript(token, "/api/me")).status, 401);
    });

    await t.step("'Download my data' downloads the export", async () => {
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.locator("[data-export]").click(),
      ]);
      assert.match(download.suggestedFilename(), /^busysync-export-\d{4}-\d{2}-\d{2}\.json$/);
      const path = await download.path();
      const doc = JSON.parse(await Deno.readTextFile(path));
      assert.equal(doc.format, "busysync-export");
      assert.equal(doc.settings.timeZone, "America/New_York");
    });

    await t.step("the account is deleted only once its address is typed", async () => {
      await shoot(page, "settings");
      const confirm = page.getByLabel(`Type ${PERSONAL} to confirm`);
      const button = page.getByRole("button", { name: "Delete my account" });
      assert.equal(await button.isDisabled(), true);
      await confirm.fill("alex@example.com");
      assert.equal(await button.isDisabled(), true, "another address does not confirm");
      await confirm.fill(PERSONAL.toUpperCase());
      await button.click();
      await page.waitForURL(`${server.url}/signin?deleted=1`);
      await page.locator("[data-account-deleted]").waitFor();
      assert.equal((await page.request.get(`${server.url}/api/me`)).status(), 401);
    });
  } finally {
    await browser.close();
    await server.stop();
  }
});
