/**
 * The small things a person reads and clicks: a run's page in sentences ("2 calls", "because
 * the event is new"), no "Reconnect" on a healthy account, "Refresh calendar lists" saying
 * what it does and what it did, a rate-limited "Sync now" that counts down instead of failing
 * again, and a way to the API reference from every page.
 */
import assert from "node:assert/strict";
import {
  HAS_CHROMIUM,
  hydrated,
  launchBrowser,
  setUpDemoRuleAndGroup,
  signInAndConnect,
} from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";
import { RATE_LIMITS } from "../../lib/http/rate_limit.ts";

Deno.test({
  name: "feedback: run words, reconnect only when needed, refresh and rate-limit feedback, " +
    "the API reference linked, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async (t) => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, [
      "alex.personal@example.com",
      "alex@work.example.com",
    ]);
    await setUpDemoRuleAndGroup(page, server.url);
    // Saving the rule started a sync of its own: the run that added the busy blocks.
    const { items: runs } = await (await page.request.get(`${server.url}/api/history`)).json();
    const adding = (runs as { id: string; rules: { created: number }[] }[])
      .find((r) => r.rules.some((x) => x.created > 0));
    assert.ok(adding, "a run that added busy blocks");

    await t.step("a run's page counts calls and gives reasons in sentences", async () => {
      await page.goto(`${server.url}/history/${adding.id}`);
      const lead = (await page.locator(".page-head .lead").textContent()) ?? "";
      assert.match(lead, /(\b1 call|\b\d+ calls) to Google/);
      assert.doesNotMatch(lead, /\b1 calls\b/);
      const reasons = await page.locator(".action-why").allTextContents();
      assert.ok(reasons.includes("because the event is new"), reasons.join(" | "));
      // Chromium here counts hours as en-US does: events read on its 12-hour clock too.
      const when = (await page.locator(".action-event time").first().textContent()) ?? "";
      assert.match(when, /\d{1,2}:\d{2} [AP]M|all day/);
    });

    await t.step("healthy accounts offer no Reconnect", async () => {
      await page.goto(`${server.url}/connections`);
      assert.equal(await page.locator("[data-connection]").count(), 2);
      assert.equal(await page.getByRole("button", { name: "Reconnect" }).count(), 0);
    });

    await t.step("Refresh calendar lists says it is working, then what it did", async () => {
      await page.goto(`${server.url}/connections`);
      await hydrated(page);
      // The refresh is held until the button has been looked at: Google can take seconds.
      let release = () => {};
      const held = new Promise<void>((resolve) => release = resolve);
      await page.route("**/api/user/calendars?refresh=true", async (route) => {
        await held;
        await route.continue();
      });
      await page.getByRole("button", { name: "Refresh calendar lists" }).click();
      const working = page.getByRole("button", { name: "Refreshing calendar lists…" });
      await working.waitFor();
      assert.equal(await working.isDisabled(), true);
      release();
      const said = page.getByTestId("refreshed");
      await said.waitFor();
      assert.match(
        (await said.textContent()) ?? "",
        /^Calendar lists refreshed: \d+ calendars in 2 accounts\.$/,
      );
      await page.unroute("**/api/user/calendars?refresh=true");
    });

    await t.step("Sync now, asked too often, is off and counts down the wait", async () => {
      // The rest of the minute's syncs, asked for through the API.
      for (let i = 0; i < RATE_LIMITS.syncTrigger.limit; i++) {
        const res = await page.request.post(`${server.url}/api/sync`, {
          headers: { origin: server.url, "content-type": "application/json" },
          data: "{}",
        });
        await res.body();
      }
      await page.goto(`${server.url}/`);
      await hydrated(page);
      const button = page.getByTestId("sync-now");
      await button.waitFor();
      await page.waitForFunction(() =>
        !document.querySelector<HTMLButtonElement>('[data-testid="sync-now"]')?.disabled
      );
      await button.click();
      await page.getByTestId("rate-limited").waitFor();
      assert.equal(await button.isDisabled(), true);
      const first = (await button.textContent()) ?? "";
      const seconds = Number(/^Try again in (\d+) s$/.exec(first.trim())?.[1]);
      assert.ok(seconds >= 1 && seconds <= 60, first);
      // It counts down (a second later it says less), rather than standing still.
      await page.waitForFunction(
        (n) => {
          const text = document.querySelector('[data-testid="sync-now"]')?.textContent ?? "";
          const left = Number(/Try again in (\d+) s/.exec(text)?.[1] ?? "0");
          return left < n;
        },
        seconds,
        { timeout: 5_000 },
      );
    });

    await t.step("every page links to the API reference", async () => {
      for (const path of ["/", "/rules", "/history", "/connections", "/signin"]) {
        await page.goto(`${server.url}${path}`);
        const link = page.locator("footer").getByRole("link", { name: "API reference" });
        assert.equal(await link.getAttribute("href"), "/api/docs", path);
      }
      await page.locator("footer").getByRole("link", { name: "API reference" }).click();
      await page.waitForURL(`${server.url}/api/docs`);
      await page.locator("#reference").waitFor();
    });
  } finally {
    await browser.close();
    await server.stop();
  }
});
