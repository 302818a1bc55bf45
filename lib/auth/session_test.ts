import assert from "node:assert/strict";
import { base64url, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import {
  authenticateAccessToken,
  endSession,
  refreshSession,
  type SessionDeps,
  startSession,
} from "./session.ts";
import { upsertUserBySub } from "../db/users.ts";
import { VerifiedTokens } from "./verified_tokens.ts";

const SECRET = new TextEncoder().encode("a-test-session-secret-of-32-chars!!");
const ISSUER = "http://busysync.test";

async function withSessions(
  fn: (deps: SessionDeps, clock: { advance(ms: number): void }, userId: string) => Promise<void>,
) {
  const kv = await Deno.openKv(":memory:");
  let t = Date.parse("2030-01-06T09:00:00Z");
  const now = () => new Date(t);
  try {
    const { user } = await upsertUserBySub(kv, {
      issuer: "https://issuer.example",
      sub: "1",
      email: "ann@example.com",
      name: "Ann",
    }, now());
    const deps = { kv, secret: SECRET, issuer: ISSUER, now, verified: new VerifiedTokens() };
    await fn(deps, { advance: (ms) => t += ms }, user.id);
  } finally {
    kv.close();
  }
}

Deno.test("session: a fresh access JWT authenticates, and stops doing so once expired", async () => {
  await withSessions(async (deps, clock, userId) => {
    const issued = await startSession(deps, userId);
    const auth = await authenticateAccessToken(deps, issued.accessToken);
    assert.equal(auth?.user.id, userId);
    assert.equal(auth?.sessionId, issued.sessionId);
    clock.advance(10 * 60_000 + 1000);
    assert.equal(await authenticateAccessToken(deps, issued.accessToken), null);
  });
});

Deno.test("session: tampered, alg-none, RS256, wrong-key and foreign-issuer JWTs are refused", async (t) => {
  await withSessions(async (deps, _clock, userId) => {
    const issued = await startSession(deps, userId);
    // The genuine token is verified (and remembered) first: no forgery may ride on that.
    assert.ok(await authenticateAccessToken(deps, issued.accessToken));
    const [header, payload, signature] = issued.accessToken.split(".");
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    const exp = claims.exp as number;
    const sid = claims.sid as string;

    await t.step("a changed subject with the old signature", async () => {
      const forged = base64url.encode(JSON.stringify({ ...claims, sub: "user2" }));
      assert.equal(await authenticateAccessToken(deps, `${header}.${forged}.${signature}`), null);
    });
    await t.step("alg none", async () => {
      const none = new UnsecuredJWT({ sid }).setSubject(userId).setIssuer(ISSUER)
        .setAudience("busysync").setExpirationTime(exp).encode();
      assert.equal(await authenticateAccessToken(deps, none), null);
    });
    await t.step("RS256 signed by someone else's key, with the key in the header", async () => {
      const { privateKey, publicKey } = await generateKeyPair("RS256");
      const rs = await new SignJWT({ sid })
        .setProtectedHeader({ alg: "RS256", jwk: await exportJWK(publicKey) })
        .setSubject(userId).setIssuer(ISSUER).setAudience("busysync").setExpirationTime(exp)
        .sign(privateKey);
      assert.equal(await authenticateAccessToken(deps, rs), null);
    });
    await t.step("HS256 with another secret", async () => {
      const other = await new SignJWT({ sid }).setProtectedHeader({ alg: "HS256" })
        .setSubject(userId).setIssuer(ISSUER).setAudience("busysync").setExpirationTime(exp)
        .sign(new TextEncoder().encode("another-secret-that-is-long-enough!!"));
      assert.equal(await authenticateAccessToken(deps, other), null);
    });
    await t.step("our key but another instance's issuer", async () => {
      const foreign = await new SignJWT({ sid }).setProtectedHeader({ alg: "HS256" })
        .setSubject(userId).setIssuer("https://elsewhere.example").setAudience("busysync")
        .setExpirationTime(exp).sign(SECRET);
      assert.equal(await authenticateAccessToken(deps, foreign), null);
    });
    await t.step("garbage", async () => {
      assert.equal(await authenticateAccessToken(deps, "not.a.jwt"), null);
    });
  });
});

Deno.test("session: a refresh rotates the token; the spent one works only inside the grace window", async (t) => {
  await withSessions(async (deps, clock, userId) => {
    const first = await startSession(deps, userId);
    const r1 = first.refresh!.token;

    const rotated = await refreshSession(deps, r1);
    assert.ok(rotated.ok && rotated.tokens.refresh);
    const r2 = rotated.tokens.refresh.token;
    assert.notEqual(r2, r1);

    await t.step(
      "a parallel request with the spent token within 30 s gets an access JWT only",
      async () => {
        clock.advance(20_000);
        const parallel = await refreshSession(deps, r1);
        assert.ok(parallel.ok);
        assert.equal(parallel.tokens.refresh, undefined);
        assert.ok(await authenticateAccessToken(deps, parallel.tokens.accessToken));
      },
    );

    await t.step("the spent token after the grace window revokes the whole family", async () => {
      clock.advance(15_000);
      assert.deepEqual(await refreshSession(deps, r1), { ok: false, reason: "reused" });
      assert.deepEqual(await refreshSession(deps, r2), { ok: false, reason: "invalid" });
      assert.equal(await authenticateAccessToken(deps, rotated.tokens.accessToken), null);
    });
  });
});

Deno.test("session: a token two rotations old is reuse too; a made-up one is merely invalid", async () => {
  await withSessions(async (deps, clock, userId) => {
    const r1 = (await startSession(deps, userId)).refresh!.token;
    const s2 = await refreshSession(deps, r1);
    assert.ok(s2.ok);
    const made = `${s2.tokens.sessionId}.${"A".repeat(43)}`;
    assert.deepEqual(await refreshSession(deps, made), { ok: false, reason: "invalid" });
    const s3 = await refreshSession(deps, s2.tokens.refresh!.token);
    assert.ok(s3.ok && s3.tokens.refresh);
    clock.advance(1000);
    assert.deepEqual(await refreshSession(deps, r1), { ok: false, reason: "reused" });
    assert.deepEqual(await refreshSession(deps, s3.tokens.refresh.token), {
      ok: false,
      reason: "invalid",
    });
  });
});

Deno.test("session: sign-out ends the session at once, for the access JWT and the refresh token", async () => {
  await withSessions(async (deps, _clock, userId) => {
    const issued = await startSession(deps, userId);
    assert.ok(await authenticateAccessToken(deps, issued.accessToken));
    await endSession(deps, issued.sessionId);
    assert.equal(await authenticateAccessToken(deps, issued.accessToken), null);
    assert.deepEqual(await refreshSession(deps, issued.refresh!.token), {
      ok: false,
      reason: "invalid",
    });
  });
});

Deno.test("session: an idle session ends after 30 days without a refresh", async () => {
  await withSessions(async (deps, clock, userId) => {
    const issued = await startSession(deps, userId);
    clock.advance(31 * 24 * 3600_000);
    assert.deepEqual(await refreshSession(deps, issued.refresh!.token), {
      ok: false,
      reason: "invalid",
    });
  });
});
