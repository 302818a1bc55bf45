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
    await page.getByRole("button", { name: "Disconnect", exact: true }).last().click();
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

const FAMILY = "family0demo0calendar@group.calendar.google.com";

Deno.test({
  name: "disconnect: the dialog names the rules and groups the account is in, and pausing " +
    "them keeps their busy blocks until the account is connected again, in Chromium",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const server = await startDemoServer({ EMULATOR_ADMIN: "1" });
  const emulator = server.config.google.apiUrl;
  const mirrorsIn = async (calendarId: string): Promise<string[]> => {
    const res = await fetch(
      `${emulator}/__emulator/calendars/${encodeURIComponent(calendarId)}/events`,
    );
    const { items } = await res.json() as {
      items: { id: string; status?: string; extendedProperties?: { private?: object } }[];
    };
    return items.filter((e) => e.status !== "cancelled" && e.extendedProperties?.private)
      .map((e) => e.id).sort();
  };
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/signin`);
    await signInAndConnect(page, server.url, [PERSONAL, WORK]);
    const api = (method: string, path: string, body?: unknown) =>
      page.request.fetch(`${server.url}${path}`, {
        method,
        headers: { origin: server.url, "content-type": "application/json" },
        data: body === undefined ? undefined : JSON.stringify(body),
      });
    const { items } = await (await api("GET", "/api/user/calendars")).json() as {
      items: { connectionId: string; calendarId: string }[];
    };
    const ref = (calendarId: string) => items.find((c) => c.calendarId === calendarId)!;
    const workId = ref(WORK).connectionId;
    assert.equal(
      (await api("POST", "/api/rules", {
        name: "Personal into work",
        source: ref(PERSONAL),
        target: ref(WORK),
      })).status(),
      201,
    );
    assert.equal(
      (await api("POST", "/api/groups", {
        name: "Work and Family",
        members: [{ calendar: ref(WORK) }, { calendar: ref(FAMILY) }],
      })).status(),
      201,
    );
    const sync = async () => {
      const res = await api("POST", "/api/sync?wait=true", {});
      assert.equal(res.status(), 200);
      await res.dispose();
    };
    const statuses = async () => {
      const out: string[] = [];
      for (const path of ["/api/rules", "/api/groups"]) {
        const { items } = await (await api("GET", path)).json() as { items: { status: string }[] };
        out.push(...items.map((o) => o.status));
      }
      return out;
    };
    await sync();
    const before = { work: await mirrorsIn(WORK), family: await mirrorsIn(FAMILY) };
    assert.ok(before.work.length && before.family.length, "the rule and the group made blocks");

    await page.reload();
    const work = page.locator(`[data-connection="${workId}"]`);
    await work.getByRole("button", { name: "Disconnect" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const said = await dialog.textContent() ?? "";
    assert.match(said, /Rule “Personal into work”/);
    assert.match(said, /Group “Work and Family”/);
    assert.match(said, /in this account's calendars were made from your other accounts' events/);
    await dialog.getByRole("button", { name: "Pause them until I reconnect" }).click();
    await work.getByText("Disconnected, rules paused").waitFor({ timeout: 10_000 });
    assert.match(await work.textContent() ?? "", /connect it again to resume its rules/);

    await sync();
    assert.deepEqual(await statuses(), ["paused", "paused"], "the rule and the group wait");
    assert.deepEqual(await mirrorsIn(WORK), before.work, "the blocks in work stay");
    assert.deepEqual(await mirrorsIn(FAMILY), before.family, "the blocks in family stay");

    await work.getByRole("button", { name: "Connect again" }).click();
    await page.waitForURL(`${server.url}/connections`);
    await work.getByText("Connected", { exact: true }).waitFor();
    await sync();
    assert.deepEqual(await statuses(), ["ok", "ok"]);
    assert.deepEqual(await mirrorsIn(WORK), before.work);
    assert.deepEqual(await mirrorsIn(FAMILY), before.family);
  } finally {
    await browser.close();
    await server.stop();
  }
});
