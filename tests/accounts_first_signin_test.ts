/**
 * The first minute of a new person: one trip to Google signs them in and connects the account
 * they signed in with; later sign-ins ask for who they are only (each offline consent mints a
 * refresh token, and Google keeps about 100 per account and client). And a Google account
 * connected under another busysync user is not a second person: signing in with it opens no
 * new, empty busysync account.
 */
import assert from "node:assert/strict";
import { listCalendars } from "../lib/db/calendars.ts";
import { listAllConnectionEntries } from "../lib/db/connections.ts";
import { keys } from "../lib/db/keys.ts";
import { ANN, ANN_WORK, BOB, storedTokens, withHarness } from "./support/accounts.ts";

const SIGNIN_SCOPES = ["openid", "email", "profile"];
const CALENDAR_SCOPES = [
  "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
  "https://www.googleapis.com/auth/calendar.events",
];

async function countUsers(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.allUsers() })) n++;
  return n;
}

Deno.test("first sign-in: one consent signs a new person in and connects that account's calendars", async (t) => {
  await withHarness(async (h) => {
    const browser = h.client();
    let userId = "";
    await t.step(
      "a browser nobody signed in with asks for both, offline, with consent",
      async () => {
        const login = await browser.request("/api/auth/login?next=/");
        const url = new URL(login.headers.get("location")!);
        assert.deepEqual(url.searchParams.get("scope")!.split(" "), [
          ...SIGNIN_SCOPES,
          ...CALENDAR_SCOPES,
        ]);
        assert.equal(url.searchParams.get("access_type"), "offline");
        assert.deepEqual(url.searchParams.get("prompt")!.split(" ").sort(), [
          "consent",
          "select_account",
        ]);
        assert.equal(url.searchParams.get("include_granted_scopes"), "true");
        const back = await browser.authorizeAtGoogle(url.href, ANN);
        const done = await browser.request(`${back.pathname}${back.search}`);
        assert.equal(done.status, 303);
        assert.equal(done.headers.get("location"), "/");
        assert.match(done.headers.getSetCookie().join("\n"), /busysync_known=1;.*Max-Age=31536000/);
      },
    );
    await t.step("the account is the person's first connection, its calendars listed", async () => {
      userId = (await (await browser.request("/api/me")).json()).id;
      const connections = await browser.connections();
      assert.deepEqual(connections.map((c) => [c.email, c.status]), [[ANN, "active"]]);
      const calendars = await listCalendars(h.kv, userId);
      assert.deepEqual(calendars.map((c) => c.summary).sort(), ["Ann", "Family"]);
      const stored = await storedTokens(h, userId, connections[0].id);
      assert.ok(stored.refresh.startsWith("1//"), "a refresh token from the one consent");
    });
    await t.step("signing in again in this browser asks who the person is only", async () => {
      await browser.request("/api/auth/logout", { method: "POST" });
      const login = await browser.request("/api/auth/login?next=/");
      const url = new URL(login.headers.get("location")!);
      assert.deepEqual(url.searchParams.get("scope")!.split(" "), SIGNIN_SCOPES);
      assert.equal(url.searchParams.get("access_type"), "online");
      const [connection] = await (async () => {
        const back = await browser.authorizeAtGoogle(url.href, ANN);
        assert.equal((await browser.request(`${back.pathname}${back.search}`)).status, 303);
        return await browser.connections();
      })();
      const before = await storedTokens(h, userId, connection.id);
      assert.ok(before.refresh, "the connection keeps the refresh token of its consent");
      assert.equal(await countUsers(h.kv), 1);
    });
  });
});

Deno.test("first sign-in: calendar permissions unticked on Google's page still sign the person in, with nothing connected", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    const login = await browser.request("/api/auth/login");
    const url = new URL(login.headers.get("location")!);
    // Google's granular consent: the person leaves the calendar boxes empty.
    url.searchParams.set("scope", SIGNIN_SCOPES.join(" "));
    const back = await browser.authorizeAtGoogle(url.href, ANN);
    assert.equal((await browser.request(`${back.pathname}${back.search}`)).status, 303);
    assert.deepEqual(await browser.connections(), []);
  });
});

Deno.test("held account: signing in with a Google account connected to another busysync user opens no new account", async (t) => {
  await withHarness(async (h) => {
    const bob = h.client("192.0.2.2");
    await bob.signIn(BOB);
    await bob.connect(ANN_WORK);
    const usersBefore = await countUsers(h.kv);

    await t.step("a first sign-in is refused with a page naming the holder, masked", async () => {
      const stranger = h.client("192.0.2.3");
      const res = await stranger.signIn(ANN_WORK, "/", { firstTime: true });
      assert.equal(res.status, 403);
      const page = await res.text();
      assert.match(page, /connected to another busysync account/);
      assert.match(page, /b•••@example\.org/);
      assert.doesNotMatch(page, /bob@example\.org/, "the holder's address is masked");
      assert.match(page, /sign in with the Google account/i);
      assert.equal(res.headers.getSetCookie().some((c) => c.includes("busysync_at=")), false);
      assert.equal(await countUsers(h.kv), usersBefore, "no new, empty busysync account");
      let connections = 0;
      for await (const _ of listAllConnectionEntries(h.kv)) connections++;
      assert.equal(connections, 1, "Bob's connection is all there is");
    });
    await t.step("a returning browser's sign-in is refused the same way", async () => {
      const res = await h.client("192.0.2.4").signIn(ANN_WORK);
      assert.equal(res.status, 403);
    });
    await t.step(
      "an account that signs in already keeps signing in, connected elsewhere or not",
      async () => {
        const ann = h.client("192.0.2.5");
        assert.equal((await ann.signIn(ANN)).status, 303);
        await bob.connect(ANN);
        await ann.request("/api/auth/logout", { method: "POST" });
        assert.equal((await ann.signIn(ANN)).status, 303);
      },
    );
  });
});
