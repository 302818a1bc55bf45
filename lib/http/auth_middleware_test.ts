import assert from "node:assert/strict";
import { Hono } from "hono";
import { type SessionDeps, startSession } from "../auth/session.ts";
import { VerifiedTokens } from "../auth/verified_tokens.ts";
import { deleteUserRecord, upsertUserBySub } from "../db/users.ts";
import { issueApiToken } from "../auth/api_tokens.ts";
import {
  type AuthVariables,
  refuseApiTokens,
  requireUser,
  sessionAuth,
} from "./auth_middleware.ts";
import { handleError } from "./errors.ts";

async function setup() {
  const kv = await Deno.openKv(":memory:");
  let t = Date.parse("2030-01-06T09:00:00Z");
  const sessions: SessionDeps = {
    kv,
    secret: new TextEncoder().encode("middleware-test-secret-0123456789abcdef"),
    issuer: "http://busysync.test",
    now: () => new Date(t),
    verified: new VerifiedTokens(),
  };
  const { user } = await upsertUserBySub(kv, {
    issuer: "https://issuer.example",
    sub: "123",
    email: "ann@example.com",
    name: "Ann",
  }, sessions.now());
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use(sessionAuth({ sessions, secureCookies: false }));
  app.get("/who", requireUser(), (c) => c.text(c.var.user!.email));
  app.get("/api/who", requireUser(), (c) => c.text(c.var.user!.email));
  app.get("/api/session-only", requireUser(), refuseApiTokens(), (c) => c.text("ok"));
  app.onError(handleError(() => {}));
  return { kv, app, sessions, user, advance: (ms: number) => t += ms };
}

const get = (app: Hono<{ Variables: AuthVariables }>, headers: Record<string, string>) =>
  app.request("http://busysync.test/who", { headers });

Deno.test("auth middleware: a valid Bearer JWT signs the request in; cookies never join a Bearer request", async () => {
  const { kv, app, sessions, user } = await setup();
  try {
    const tokens = await startSession(sessions, user.id);
    const ok = await get(app, { authorization: `Bearer ${tokens.accessToken}` });
    assert.equal(await ok.text(), "ann@example.com");
    const mixed = await get(app, {
      authorization: "Bearer junk",
      cookie: `busysync_at=${tokens.accessToken}`,
    });
    assert.equal(mixed.status, 401);
    assert.equal((await get(app, {})).status, 401);
  } finally {
    kv.close();
  }
});

Deno.test("auth middleware: an expired access cookie is renewed from the refresh cookie in the same request", async () => {
  const { kv, app, sessions, user, advance } = await setup();
  try {
    const tokens = await startSession(sessions, user.id);
    advance(11 * 60_000);
    const res = await get(app, {
      cookie: `busysync_at=${tokens.accessToken}; busysync_rt=${tokens.refresh!.token}`,
    });
    assert.equal(res.status, 200);
    const set = res.headers.getSetCookie().join("\n");
    assert.match(set, /busysync_at=ey/);
    assert.match(set, /busysync_rt=[0-9A-Z]{26}\./);
  } finally {
    kv.close();
  }
});

Deno.test("auth middleware: a refused refresh token or a deleted user clears the cookies and stays signed out", async () => {
  const { kv, app, sessions, user, advance } = await setup();
  try {
    const tokens = await startSession(sessions, user.id);
    const bogus = await get(app, { cookie: `busysync_rt=${tokens.sessionId}.${"x".repeat(43)}` });
    assert.equal(bogus.status, 401);
    assert.match(bogus.headers.getSetCookie().join("\n"), /busysync_rt=;.*Max-Age=0/);

    await deleteUserRecord(kv, user.id);
    advance(1000);
    const gone = await get(app, { cookie: `busysync_at=${tokens.accessToken}` });
    assert.equal(gone.status, 401);
    assert.match(gone.headers.getSetCookie().join("\n"), /busysync_at=;.*Max-Age=0/);
  } finally {
    kv.close();
  }
});

Deno.test("auth middleware: an API token signs in under /api/ only, and refuseApiTokens refuses it but not a session", async () => {
  const { kv, app, sessions, user } = await setup();
  try {
    const { secret } = await issueApiToken(sessions, user.id, { name: "t", expiresInDays: 30 });
    const at = (path: string, headers: Record<string, string>) =>
      app.request(`http://busysync.test${path}`, { headers });
    const bearer = { authorization: `Bearer ${secret}` };
    assert.equal(await (await at("/api/who", bearer)).text(), "ann@example.com");
    assert.equal((await at("/who", bearer)).status, 401, "outside /api/ a token is nobody");
    const refused = await at("/api/session-only", bearer);
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, "token_not_allowed");
    const tokens = await startSession(sessions, user.id);
    const session = { authorization: `Bearer ${tokens.accessToken}` };
    assert.equal(await (await at("/api/session-only", session)).text(), "ok");
  } finally {
    kv.close();
  }
});
