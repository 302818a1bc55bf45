import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's Chromium; tests never download a browser. */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/**
 * False on a machine without Debian's chromium (`apt-get install chromium`): browser tests are
 * then reported as ignored rather than failing; .ci/run installs it so CI always runs them.
 */
export const HAS_CHROMIUM = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/** Launches headless Chromium with the flags this machine's closed network needs. */
export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Where browser tests write screenshots for a reviewer (ignored by git). */
export const SCREENSHOT_DIR = new URL("../../test-output/screenshots/", import.meta.url).pathname;

export async function screenshotPath(name: string): Promise<string> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  return `${SCREENSHOT_DIR}${name}.png`;
}

/**
 * On the sign-in page already open in `page`: signs in as the first of `emails` on the
 * emulator's consent page (a first sign-in in this browser, which connects that account too),
 * then connects each of the others as a Google account.
 */
export async function signInAndConnect(page: Page, appUrl: string, emails: string[]) {
  await page.click("text=Sign in with Google");
  await page.click(`text=${emails[0]}`);
  await page.waitForURL(`${appUrl}/connections`);
  for (const email of emails.slice(1)) {
    await page.click("text=Connect a Google account");
    await page.click(`text=${email}`);
    await page.waitForURL(`${appUrl}/connections`);
  }
}

/** Screenshots of the current page at desktop and phone width, light and dark. */
export async function shoot(page: Page, name: string): Promise<void> {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [width, height, label] of [[1280, 900, "desktop"], [390, 844, "phone"]] as const) {
      await page.setViewportSize({ width, height });
      await page.screenshot({
        path: await screenshotPath(`${name}-${label}-${scheme}`),
        fullPage: true,
        animations: "disabled",
      });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Waits until every island on the page has hydrated. */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>("[data-island]")].every((el) =>
      el.dataset.hydrated === "true"
    )
  );
}
