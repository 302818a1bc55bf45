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

/** A common phone's viewport (iPhone 12–15): the narrowest width every page must fit. */
export const PHONE = { width: 390, height: 844 } as const;

/**
 * Fails when the page as it is now scrolls sideways (its document wider than the viewport),
 * naming the outermost elements that stick out past the right edge so the fix is findable.
 * Wide content (the rule graph, the week) must scroll inside its own box instead.
 */
export async function assertNoSideScroll(page: Page, where: string): Promise<void> {
  const found = await page.evaluate(() => {
    const limit = globalThis.innerWidth;
    const wide = document.documentElement.scrollWidth;
    if (wide <= limit) return undefined;
    const out: string[] = [];
    const visit = (el: Element) => {
      if (out.length >= 5) return;
      const box = el.getBoundingClientRect();
      if (box.right > limit + 0.5 && box.width > 0) {
        const cls = typeof el.className === "string" && el.className ? `.${el.className}` : "";
        out.push(`${el.tagName.toLowerCase()}${cls} (right edge ${Math.round(box.right)} px)`);
        return;
      }
      // An element that scrolls its own overflow keeps its children's width to itself.
      const style = getComputedStyle(el);
      if (style.overflowX === "auto" || style.overflowX === "scroll") return;
      for (const child of el.children) visit(child);
    };
    visit(document.body);
    return { limit, wide, out };
  });
  if (found) {
    throw new Error(
      `${where}: the page is ${found.wide} px wide in a ${found.limit} px viewport ` +
        `(scrolls sideways); sticking out: ${found.out.join(", ") || "nothing visible"}`,
    );
  }
}

/**
 * In the signed-in browser `page` (the demo's two accounts connected): creates the demo's rule
 * (personal into work) and group (work and family) through the API, runs a sync to its end
 * and returns their ids and the run's.
 */
export async function setUpDemoRuleAndGroup(
  page: Page,
  appUrl: string,
): Promise<{ ruleId: string; groupId: string; runId: string }> {
  const post = async (path: string, body: unknown) => {
    const res = await page.request.post(`${appUrl}${path}`, {
      headers: { origin: appUrl, "content-type": "application/json" },
      data: JSON.stringify(body),
    });
    if (!res.ok()) throw new Error(`POST ${path}: ${res.status()} ${await res.text()}`);
    return await res.json();
  };
  const { items } = await (await page.request.get(`${appUrl}/api/user/calendars`)).json();
  const ref = (calendarId: string) => ({
    connectionId: items.find((c: { calendarId: string }) => c.calendarId === calendarId)
      .connectionId,
    calendarId,
  });
  const rule = await post("/api/rules", {
    name: "Personal into work",
    source: ref("alex.personal@example.com"),
    target: ref("alex@work.example.com"),
  });
  const group = await post("/api/groups", {
    name: "Work and Family",
    members: [
      { calendar: ref("alex@work.example.com") },
      { calendar: ref("family0demo0calendar@group.calendar.google.com"), privacy: "title" },
    ],
  });
  const synced = await post("/api/sync?wait=true", {});
  return { ruleId: rule.id, groupId: group.id, runId: synced.run.id };
}
