/**
 * Times read as the person expects: in their zone (the setting, else their main calendar's),
 * never the browser's, on the 12- or 24-hour clock of the browser's locale, with the zone's
 * name where a reader elsewhere could misread it; and the working-hours fields hold a 12-hour
 * clock's "05:00 PM" whole.
 */
import assert from "node:assert/strict";
import { formatDateTime, zoneName } from "../../lib/browser/format.ts";
import {
  HAS_CHROMIUM,
  hydrated,
  launchBrowser,
  setUpDemoRuleAndGroup,
  signInAndConnect,
} from "../support/browser.ts";
import { startDemoServer } from "../support/demo_server.ts";

const PERSONAL = "alex.personal@example.com";
/** Far from the demo's zones, so a time shown in the browser's zone would stand out. */
const BROWSER_ZONE = "Pacific/Auckland";

Deno.test({
  name: "times: the person's zone on the reader's 12- or 24-hour clock, zone named, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async (t) => {
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    for (const [locale, hour12] of [["en-US", true], ["en-GB", false]] as const) {
      await t.step(`${locale}: ${hour12 ? "12" : "24"}-hour`, async () => {
        const context = await browser.newContext({ locale, timezoneId: BROWSER_ZONE });
        const page = await context.newPage();
        // Signed out there is no person's zone: the service check reads the browser's clock.
        await page.goto(server.url);
        const checked = await page.waitForSelector('[data-testid="checked-at"]');
        assert.match(
          (await checked.textContent()) ?? "",
          hour12 ? /^checked \d{1,2}:\d{2} [AP]M$/ : /^checked \d{2}:\d{2}$/,
        );

        await page.goto(`${server.url}/signin`);
        await signInAndConnect(page, server.url, [PERSONAL]);
        const { items } = await (await page.request.get(`${server.url}/api/user/calendars`))
          .json();
        const personZone = items.find((c: { primary?: boolean }) => c.primary).timeZone;
        assert.notEqual(personZone, BROWSER_ZONE);
        await hydrated(page);
        const connected = page.locator("[data-connection] time").first();
        const iso = (await connected.getAttribute("datetime"))!;
        assert.equal(await connected.getAttribute("data-zone"), personZone);
        const text = (await connected.textContent())!;
        assert.equal(
          text,
          formatDateTime(iso, personZone, new Date(), {
            hour12,
            zoneName: zoneName(iso, personZone, locale),
          }),
        );
        assert.match(text, hour12 ? /, \d{1,2}:\d{2} [AP]M \S+$/ : /, \d{2}:\d{2} \S+$/);
        await context.close();
      });
    }

    await t.step("times a sync swaps into the dashboard are redrawn too", async () => {
      const context = await browser.newContext({ locale: "en-US", timezoneId: BROWSER_ZONE });
      const page = await context.newPage();
      await page.goto(`${server.url}/signin`);
      await signInAndConnect(page, server.url, [PERSONAL, "alex@work.example.com"]);
      await setUpDemoRuleAndGroup(page, server.url);
      await page.goto(server.url);
      await hydrated(page);
      await page.getByTestId("sync-now").click();
      const details = page.getByTestId("sync-result").getByRole("link", { name: "Details" });
      const runId = (await details.getAttribute("href"))!.split("/").pop()!;
      // The recent runs were read again from the server, the new run among them, and redrawn.
      await page.locator(`[data-live="recent-runs"] [data-run="${runId}"] time`).waitFor();
      for (const text of await page.locator('[data-live="recent-runs"] time').allTextContents()) {
        assert.match(text, /, \d{1,2}:\d{2} [AP]M$/);
      }
      await context.close();
    });

    await t.step("the working hours' From and Until show a 12-hour time whole", async () => {
      const context = await browser.newContext({ locale: "en-US" });
      const page = await context.newPage();
      await page.goto(`${server.url}/signin`);
      await signInAndConnect(page, server.url, [PERSONAL]);
      for (const width of [1280, 900, 390]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(`${server.url}/rules/new`);
        await hydrated(page);
        await page.getByLabel("Events outside working hours").check();
        // Chromium sizes a bare time input to its fields ("05:00 PM" and the picker's icon):
        // the field must be no narrower than that.
        const widths = await page.locator('input[type="time"]').evaluateAll((inputs) =>
          inputs.map((input) => {
            const bare = input.cloneNode() as HTMLInputElement;
            bare.style.width = "max-content";
            bare.style.minWidth = "0";
            bare.style.display = "inline-block";
            input.parentElement!.append(bare);
            const needs = bare.getBoundingClientRect().width;
            bare.remove();
            return { has: input.getBoundingClientRect().width, needs };
          })
        );
        assert.equal(widths.length, 2);
        for (const { has, needs } of widths) {
          assert.ok(has >= needs, `at ${width} px: ${has} px for a field that needs ${needs}`);
        }
      }
      await context.close();
    });
  } finally {
    await browser.close();
    await server.stop();
  }
});
