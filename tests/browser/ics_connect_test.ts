/**
 * Adding an ICS feed in the web app, in Chromium, from a feed publisher of the test's own: a
 * page that is no calendar shows under the address and stores nothing; the feed itself lands on
 * the connections page as a read-only source shown by its host only, and the dashboard says how
 * often feeds are fetched.
 */
import assert from "node:assert/strict";
import { HAS_CHROMIUM, launchBrowser, shoot, signInAndConnect } from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";
import { daysAhead, feed, startFeedServer, vevent } from "../ics/support.ts";

Deno.test({
  name: "ics feeds in the web app: add a feed, see it masked and read-only, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  await using publisher = await startFeedServer();
  await publisher.write(feed([vevent("maths@school", "Maths", daysAhead(1, 9))]));
  const server = await startDemoServer({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, ["alex.personal@example.com"]);
    await page.goto(`${server.url}/connections?feed`);
    const form = page.getByRole("form", { name: "Add a calendar feed" });

    publisher.mode = "html";
    await form.getByLabel("Feed address").fill(publisher.url);
    await form.getByLabel("Name (optional)").fill("School");
    await form.getByRole("button", { name: "Add feed" }).click();
    const error = page.locator("#feed-url-error");
    await error.filter({ hasText: "did not answer with a calendar" }).waitFor();
    assert.doesNotMatch(await error.textContent() ?? "", new RegExp(publisher.secret));
    assert.equal(await page.locator("[data-connection]").count(), 1, "nothing was stored");
    await shoot(page, "ics-connect-refused");

    publisher.mode = "ok";
    await form.getByRole("button", { name: "Add feed" }).click();
    await page.waitForURL(/\/connections\?connected=/);
    const card = page.locator("[data-connection]", { hasText: "School" });
    await card.waitFor();
    const text = await card.textContent() ?? "";
    assert.match(text, /read-only: source only/);
    assert.match(text, new RegExp(`Feed at http://127\\.0\\.0\\.1:\\d+/…`));
    assert.doesNotMatch(await page.content(), new RegExp(publisher.secret));
    await shoot(page, "ics-connected");

    await page.goto(server.url);
    const poll = page.getByTestId("ics-poll");
    assert.match(await poll.textContent() ?? "", /fetched every 15 minutes/);
  } finally {
    await browser.close();
    await server.stop();
  }
});
