/**
 * Connecting a CalDAV account in the web app, in Chromium, against a real Radicale: a wrong
 * password shows under the password field and stores nothing; the right one lands on the
 * connections page with the account and its calendars, and the dashboard says it is polled.
 */
import assert from "node:assert/strict";
import { HAS_CHROMIUM, launchBrowser, shoot, signInAndConnect } from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";
import { needing } from "../support/infrastructure.ts";
import {
  makeCalendar,
  RADICALE_TOOLS,
  startRadicale,
  toolsMissing,
} from "../support/caldav_servers.ts";

Deno.test({
  name: needing(
    "caldav in the web app: connect with an app password, see its calendars, in Chromium",
    RADICALE_TOOLS,
  ),
  ignore: !HAS_CHROMIUM || toolsMissing(RADICALE_TOOLS),
}, async () => {
  await using dav = await startRadicale();
  await makeCalendar(dav.aliceHome, dav.alice, "work", { displayName: "Work (CalDAV)" });
  const server = await startDemoServer({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, ["alex.personal@example.com"]);
    await page.goto(`${server.url}/connections?caldav`);
    const form = page.getByRole("form", { name: "Connect a CalDAV account" });
    await form.getByLabel("Service").selectOption("other");
    await form.getByLabel("Server address").fill(dav.baseUrl);
    await form.getByLabel("User name").fill(dav.alice.username);
    await form.getByLabel("App password").fill("wrong");
    await form.getByRole("button", { name: "Connect" }).click();
    const error = page.locator("#caldav-password-error");
    await error.filter({ hasText: "refused the user name or password" }).waitFor();
    assert.equal(await page.locator("[data-connection]").count(), 1, "nothing was stored");
    await shoot(page, "caldav-connect-refused");

    await form.getByLabel("App password").fill(dav.alice.password);
    await form.getByRole("button", { name: "Connect" }).click();
    await page.waitForURL(/\/connections\?connected=/);
    const card = page.locator("[data-connection]", { hasText: "alice @ 127.0.0.1" });
    await card.waitFor();
    assert.match(await card.textContent() ?? "", /Work \(CalDAV\)/);
    await shoot(page, "caldav-connected");

    await page.goto(server.url);
    const poll = page.getByTestId("caldav-poll");
    assert.match(await poll.textContent() ?? "", /checks them every 5 minutes/);
  } finally {
    await browser.close();
    await server.stop();
  }
});
