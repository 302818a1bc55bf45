import assert from "node:assert/strict";
import {
  HAS_CHROMIUM,
  launchBrowser,
  screenshotPath,
  signInAndConnect,
} from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

/** The demo's Workspace account (hd work.example.com): the owner here. */
const OWNER = "alex@work.example.com";
const SAM = "sam@gmail.com";

Deno.test({
  name: "owner's page: the owner opens /admin, pauses and resumes a user's syncs and deletes " +
    "the user, in Chromium; another user gets the not-found page",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer({ EMULATOR_ADMIN: "1", BUSYSYNC_ADMIN_EMAILS: OWNER });
  const seeded = await fetch(`${server.config.google.apiUrl}/__emulator/seed`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      users: [{
        email: SAM,
        name: "Sam Gmail",
        calendars: [{ id: SAM, summary: "Sam", timeZone: "UTC", primary: true }],
      }],
    }),
  });
  await seeded.body?.cancel();
  assert.equal(seeded.status, 200);
  const browser = await launchBrowser();
  try {
    const sam = await browser.newPage();
    await sam.goto(`${server.url}/signin`);
    await signInAndConnect(sam, server.url, [SAM]);
    const refused = await sam.goto(`${server.url}/admin`);
    assert.equal(refused?.status(), 404);
    assert.match(await sam.content(), /No such page/);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, [OWNER]);
    await page.goto(`${server.url}/admin`);
    await page.getByRole("heading", { name: "Owner's page" }).waitFor();
    const row = page.locator("tr[data-user]", { hasText: SAM });
    assert.match(await row.textContent() ?? "", /Running/);

    await row.getByRole("button", { name: "Pause syncs" }).click();
    await row.getByRole("button", { name: "Resume syncs" }).waitFor();
    assert.match(await row.textContent() ?? "", /Paused/);
    await page.screenshot({ path: await screenshotPath("admin-paused"), fullPage: true });

    await row.getByRole("button", { name: "Resume syncs" }).click();
    await row.getByRole("button", { name: "Pause syncs" }).waitFor();
    assert.match(await row.textContent() ?? "", /Running/);

    await row.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: `Delete ${SAM}?` });
    assert.match(await dialog.textContent() ?? "", /removed from their calendars first, or left/);
    await dialog.getByRole("button", { name: "Delete, leave their busy blocks" }).click();
    await page.locator("tr[data-user]", { hasText: OWNER }).waitFor();
    await page.waitForFunction(
      (email) =>
        ![...document.querySelectorAll("tr[data-user]")].some((r) =>
          r.textContent?.includes(email)
        ),
      SAM,
    );
    // Sam's session ended with the account.
    const after = await sam.goto(`${server.url}/admin`);
    assert.equal(after?.status(), 404);
    await sam.goto(`${server.url}/connections`);
    assert.match(sam.url(), /\/signin/);
  } finally {
    await browser.close();
    await server.stop();
  }
});
