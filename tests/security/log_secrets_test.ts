/**
 * Secrets never reach the logs. One run through everything that handles a secret, logged at
 * debug level into memory: sign-in, two connected accounts, a rule, syncs, a push notification,
 * a forced token refresh, a grant Google revoked (invalid_grant), Google failing with 500s (in
 * a sync, and at the token endpoint during a code exchange, whose request carried the code, the
 * PKCE verifier and the client secret), a session refresh, a personal API token (created, used,
 * refused, tampered with, revoked), a disconnect and sign-out. The actual
 * secret values are collected along the way (cookies, decrypted KV records, the emulator's
 * channels, the OAuth redirects) and none may appear in any log line, nor anything shaped like
 * a Google token or a JWT (the id_tokens cannot be collected: the app receives them server to
 * server and keeps none).
 */
import assert from "node:assert/strict";
import { until } from "../support/poll.ts";
import { listAllConnectionEntries } from "../../lib/db/connections.ts";
import { listRuns } from "../../lib/db/history.ts";
import { keys } from "../../lib/db/keys.ts";
import { OAuthStateSchema } from "../../lib/db/oauth_states.ts";
import { openAccessToken, openRefreshToken } from "../../lib/auth/connection_secrets.ts";
import { createLogger } from "../../lib/log.ts";
import { addEvent, FAST, liveChannels } from "../scheduler/support.ts";
import { ANN, ANN_WORK, CLIENT, startHarness, type TestClient } from "../support/accounts.ts";

/** The token refresh skips tokens issued within the last minute; this is past that. */
const PAST_FORCED_REFRESH_AGE_MS = 2 * 60_000;
const PAST_ACCESS_EXPIRY_MS = 11 * 60_000;

/** Shapes of the emulator's tokens (Google's own prefixes) and of any JWT (id_token, session). */
const SECRET_SHAPES: [string, RegExp][] = [
  ["a Google access token", /ya29\./],
  ["a Google refresh token", /1\/\/emu-|1%2F%2Femu-/i],
  ["an authorization code", /4\/emu-|4%2Femu-/i],
  ["a JWT", /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\./],
  ["a personal API token", /bsy_[\w-]{16,}/],
];

class Secrets {
  readonly byKind = new Map<string, Set<string>>();

  add(kind: string, value: string | undefined | null) {
    if (!value) return;
    const set = this.byKind.get(kind) ?? new Set();
    set.add(value);
    this.byKind.set(kind, set);
  }

  count(kind: string): number {
    return this.byKind.get(kind)?.size ?? 0;
  }

  /** Each value with the encodings it could be logged in (URL-encoded, base64url). */
  *forms(): Generator<[string, string]> {
    for (const [kind, values] of this.byKind) {
      for (const value of values) {
        const forms = new Set([
          value,
          encodeURIComponent(value),
          value.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
        ]);
        for (const form of forms) yield [kind, form];
      }
    }
  }
}

