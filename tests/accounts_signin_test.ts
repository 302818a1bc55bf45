/**
 * Sign-in and sessions end to end: the app in-process, Google as the emulator over real HTTP,
 * a real KV file, cookies carried by hand.
 */
import assert from "node:assert/strict";
import { SignJWT, UnsecuredJWT } from "jose";
import { keys } from "../lib/db/keys.ts";
import { OAuthStateSchema } from "../lib/db/oauth_states.ts";
import { ANN, ANN_WORK, EVE, HTTPS_URL, PUBLIC_URL, withHarness } from "./support/accounts.ts";

const ACCESS = "busysync_at";
const REFRESH = "busysync_rt";

Deno.test("sign-in: a first Google sign-in creates the user and a cookie session, with no token in any URL", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    browser.markReturning();
    const login = await browser.request("/api/auth/login?next=/connections");
    assert.equal(login.status, 302);
    const authUrl = new URL(login.headers.get("location")!);
    assert.equal(authUrl.origin, h.emulator.url);
    assert.equal(authUrl.searchParams.get("code_challenge_method"), "S256");
    assert.ok(authUrl.searchParams.get("state"));
    assert.ok(authUrl.searchParams.get("nonce"));
    assert.equal(authUrl.searchParams.get("redirect_uri"), `${PUBLIC_URL}/api/auth/callback`);
    assert.deepEqual(authUrl.searchParams.get("scope")!.split(" "), ["openid", "email", "profile"]);

    const back = await browser.authorizeAtGoogle(authUrl.href, ANN);
    const done = await browser.request(`${back.pathname}${back.search}`);
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("location"), "/connections");

    const cookies = done.headers.getSetCookie().join("\n");
    assert.match(cookies, new RegExp(`${ACCESS}=[^;]+;.*HttpOnly`));
    assert.match(cookies, /SameSite=Lax/);
    assert.match(cookies, /Path=\//);
    assert.doesNotMatch(cookies, /Secure/, "http public URL: no Secure flag");
    for (const url of [login.headers.get("location")!, done.headers.get("location")!]) {
      assert.doesNotMatch(url, /eyJ|ya29\.|1\/\//, "no token in a redirect URL");
    }

    const me = await browser.request("/api/me");
    assert.equal(me.status, 200);
    const body = await me.json();
    assert.equal(body.email, ANN);
    assert.equal(body.name, "Ann Example");

    const again = h.client("192.0.2.50");
    await again.signIn(ANN);
    assert.equal(
      (await (await again.request("/api/me")).json()).id,
      body.id,
      "same person, same user",
    );

    const page = await browser.request("/connections");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Connect a Google account/);

    const signin = await h.client("192.0.2.51").request("/signin?next=/connections");
    assert.match(
      await signin.text(),
      /href="\/api\/auth\/login\?next=%2Fconnections">(<svg.*?<\/svg>)?Sign in with Google/,
    );
    assert.equal((await browser.request("/signin")).status, 303, "signed in: straight on");
  });
});

Deno.test("sign-in: on https every cookie is Secure and __Host- prefixed, and HSTS is sent", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    const done = await browser.signIn(ANN);
    assert.equal(done.status, 303);
    const set = done.headers.getSetCookie();
    for (const name of ["busysync_at", "busysync_rt"]) {
      const line = set.find((l) => l.startsWith(`__Host-${name}=`));
      assert.ok(line, name);
      assert.match(line, /; Secure/);
      assert.match(line, /; HttpOnly/);
      assert.match(line, /; Path=\//);
      assert.doesNotMatch(line, /Domain=/i);
    }
    assert.ok([...browser.cookies.keys()].every((name) => name.startsWith("__Host-")));
    assert.match(done.headers.get("strict-transport-security") ?? "", /max-age=/);
    assert.equal((await browser.request("/api/me")).status, 200);
  }, { PUBLIC_URL: HTTPS_URL });
});

Deno.test("sign-in: tampered, expired and alg-none access JWTs are refused (401)", async (t) => {
  await withHarness(async (h) => {
    const browser = h.client();
    await browser.signIn(ANN);
    const jwt = browser.cookies.get(ACCESS)!;
    const me = (headers: Record<string, string>) =>
      h.app.request(`${PUBLIC_URL}/api/me`, { headers });

    await t.step("the genuine JWT works as a Bearer token", async () => {
      assert.equal((await me({ authorization: `Bearer ${jwt}` })).status, 200);
    });
    await t.step("a tampered payload", async () => {
      const [head, payload, sig] = jwt.split(".");
      const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
      const forged = btoa(JSON.stringify({ ...claims, sub: "someone-else" }))
        .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      assert.equal((await me({ authorization: `Bearer ${head}.${forged}.${sig}` })).status, 401);
      assert.equal((await me({ cookie: `${ACCESS}=${head}.${forged}.${sig}` })).status, 401);
    });
    await t.step("alg none", async () => {
      const claims = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      const none = new UnsecuredJWT(claims).encode();
      assert.equal((await me({ authorization: `Bearer ${none}` })).status, 401);
      assert.equal((await me({ cookie: `${ACCESS}=${none}` })).status, 401);
    });
    await t.step("signed with another key", async () => {
      const claims = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      const other = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode("x".repeat(40)));
      assert.equal((await me({ authorization: `Bearer ${other}` })).status, 401);
    });
    await t.step("expired, with no refresh cookie to fall back on", async () => {
      h.clock.advance(11 * 60_000);
      assert.equal((await me({ authorization: `Bearer ${jwt}` })).status, 401);
      assert.equal((await me({ cookie: `${ACCESS}=${jwt}` })).status, 401);
    });
    await t.step("a Bearer header is never combined with cookies", async () => {
      const res = await me({
        authorization: "Bearer nonsense",
        cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      });
      assert.equal(res.status, 401);
    });
  });
});

