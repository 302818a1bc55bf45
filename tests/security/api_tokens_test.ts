/**
 * Personal API tokens, attacked like sessions: a token is stored only as its hash; a tampered,
 * truncated or made-up token authenticates nothing; an expired or revoked one stops at once;
 * one user's token never reaches another's data; a token cannot mint tokens, delete the account
 * or be traded for a session; it counts on /api/* only, never on a page; and a request carrying
 * both a token and someone's cookies is the token's alone.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../lib/auth/tokens.ts";
import {
  ANN,
  BOB,
  dumpKv,
  type Harness,
  startHarness,
  type TestClient,
} from "../support/accounts.ts";

const DAY_MS = 24 * 3600_000;

async function withHarness(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness({}, { worker: false });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

interface Created {
  id: string;
  token: string;
  name: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

async function createToken(
  browser: TestClient,
  body: unknown = { name: "script", expiresInDays: 30 },
): Promise<Created> {
  const res = await browser.request("/api/me/tokens", { method: "POST", json: body });
  assert.equal(res.status, 201, await res.clone().text());
  return await res.json();
}

/** A request made with `token` only: no cookies, no Origin (a script, not a browser). */
async function withToken(
  h: Harness,
  token: string,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("authorization", `Bearer ${token}`);
  if (json !== undefined) headers.set("content-type", "application/json");
  return await h.app.request(`${h.config.publicUrl}${path}`, {
    ...rest,
    headers,
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
}

async function whoIs(h: Harness, token: string): Promise<string | number> {
  const res = await withToken(h, token, "/api/me");
  return res.status === 200 ? (await res.json()).email : res.status;
}

Deno.test("api tokens: a token works as its owner, is stored only as a hash, and shows its last use", async (t) => {
  await withHarness(async (h) => {
    const ann = h.client();
    await ann.signIn(ANN, undefined, { firstTime: true });
    const created = await createToken(ann, { name: "backup script", expiresInDays: 90 });

    await t.step("the token has the bsy_ shape and a 90-day expiry", () => {
      assert.match(created.token, /^bsy_[A-Za-z0-9_-]{43}$/);
      const days = (Date.parse(created.expiresAt) - h.clock.now().getTime()) / DAY_MS;
      assert.ok(days > 89.9 && days <= 90, `expires in ${days} days`);
      assert.equal(created.lastUsedAt, null);
    });

    await t.step("it authenticates the API as Ann, with no Origin header on a change", async () => {
      assert.equal(await whoIs(h, created.token), ANN);
      const res = await withToken(h, created.token, "/api/me/settings", {
        method: "PATCH",
        json: { timeZone: "Europe/Berlin" },
      });
      assert.equal(res.status, 200);
      assert.equal(
        (await (await ann.request("/api/me")).json()).settings.timeZone,
        "Europe/Berlin",
      );
    });

    await t.step("the store holds its SHA-256, never the token", async () => {
      const dump = await dumpKv(h.kvPath);
      assert.ok(!dump.includes(created.token), "the token is stored in clear");
      assert.ok(!dump.includes(created.token.slice(4)), "its random part is stored in clear");
      assert.ok(dump.includes(await sha256Hex(created.token)), "its hash is the key");
    });

    await t.step("the list shows the last use, written at most once a minute", async () => {
      const list = async () => (await (await ann.request("/api/me/tokens")).json()).items;
      const [first] = await list();
      assert.equal(first.name, "backup script");
      assert.ok(first.lastUsedAt, "the use was recorded");
      assert.equal("token" in first, false, "the list never shows the token");
      await whoIs(h, created.token);
      assert.equal((await list())[0].lastUsedAt, first.lastUsedAt, "a use within the minute");
      h.clock.advance(61_000);
      await whoIs(h, created.token);
      assert.ok(Date.parse((await list())[0].lastUsedAt) > Date.parse(first.lastUsedAt));
    });

    await t.step("listed with the token itself, it is marked current", async () => {
      const items = (await (await withToken(h, created.token, "/api/me/tokens")).json()).items;
      assert.deepEqual(items.map((i: { current: boolean }) => i.current), [true]);
    });
  });
});

Deno.test("api tokens: tampered, truncated, made-up, expired and revoked tokens authenticate nothing", async (t) => {
  await withHarness(async (h) => {
    const ann = h.client();
    await ann.signIn(ANN, undefined, { firstTime: true });
    const { token } = await createToken(ann);

    await t.step("a changed character, a cut or longer token, another prefix: 401", async () => {
      const flip = (s: string, i: number) =>
        s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
      for (
        const bad of [
          flip(token, token.length - 1),
          flip(token, 4),
          token.slice(0, -1),
          `${token}A`,
          `bsx_${token.slice(4)}`,
          token.toUpperCase(),
          "bsy_",
          `bsy_${"A".repeat(43)}`,
        ]
      ) {
        const res = await withToken(h, bad, "/api/me");
        assert.equal(res.status, 401, bad);
        assert.equal((await res.json()).error.code, "unauthenticated");
      }
      assert.equal(await whoIs(h, token), ANN, "the real one still works");
    });

    await t.step("an unknown token says so, rather than 'sign in'", async () => {
      const res = await withToken(h, `bsy_${"x".repeat(43)}`, "/api/rules");
      assert.match((await res.json()).error.message, /API token is unknown, revoked or expired/);
    });

    await t.step("revoking a token stops it on the very next request", async () => {
      const other = await createToken(ann, { name: "other", expiresInDays: 30 });
      assert.equal(await whoIs(h, other.token), ANN);
      assert.equal(
        (await ann.request(`/api/me/tokens/${other.id}`, { method: "DELETE" })).status,
        204,
      );
      assert.equal(await whoIs(h, other.token), 401);
      assert.equal(
        (await ann.request(`/api/me/tokens/${other.id}`, { method: "DELETE" })).status,
        404,
        "revoked once is gone",
      );
    });

    await t.step("a script can revoke the token it runs with", async () => {
      const own = await createToken(ann, { name: "self", expiresInDays: 30 });
      const res = await withToken(h, own.token, `/api/me/tokens/${own.id}`, { method: "DELETE" });
      assert.equal(res.status, 204);
      assert.equal(await whoIs(h, own.token), 401);
    });

    await t.step("past its expiry a token is refused and no longer listed", async () => {
      const yearly = await createToken(ann, { name: "yearly", expiresInDays: 365 });
      h.clock.advance(30 * DAY_MS - 60_000);
      assert.equal(await whoIs(h, token), ANN, "a minute before expiry");
      h.clock.advance(2 * 60_000);
      assert.equal(await whoIs(h, token), 401);
      // A month on, Ann's session has ended too; her yearly token still lists.
      const res = await withToken(h, yearly.token, "/api/me/tokens");
      assert.equal(res.status, 200);
      const items = (await res.json()).items;
      assert.deepEqual(items.map((i: { id: string }) => i.id), [yearly.id]);
    });
  });
});

Deno.test("api tokens: one user's token never reaches another user's data or tokens", async (t) => {
  await withHarness(async (h) => {
    const ann = h.client("192.0.2.1");
    const bob = h.client("192.0.2.2");
    await ann.signIn(ANN, undefined, { firstTime: true });
    await bob.signIn(BOB, undefined, { firstTime: true });
    const annToken = await createToken(ann);
    const bobToken = await createToken(bob);

    await t.step("each token is its owner", async () => {
      assert.equal(await whoIs(h, annToken.token), ANN);
      assert.equal(await whoIs(h, bobToken.token), BOB);
      const conns = await (await withToken(h, bobToken.token, "/api/user/connections")).json();
      assert.deepEqual(conns.items.map((c: { email: string }) => c.email), [BOB]);
    });

    await t.step("Bob cannot see or revoke Ann's token, by session or by token", async () => {
      const listed = (await (await bob.request("/api/me/tokens")).json()).items;
      assert.deepEqual(listed.map((i: { id: string }) => i.id), [bobToken.id]);
      assert.equal(
        (await bob.request(`/api/me/tokens/${annToken.id}`, { method: "DELETE" })).status,
        404,
      );
      const res = await withToken(h, bobToken.token, `/api/me/tokens/${annToken.id}`, {
        method: "DELETE",
      });
      assert.equal(res.status, 404);
      assert.equal(await whoIs(h, annToken.token), ANN, "Ann's token still works");
    });

    await t.step("a token sent with another person's cookies is the token's alone", async () => {
      const cookie = [...ann.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
      const asBob = await withToken(h, bobToken.token, "/api/me", { headers: { cookie } });
      assert.equal((await asBob.json()).email, BOB);
      const revoked = await createToken(bob, { name: "gone", expiresInDays: 30 });
      await bob.request(`/api/me/tokens/${revoked.id}`, { method: "DELETE" });
      const nobody = await withToken(h, revoked.token, "/api/me", { headers: { cookie } });
      assert.equal(nobody.status, 401, "a refused token does not fall back to the cookies");
    });
  });
});

Deno.test("api tokens: a token cannot mint tokens, delete the account, or become a session", async (t) => {
  await withHarness(async (h) => {
    const ann = h.client();
    await ann.signIn(ANN, undefined, { firstTime: true });
    const { token } = await createToken(ann);

    const refused = async (path: string, init: RequestInit & { json?: unknown }) => {
      const res = await withToken(h, token, path, init);
      assert.equal(res.status, 403, `${init.method} ${path}`);
      assert.equal((await res.json()).error.code, "token_not_allowed");
    };

    await t.step("creating a token: 403 token_not_allowed", async () => {
      await refused("/api/me/tokens", {
        method: "POST",
        json: { name: "more", expiresInDays: 365 },
      });
      assert.equal((await (await ann.request("/api/me/tokens")).json()).items.length, 1);
    });

    await t.step("deleting the account: 403, and the account is still there", async () => {
      await refused("/api/me", { method: "DELETE" });
      assert.equal((await ann.request("/api/me")).status, 200);
    });

    await t.step("refreshing or ending a session: 403", async () => {
      await refused("/api/auth/refresh", { method: "POST" });
      await refused("/api/auth/logout", { method: "POST" });
      assert.equal((await ann.request("/api/me")).status, 200, "Ann's session lives on");
    });

    await t.step("on a page a token signs nobody in", async () => {
      for (const path of ["/settings", "/rules", "/history"]) {
        const res = await withToken(h, token, path, { headers: { accept: "text/html" } });
        assert.equal(res.status, 303, path);
        assert.match(res.headers.get("location") ?? "", /^\/signin/);
      }
      const home = await withToken(h, token, "/", { headers: { accept: "text/html" } });
      assert.doesNotMatch(await home.text(), /Sign out/, "the home page is the signed-out one");
    });
  });
});

Deno.test("api tokens: names and lifetimes are checked, and an account holds at most 20", async (t) => {
  await withHarness(async (h) => {
    const ann = h.client();
    await ann.signIn(ANN, undefined, { firstTime: true });
    const post = (json: unknown) => ann.request("/api/me/tokens", { method: "POST", json });

    await t.step("an empty name, a lifetime not offered, or an unknown field: 400", async () => {
      for (
        const [body, field] of [
          [{ name: "  ", expiresInDays: 30 }, "name"],
          [{ name: "x".repeat(61), expiresInDays: 30 }, "name"],
          [{ name: "ok", expiresInDays: 7 }, "expiresInDays"],
          [{ name: "ok", expiresInDays: 3650 }, "expiresInDays"],
          [{ name: "ok" }, "expiresInDays"],
        ] as const
      ) {
        const res = await post(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok((await res.json()).error.fields?.[field], JSON.stringify(body));
      }
    });

    await t.step("the 21st token: 409 token_limit, until one is revoked", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        ids.push((await createToken(ann, { name: `t${i}`, expiresInDays: 30 })).id);
      }
      const res = await post({ name: "one too many", expiresInDays: 30 });
      assert.equal(res.status, 409);
      assert.equal((await res.json()).error.code, "token_limit");
      await ann.request(`/api/me/tokens/${ids[0]}`, { method: "DELETE" });
      assert.equal((await post({ name: "room again", expiresInDays: 30 })).status, 201);
    });
  });
});

Deno.test("api tokens: per-user rate limits count token requests like the session's", async () => {
  await withHarness(async (h) => {
    const ann = h.client();
    await ann.signIn(ANN, undefined, { firstTime: true });
    const { token } = await createToken(ann);
    const statuses: number[] = [];
    // syncTrigger allows 6 a minute per user: three by session, then the token's.
    for (let i = 0; i < 3; i++) {
      statuses.push((await ann.request("/api/sync", { method: "POST", json: {} })).status);
    }
    for (let i = 0; i < 4; i++) {
      statuses.push((await withToken(h, token, "/api/sync", { method: "POST", json: {} })).status);
    }
    assert.deepEqual(statuses.map((s) => s === 429), [
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });
});

Deno.test("api tokens: deleting the account revokes its tokens", async () => {
  await withHarness(async (h) => {
    const ann = h.client();
    await ann.signIn(ANN, undefined, { firstTime: true });
    const { token } = await createToken(ann);
    assert.equal(await whoIs(h, token), ANN);
    assert.equal(
      (await ann.request("/api/me?removeMirrors=false", { method: "DELETE" })).status,
      204,
    );
    assert.equal(await whoIs(h, token), 401);
    const dump = await dumpKv(h.kvPath);
    assert.doesNotMatch(dump, /"api_tokens/, "no token record or index is left");
  });
});