Deno.test("logs: no token, code, key or secret appears in any log line of a full run", async () => {
  const lines: string[] = [];
  const log = createLogger("debug", (line) => lines.push(line));
  const h = await startHarness({ BUSYSYNC_PUSH: "on" }, { serve: true, log, scheduler: FAST });
  const found = new Secrets();
  const ann = h.client("192.0.2.1");
  try {
    found.add("the OAuth client secret", CLIENT.clientSecret);
    for (const key of h.config.encryptionKeys ?? []) found.add("the encryption key", key);
    found.add("the session secret", new TextDecoder().decode(h.secrets.sessionSecret));

    /**
     * Everything secret the app, the browser and the emulator hold right now. Called after each
     * step, as refreshes and rotations replace the values.
     */
    const collect = async () => {
      for (const [name, value] of ann.cookies) {
        if (name.endsWith("busysync_at")) found.add("a session access JWT", value);
        if (name.endsWith("busysync_rt")) found.add("a session refresh token", value);
        if (name.endsWith("busysync_oauth")) found.add("an OAuth binding value", value);
      }
      for await (const { connection } of listAllConnectionEntries(h.kv)) {
        const ref = { userId: connection.userId, connectionId: connection.id };
        const tokens = connection.tokens;
        if (!tokens) continue;
        found.add("a Google refresh token", await openRefreshToken(h.secrets.keyring, ref, tokens));
        found.add("a Google access token", await openAccessToken(h.secrets.keyring, ref, tokens));
      }
      for (const channel of await liveChannels(h)) found.add("a push channel token", channel.token);
    };

    /** Google's side of a flow, remembering the PKCE verifier and the code it carries. */
    const throughGoogle = async (browser: TestClient, authUrl: string, email: string) => {
      const state = new URL(authUrl).searchParams.get("state")!;
      const pending = OAuthStateSchema.parse((await h.kv.get(keys.oauthState(state))).value);
      found.add("a PKCE code verifier", pending.codeVerifier);
      const back = await browser.authorizeAtGoogle(authUrl, email);
      found.add("an authorization code", back.searchParams.get("code"));
      return await browser.request(`${back.pathname}${back.search}`);
    };
    const connect = async (
      browser: TestClient,
      email: string,
      path = "/api/user/calendars/connect",
    ) => {
      const start = await browser.request(path, { method: "POST", json: {} });
      assert.equal(start.status, 200);
      return await throughGoogle(browser, (await start.json()).url, email);
    };
    const syncNow = async (browser: TestClient) => {
      // A fresh rate-limit window each time: this test is not about the limit.
      h.clock.advance(60_000);
      const res = await browser.request("/api/sync?wait=true", { method: "POST", json: {} });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()).run as { outcome: string };
    };

    const login = await ann.request("/api/auth/login");
    assert.equal((await throughGoogle(ann, login.headers.get("location")!, ANN)).status, 303);
    assert.equal((await connect(ann, ANN)).status, 303);
    assert.equal((await connect(ann, ANN_WORK)).status, 303);
    const userId = (await (await ann.request("/api/me")).json()).id as string;
    const byEmail = new Map((await ann.connections()).map((c) => [c.email, c.id]));
    await collect();

    const rule = await ann.request("/api/rules", {
      method: "POST",
      json: {
        name: "Personal into work",
        source: { connectionId: byEmail.get(ANN), calendarId: ANN },
        target: { connectionId: byEmail.get(ANN_WORK), calendarId: ANN_WORK },
      },
    });
    assert.equal(rule.status, 201);
    await addEvent(h, ANN, "Dentist");
    assert.equal((await syncNow(ann)).outcome, "ok");
    await until("the push channel", async () => (await liveChannels(h)).length > 0);
    await collect();

    // Google's notification carries the channel token to the webhook.
    await addEvent(h, ANN, "Lunch", 12);
    await until(
      "a push-triggered run",
      async () =>
        (await listRuns(h.kv, userId, { limit: 50 })).items.some((r) => r.trigger === "push"),
    );

    // Google expires every access token early: the next calls refresh them.
    const accessBefore = found.count("a Google access token");
    h.clock.advance(PAST_FORCED_REFRESH_AGE_MS);
    await h.admin("tokens/expire");
    await addEvent(h, ANN, "Call", 10);
    assert.equal((await syncNow(ann)).outcome, "ok");
    await collect();
    assert.ok(found.count("a Google access token") > accessBefore, "the tokens were refreshed");

    // Google answers one list with a 500; the retry succeeds.
    await h.admin("faults", { method: "events.list", fault: "backendError", times: 1 });
    assert.equal((await syncNow(ann)).outcome, "ok");

    // The token endpoint fails through a whole code exchange: the flow answers 502.
    await h.admin("faults", { method: "oauth.token", fault: "backendError" });
    assert.equal((await connect(ann, ANN_WORK)).status, 502);
    await h.admin("faults", undefined, "DELETE");

    // The work account's grant is revoked at Google: invalid_grant on the next refresh.
    h.clock.advance(PAST_FORCED_REFRESH_AGE_MS);
    await h.admin("tokens/revoke", { email: ANN_WORK });
    // A new source event, so the run has to write into the work calendar.
    await addEvent(h, ANN, "Gym", 15);
    assert.notEqual((await syncNow(ann)).outcome, "ok");
    const work = (await ann.connections()).find((c) => c.email === ANN_WORK)!;
    assert.equal(work.status, "needs_reconnect");
    const reconnect = `/api/user/connections/${work.id}/reconnect`;
    assert.equal((await connect(ann, ANN_WORK, reconnect)).status, 303);
    await collect();
    assert.equal((await syncNow(ann)).outcome, "ok");

    // Sessions: an explicit refresh (a Bearer token in the body), then a silent one.
    const refreshed = await ann.request("/api/auth/refresh", { method: "POST" });
    assert.equal(refreshed.status, 200);
    found.add("a session access JWT", (await refreshed.json()).accessToken);
    await collect();
    h.clock.advance(PAST_ACCESS_EXPIRY_MS);
    assert.equal((await ann.request("/api/status")).status, 200);
    await collect();

    // A personal API token: created, used, refused a session-only route, tampered with, revoked.
    const created = await ann.request("/api/me/tokens", {
      method: "POST",
      json: { name: "log check", expiresInDays: 30 },
    });
    assert.equal(created.status, 201);
    const apiToken = await created.json() as { id: string; token: string };
    found.add("a personal API token", apiToken.token);
    const tampered = `${apiToken.token.slice(0, -2)}xx`;
    found.add("a tampered API token", tampered);
    const scripted = (token: string, path: string, method = "GET") =>
      h.app.request(`${h.config.publicUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: method === "GET" ? undefined : "{}",
      });
    assert.equal((await scripted(apiToken.token, "/api/status")).status, 200);
    assert.equal((await scripted(apiToken.token, "/api/me/tokens", "POST")).status, 403);
    assert.equal((await scripted(tampered, "/api/status")).status, 401);
    assert.equal(
      (await ann.request(`/api/me/tokens/${apiToken.id}`, { method: "DELETE" })).status,
      204,
    );
    assert.equal((await scripted(apiToken.token, "/api/status")).status, 401);

    const gone = await ann.request(`/api/user/connections/${byEmail.get(ANN)}`, {
      method: "DELETE",
    });
    assert.equal(gone.status, 200);
    assert.equal((await ann.request("/api/auth/logout", { method: "POST" })).status, 204);
    await collect();

    const messages = new Set(lines.map((line) => JSON.parse(line).msg));
    for (
      const expected of [
        "push: channel opened",
        "sync: run finished",
        "sync: rule failed",
        "OAuth code exchange failed",
      ]
    ) {
      assert.ok(messages.has(expected), `"${expected}" was logged: ${[...messages].join(" | ")}`);
    }
    for (
      const [kind, atLeast] of [
        ["a Google access token", 5],
        ["a Google refresh token", 3],
        ["an authorization code", 5],
        ["a PKCE code verifier", 5],
        ["a session access JWT", 3],
        ["a session refresh token", 2],
        ["a push channel token", 1],
        ["a personal API token", 1],
      ] as const
    ) {
      assert.ok(found.count(kind) >= atLeast, `${kind}: only ${found.count(kind)} collected`);
    }

    for (const [kind, form] of found.forms()) {
      const hit = lines.find((line) => line.includes(form));
      assert.equal(hit, undefined, `${kind} is in the log: ${hit}`);
    }
    for (const [kind, shape] of SECRET_SHAPES) {
      const hit = lines.find((line) => shape.test(line));
      assert.equal(hit, undefined, `${kind} is in the log: ${hit}`);
    }
  } finally {
    await h.close();
  }
});