Deno.test("sign-in: an expired access JWT is rotated transparently; the spent refresh token works 30 s, then revokes the session", async (t) => {
  await withHarness(async (h) => {
    const browser = h.client();
    await browser.signIn(ANN);
    const firstRefresh = browser.cookies.get(REFRESH)!;
    h.clock.advance(11 * 60_000);

    await t.step("the next request rotates both cookies and succeeds", async () => {
      const res = await browser.request("/api/me");
      assert.equal(res.status, 200);
      assert.notEqual(browser.cookies.get(REFRESH), firstRefresh);
    });

    await t.step(
      "a parallel request still carrying the old token within the grace window",
      async () => {
        h.clock.advance(10_000);
        const stale = await h.app.request(`${PUBLIC_URL}/api/me`, {
          headers: { cookie: `${REFRESH}=${firstRefresh}` },
        });
        assert.equal(stale.status, 200);
        assert.doesNotMatch(stale.headers.getSetCookie().join(";"), new RegExp(`${REFRESH}=[^;]`));
      },
    );

    await t.step("the old token after the grace window ends the whole session", async () => {
      h.clock.advance(30_000);
      const reuse = await h.app.request(`${PUBLIC_URL}/api/auth/refresh`, {
        method: "POST",
        headers: { cookie: `${REFRESH}=${firstRefresh}`, origin: PUBLIC_URL },
      });
      assert.equal(reuse.status, 401);
      assert.equal((await reuse.json()).error.code, "session_revoked");
      h.clock.advance(11 * 60_000);
      assert.equal(
        (await browser.request("/api/me")).status,
        401,
        "the legitimate holder is out too",
      );
    });
  });
});

Deno.test("sign-in: POST /api/auth/refresh rotates explicitly and hands API clients a Bearer token", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    await browser.signIn(ANN);
    const before = browser.cookies.get(REFRESH);
    const res = await browser.request("/api/auth/refresh", { method: "POST" });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.tokenType, "Bearer");
    assert.notEqual(browser.cookies.get(REFRESH), before);
    const api = await h.app.request(`${PUBLIC_URL}/api/me`, {
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    assert.equal(api.status, 200);
  });
});

Deno.test("sign-in: logout revokes the session at once, for cookies and Bearer alike", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    await browser.signIn(ANN);
    const jwt = browser.cookies.get(ACCESS)!;
    const refresh = browser.cookies.get(REFRESH)!;
    const out = await browser.request("/api/auth/logout", { method: "POST" });
    assert.equal(out.status, 204);
    assert.deepEqual(
      [...browser.cookies.keys()].sort(),
      ["busysync_known", "busysync_oauth"],
      "only the OAuth binding cookie and the 'signed in here before' mark are left",
    );
    const bearer = await h.app.request(`${PUBLIC_URL}/api/me`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    assert.equal(bearer.status, 401);
    const cookie = await h.app.request(`${PUBLIC_URL}/api/me`, {
      headers: { cookie: `${REFRESH}=${refresh}` },
    });
    assert.equal(cookie.status, 401);
  });
});

Deno.test("sign-in: a callback with an unknown state, another browser's state, or a replayed state is refused", async (t) => {
  await withHarness(async (h) => {
    const browser = h.client();
    const login = await browser.request("/api/auth/login");
    const back = await browser.authorizeAtGoogle(login.headers.get("location")!, ANN);

    await t.step("unknown state", async () => {
      const forged = new URL(back);
      forged.searchParams.set("state", "made-up");
      const res = await browser.request(`${forged.pathname}${forged.search}`);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /expired/);
    });
    await t.step("the right state in another browser (login CSRF)", async () => {
      const victim = h.client("192.0.2.77");
      const res = await victim.request(`${back.pathname}${back.search}`);
      assert.equal(res.status, 400);
      assert.equal(victim.cookies.get(ACCESS), undefined);
    });
    await t.step("the same callback again after it was consumed", async () => {
      const res = await browser.request(`${back.pathname}${back.search}`);
      assert.equal(res.status, 400, "the victim's attempt above used the state up");
    });
  });
});

