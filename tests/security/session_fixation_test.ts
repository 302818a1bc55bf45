/**
 * Session fixation: whatever session cookies a browser carries before sign-in (made up, or a
 * real session of the attacker's), sign-in issues a session of its own with fresh tokens, and
 * the planted values never authenticate as the person who signed in. Signing in over a session
 * and signing out end the old session for good. The OAuth binding cookie cannot be used to push
 * an attacker's sign-in into a victim's browser either (accounts_signin_test covers the plain
 * "right state, other browser" case; here the victim has a binding of its own, or a planted one).
 */
import assert from "node:assert/strict";
import { decodeJwt, SignJWT } from "jose";
import { parseRefreshToken } from "../../lib/auth/session.ts";
import { keys } from "../../lib/db/keys.ts";
import { cookieNames } from "../../lib/http/session_cookies.ts";
import {
  ANN,
  BOB,
  type Harness,
  HTTPS_URL,
  startHarness,
  type TestClient,
} from "../support/accounts.ts";

const COOKIES = cookieNames(false);
const MADE_UP_SESSION = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
/** The access JWT's lifetime has passed (10 minutes), so the next request must refresh. */
const PAST_ACCESS_EXPIRY_MS = 11 * 60_000;

async function withHarness(fn: (h: Harness) => Promise<void>, env: Record<string, string> = {}) {
  const h = await startHarness(env, { worker: false });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

interface Tokens {
  access: string;
  refresh: string;
}

function tokensOf(browser: TestClient): Tokens {
  const access = browser.cookies.get(COOKIES.access);
  const refresh = browser.cookies.get(COOKIES.refresh);
  assert.ok(access && refresh, "the browser holds a session");
  return { access, refresh };
}

/** The session an access JWT or refresh token names. */
function sessionIdOf(tokens: Tokens): { fromAccess: string; fromRefresh: string | null } {
  return {
    fromAccess: String(decodeJwt(tokens.access).sid),
    fromRefresh: parseRefreshToken(tokens.refresh),
  };
}

/**
 * Who the given cookies (sent by someone else, outside any jar) are signed in as: the email,
 * or the HTTP status when nobody.
 */
async function whoIs(h: Harness, cookies: Partial<Tokens>): Promise<string | number> {
  const cookie = [
    cookies.access && `${COOKIES.access}=${cookies.access}`,
    cookies.refresh && `${COOKIES.refresh}=${cookies.refresh}`,
  ].filter(Boolean).join("; ");
  const res = await h.app.request(`${h.config.publicUrl}/api/me`, { headers: { cookie } });
  return res.status === 200 ? (await res.json()).email : res.status;
}

async function bearerWhoIs(h: Harness, accessToken: string): Promise<string | number> {
  const res = await h.app.request(`${h.config.publicUrl}/api/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return res.status === 200 ? (await res.json()).email : res.status;
}

/** Whether POST /api/auth/refresh hands out tokens for this refresh token. */
async function refreshes(h: Harness, refresh: string): Promise<boolean> {
  const res = await h.app.request(`${h.config.publicUrl}/api/auth/refresh`, {
    method: "POST",
    headers: { cookie: `${COOKIES.refresh}=${refresh}`, origin: h.config.publicUrl },
  });
  await res.body?.cancel();
  return res.status === 200;
}

function plant(browser: TestClient, tokens: Tokens) {
  browser.cookies.set(COOKIES.access, tokens.access);
  browser.cookies.set(COOKIES.refresh, tokens.refresh);
}

/** Every value a response sets for `name`, in header order (the browser keeps the last). */
function setCookieValues(res: Response, name: string): string[] {
  return res.headers.getSetCookie()
    .filter((line) => line.startsWith(`${name}=`))
    .map((line) => line.slice(name.length + 1).split(";")[0])
    .filter(Boolean);
}

Deno.test("session fixation: made-up session cookies planted before sign-in are never adopted", async (t) => {
  await withHarness(async (h) => {
    const planted = {
      access: await new SignJWT({ sid: MADE_UP_SESSION })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("someone")
        .setIssuer(h.config.publicUrl)
        .setAudience("busysync")
        .setExpirationTime("1h")
        .sign(crypto.getRandomValues(new Uint8Array(32))),
      refresh: `${MADE_UP_SESSION}.${"A".repeat(43)}`,
    };
    const victim = h.client("192.0.2.60");

    await t.step("they authenticate nothing, and the answer clears them", async () => {
      plant(victim, planted);
      assert.equal((await victim.request("/api/me")).status, 401);
      assert.equal(victim.cookies.get(COOKIES.access), undefined);
      assert.equal(victim.cookies.get(COOKIES.refresh), undefined);
    });

    await t.step("sign-in issues a session of its own", async () => {
      plant(victim, planted);
      assert.equal((await victim.signIn(ANN)).status, 303);
      const issued = tokensOf(victim);
      assert.notEqual(issued.access, planted.access);
      assert.notEqual(issued.refresh, planted.refresh);
      const sid = sessionIdOf(issued);
      assert.equal(sid.fromAccess, sid.fromRefresh);
      assert.notEqual(sid.fromAccess, MADE_UP_SESSION);
      assert.equal((await h.kv.get(keys.session(MADE_UP_SESSION))).value, null);
      assert.equal(await whoIs(h, issued), ANN);
    });

    await t.step("the planted values still open nothing", async () => {
      assert.equal(await whoIs(h, planted), 401);
      assert.equal(await whoIs(h, { refresh: planted.refresh }), 401);
      assert.equal(await bearerWhoIs(h, planted.access), 401);
      assert.equal(await refreshes(h, planted.refresh), false);
    });
  });
});

Deno.test("session fixation: an attacker's real session planted in the victim's browser ends at the victim's sign-in", async (t) => {
  await withHarness(async (h) => {
    await t.step("with a live access JWT", async () => {
      const attacker = h.client("203.0.113.5");
      await attacker.signIn(BOB);
      const stolen = tokensOf(attacker);
      const victim = h.client("192.0.2.61");
      plant(victim, stolen);
      assert.equal(await whoIs(h, stolen), BOB, "the planted session was live");

      assert.equal((await victim.signIn(ANN)).status, 303);
      const issued = tokensOf(victim);
      assert.equal(await whoIs(h, issued), ANN);
      assert.notEqual(sessionIdOf(issued).fromAccess, sessionIdOf(stolen).fromAccess);
      assert.notEqual(issued.refresh, stolen.refresh);
      // What the attacker kept now opens nothing: not Ann's account, not even Bob's.
      assert.equal(await whoIs(h, stolen), 401);
      assert.equal(await whoIs(h, { refresh: stolen.refresh }), 401);
      assert.equal(await bearerWhoIs(h, stolen.access), 401);
      assert.equal(await refreshes(h, stolen.refresh), false);
    });

    await t.step(
      "with an expired access JWT, which the callback may rotate before replacing it",
      async () => {
        const attacker = h.client("203.0.113.6");
        await attacker.signIn(BOB);
        const stolen = tokensOf(attacker);
        h.clock.advance(PAST_ACCESS_EXPIRY_MS);
        const victim = h.client("192.0.2.62");
        const login = await victim.request("/api/auth/login");
        const back = await victim.authorizeAtGoogle(login.headers.get("location")!, ANN);
        plant(victim, stolen);

        const done = await victim.request(`${back.pathname}${back.search}`);
        assert.equal(done.status, 303);
        const setRefresh = setCookieValues(done, COOKIES.refresh);
        const setAccess = setCookieValues(done, COOKIES.access);
        assert.ok(setRefresh.length >= 1 && setAccess.length >= 1);
        // The browser keeps the last value of each cookie: that must be Ann's own session.
        const kept = { access: setAccess.at(-1)!, refresh: setRefresh.at(-1)! };
        assert.deepEqual(tokensOf(victim), kept);
        assert.equal(await whoIs(h, kept), ANN);
        assert.notEqual(sessionIdOf(kept).fromRefresh, sessionIdOf(stolen).fromRefresh);
        // Tokens the rotation minted for the planted session on the way are dead as well.
        for (const refresh of [stolen.refresh, ...setRefresh.slice(0, -1)]) {
          assert.equal(await refreshes(h, refresh), false, "a planted-session token still works");
        }
        for (const access of [stolen.access, ...setAccess.slice(0, -1)]) {
          assert.equal(await bearerWhoIs(h, access), 401);
        }
        assert.equal(await whoIs(h, kept), ANN, "and Ann is still signed in");
      },
    );
  });
});

Deno.test("session fixation: signing in over a session, as the same or another person, replaces it", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    await browser.signIn(ANN);
    const first = tokensOf(browser);

    await browser.signIn(ANN);
    const second = tokensOf(browser);
    assert.notEqual(sessionIdOf(second).fromAccess, sessionIdOf(first).fromAccess);
    assert.notEqual(second.refresh, first.refresh);
    assert.equal(await whoIs(h, second), ANN);
    assert.equal(await whoIs(h, first), 401);
    assert.equal(await bearerWhoIs(h, first.access), 401);
    assert.equal(await refreshes(h, first.refresh), false);

    await browser.signIn(BOB);
    const third = tokensOf(browser);
    assert.equal(await whoIs(h, third), BOB);
    assert.equal(await whoIs(h, second), 401, "Ann's session ended with the switch");
    assert.equal(await refreshes(h, second.refresh), false);
  });
});

Deno.test("session fixation: after sign-out the old cookies open nothing, also inside the refresh grace window and after signing in again", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    await browser.signIn(ANN);
    h.clock.advance(PAST_ACCESS_EXPIRY_MS);
    const spent = tokensOf(browser);
    // A rotation just before sign-out: the spent token would still pass within its 30 s grace.
    assert.equal((await browser.request("/api/me")).status, 200);
    const current = tokensOf(browser);
    assert.notEqual(current.refresh, spent.refresh);

    assert.equal((await browser.request("/api/auth/logout", { method: "POST" })).status, 204);
    for (const old of [current, spent]) {
      assert.equal(await whoIs(h, old), 401);
      assert.equal(await whoIs(h, { refresh: old.refresh }), 401);
      assert.equal(await bearerWhoIs(h, old.access), 401);
      assert.equal(await refreshes(h, old.refresh), false);
    }
    const replay = h.client("192.0.2.63");
    plant(replay, current);
    const write = await replay.request("/api/me/settings", {
      method: "PATCH",
      json: { timeZone: "UTC" },
    });
    assert.equal(write.status, 401);

    await browser.signIn(ANN);
    assert.equal(await whoIs(h, tokensOf(browser)), ANN);
    assert.equal(await whoIs(h, current), 401, "a new sign-in revives no old session");
    assert.equal(await refreshes(h, current.refresh), false);
  });
});

/** Starts a sign-in in `browser` and completes it at Google as `email`, without the callback. */
async function callbackUrlFor(browser: TestClient, email: string): Promise<string> {
  const login = await browser.request("/api/auth/login");
  assert.equal(login.status, 302);
  const back = await browser.authorizeAtGoogle(login.headers.get("location")!, email);
  return `${back.pathname}${back.search}`;
}

Deno.test("oauth binding: the attacker's own callback is refused in a victim's browser that has a binding of its own", async () => {
  await withHarness(async (h) => {
    const attacker = h.client("203.0.113.7");
    const attackersCallback = await callbackUrlFor(attacker, BOB);
    const victim = h.client("192.0.2.64");
    const victimsCallback = await callbackUrlFor(victim, ANN);
    assert.ok(victim.cookies.get(COOKIES.binding));
    assert.notEqual(victim.cookies.get(COOKIES.binding), attacker.cookies.get(COOKIES.binding));

    const res = await victim.request(attackersCallback);
    assert.equal(res.status, 400);
    assert.equal(victim.cookies.get(COOKIES.access), undefined);
    assert.equal((await victim.request("/api/me")).status, 401);
    // The victim's own flow is unharmed by the attempt.
    assert.equal((await victim.request(victimsCallback)).status, 303);
    assert.equal(await whoIs(h, tokensOf(victim)), ANN);
  });
});

Deno.test("oauth binding: on https a binding planted under the unprefixed name is ignored, and sign-in sets its own", async () => {
  await withHarness(async (h) => {
    const secure = cookieNames(true);
    const attacker = h.client("203.0.113.8");
    const attackersCallback = await callbackUrlFor(attacker, BOB);
    const attackersBinding = attacker.cookies.get(secure.binding)!;
    assert.match(attackersBinding, /^[A-Za-z0-9_-]{43}$/);

    // A sibling subdomain or a plain-http answer can set `busysync_oauth` for this host, but
    // never a `__Host-` cookie: browsers allow those only from this exact origin, Secure.
    const victim = h.client("192.0.2.65");
    victim.cookies.set(COOKIES.binding, attackersBinding);
    const res = await victim.request(attackersCallback);
    assert.equal(res.status, 400);
    assert.equal(victim.cookies.get(secure.access), undefined);

    const own = await victim.request("/api/auth/login");
    await own.body?.cancel();
    const fresh = victim.cookies.get(secure.binding);
    assert.ok(fresh);
    assert.notEqual(fresh, attackersBinding);
  }, { PUBLIC_URL: HTTPS_URL });
});

Deno.test("oauth binding: a malformed planted binding is replaced when a flow starts", async () => {
  await withHarness(async (h) => {
    const victim = h.client("192.0.2.66");
    victim.cookies.set(COOKIES.binding, "attacker-chosen");
    const login = await victim.request("/api/auth/login");
    assert.equal(login.status, 302);
    const binding = victim.cookies.get(COOKIES.binding);
    assert.notEqual(binding, "attacker-chosen");
    assert.match(binding ?? "", /^[A-Za-z0-9_-]{43}$/);
  });
});