Deno.test("sign-in: a PKCE verifier or nonce that does not match the request is refused", async (t) => {
  await withHarness(async (h) => {
    const tamper = async (state: string, change: Record<string, string>) => {
      const entry = await h.kv.get(keys.oauthState(state));
      const record = OAuthStateSchema.parse(entry.value);
      await h.kv.set(entry.key, { ...record, ...change });
    };
    for (
      const [name, change] of [
        ["PKCE verifier", { codeVerifier: "a".repeat(43) }],
        ["nonce", { nonce: "not-the-nonce-google-saw" }],
      ] as const
    ) {
      await t.step(name, async () => {
        const browser = h.client();
        const login = await browser.request("/api/auth/login");
        const state = new URL(login.headers.get("location")!).searchParams.get("state")!;
        const back = await browser.authorizeAtGoogle(login.headers.get("location")!, ANN);
        await tamper(state, change);
        const res = await browser.request(`${back.pathname}${back.search}`);
        assert.equal(res.status, 400);
        assert.equal(browser.cookies.get(ACCESS), undefined);
      });
    }
  });
});

Deno.test("sign-in: next accepts only same-origin paths (no open redirect)", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    for (const next of ["//evil.example", "https://evil.example", "/\\evil.example", "/\\/evil"]) {
      const res = await browser.request(`/api/auth/login?${new URLSearchParams({ next })}`);
      assert.equal(res.status, 400, next);
      assert.deepEqual(Object.keys((await res.json()).error.fields), ["next"]);
    }
    const ok = await browser.signIn(ANN, "/connections?tab=calendars");
    assert.equal(ok.headers.get("location"), "/connections?tab=calendars");
    const page = await h.client().request(
      `/signin?${new URLSearchParams({ next: "//evil.example" })}`,
    );
    assert.doesNotMatch(await page.text(), /evil/);
  });
});

Deno.test("sign-in: someone outside BUSYSYNC_ALLOWED_EMAILS gets a clear refusal page and no session", async () => {
  await withHarness(async (h) => {
    const eve = h.client();
    const res = await eve.signIn(EVE);
    assert.equal(res.status, 403);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.match(html, /This busysync is private/);
    assert.match(html, /eve@outside\.example/);
    assert.equal(eve.cookies.get(ACCESS), undefined);
    assert.equal((await eve.request("/api/me")).status, 401);

    const ann = h.client();
    assert.equal((await ann.signIn(ANN_WORK)).status, 303, "a listed Workspace domain gets in");
  }, { BUSYSYNC_ALLOWED_EMAILS: "@work.example.com, bob@example.org" });
});

Deno.test("sign-in: the 11th sign-in attempt from one address within 5 minutes gets 429 with Retry-After", async () => {
  await withHarness(async (h) => {
    const attacker = h.client("198.51.100.7");
    for (let i = 0; i < 10; i++) {
      assert.equal((await attacker.request("/api/auth/login")).status, 302);
    }
    const refused = await attacker.request("/api/auth/login");
    assert.equal(refused.status, 429);
    const wait = Number(refused.headers.get("retry-after"));
    assert.ok(wait > 0 && wait <= 300, `Retry-After ${wait}`);
    assert.equal((await h.client("198.51.100.8").request("/api/auth/login")).status, 302);
    h.clock.advance(wait * 1000);
    assert.equal((await attacker.request("/api/auth/login")).status, 302);
  });
});

Deno.test("sign-in: callbacks are rate limited per address too", async () => {
  await withHarness(async (h) => {
    const attacker = h.client("198.51.100.9");
    for (let i = 0; i < 20; i++) {
      assert.equal((await attacker.request("/api/auth/callback?state=x&code=y")).status, 400);
    }
    const refused = await attacker.request("/api/auth/callback?state=x&code=y");
    assert.equal(refused.status, 429);
    assert.ok(refused.headers.get("retry-after"));
  });
});

Deno.test("csrf: a cookie-authenticated POST from another origin, or a form body on a JSON route, is refused", async () => {
  await withHarness(async (h) => {
    const browser = h.client();
    await browser.signIn(ANN);
    const cross = await browser.request("/api/user/calendars/connect", {
      method: "POST",
      json: {},
      origin: "https://evil.example",
    });
    assert.equal(cross.status, 403);
    assert.equal((await cross.json()).error.code, "csrf");
    const noOrigin = await browser.request("/api/auth/logout", { method: "POST", origin: null });
    assert.equal(noOrigin.status, 403);
    const form = await browser.request("/api/user/import", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "format=busysync-export",
    });
    assert.equal(form.status, 415);
    const textPlain = await browser.request("/api/me/settings", {
      method: "PATCH",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ timeZone: "UTC" }),
    });
    assert.equal(textPlain.status, 415);
    assert.equal((await browser.request("/api/me")).status, 200, "still signed in");
  });
});
