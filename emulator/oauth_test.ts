/**
 * The OAuth emulator driven the way the app drives Google: the real google-auth-library
 * OAuth2Client for the back channel, plain fetch for the pages, over a loopback port.
 */
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  ClientAuthentication,
  CodeChallengeMethod,
  type GenerateAuthUrlOpts,
  OAuth2Client,
} from "google-auth-library";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { type EmulatorClient, type EmulatorUser, OAuthServer } from "./oauth.ts";

const REDIRECT_URI = "http://127.0.0.1:8000/auth/google/callback";
const CLIENT: EmulatorClient = {
  clientId: "busysync-test.apps.googleusercontent.com",
  clientSecret: "GOCSPX-test-secret",
  redirectUris: [REDIRECT_URI],
};
const ALICE: EmulatorUser = {
  sub: "104729000000000000001",
  email: "alice@example.com",
  name: "Alice Example",
};
const MALLORY: EmulatorUser = {
  sub: "104729000000000000002",
  email: "mallory@example.com",
  name: `Mallory <script>"&'</script>`,
};
const CALENDAR = "https://www.googleapis.com/auth/calendar";
const EMAIL = "https://www.googleapis.com/auth/userinfo.email";
const PROFILE = "https://www.googleapis.com/auth/userinfo.profile";
const TTL_SECONDS = 3600;

/** An emulator on an ephemeral port with ALICE, MALLORY and CLIENT seeded, and a settable clock. */
function startEmulator() {
  const clock = { ms: Date.now() };
  let issuer = "";
  const oauth = new OAuthServer({
    issuer: () => issuer,
    accessTokenTtlSeconds: TTL_SECONDS,
    now: () => clock.ms,
  });
  oauth.addClient(CLIENT);
  oauth.addUser(ALICE);
  oauth.addUser(MALLORY);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    oauth.routes().fetch,
  );
  issuer = `http://127.0.0.1:${server.addr.port}`;
  /** A real OAuth2Client pointed at the emulator, as notes §8 describes. */
  const google = (auth: Partial<Pick<EmulatorClient, "clientId" | "clientSecret">> = {}) =>
    new OAuth2Client({
      clientId: auth.clientId ?? CLIENT.clientId,
      clientSecret: auth.clientSecret ?? CLIENT.clientSecret,
      redirectUri: REDIRECT_URI,
      endpoints: {
        oauth2AuthBaseUrl: `${issuer}/o/oauth2/v2/auth`,
        oauth2TokenUrl: `${issuer}/token`,
        oauth2RevokeUrl: `${issuer}/revoke`,
      },
    });
  return { oauth, clock, issuer, google, [Symbol.asyncDispose]: () => server.shutdown() };
}

type Emulator = ReturnType<typeof startEmulator>;

/** Follows one authorization URL without a browser and returns where it redirected to. */
async function redirectOf(url: string, init?: RequestInit): Promise<URL> {
  const res = await fetch(url, { ...init, redirect: "manual" });
  await res.body?.cancel();
  equal(res.status, 302);
  return new URL(res.headers.get("Location")!);
}

/** Signs ALICE in through login_hint and returns the callback's query. */
async function authorize(
  emu: Emulator,
  opts: GenerateAuthUrlOpts = {},
): Promise<URLSearchParams> {
  const url = emu.google().generateAuthUrl({
    scope: ["openid", "email", "profile", CALENDAR],
    state: "state-123",
    login_hint: ALICE.email,
    ...opts,
  });
  return (await redirectOf(url)).searchParams;
}

/** The token endpoint's error for a call expected to fail, as gaxios reports it. */
async function failureOf(call: Promise<unknown>): Promise<{ status?: number; error?: string }> {
  try {
    await call;
  } catch (e) {
    const err = e as { status?: number; response?: { data?: { error?: string } } };
    return { status: err.status, error: err.response?.data?.error };
  }
  throw new Error("expected the call to fail");
}

const HTML_ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
};
const unescapeHtml = (s: string) => s.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => HTML_ENTITIES[e]);

/** What submitting the chooser's form with one button pressed sends, as a browser would. */
function formSubmission(page: string, button: [string, string]): URLSearchParams {
  const form = new URLSearchParams();
  for (const m of page.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.append(unescapeHtml(m[1]), unescapeHtml(m[2]));
  }
  form.append(...button);
  return form;
}

Deno.test("oauth discovery: the document and JWKS point every endpoint at the issuer", async () => {
  await using emu = startEmulator();
  const doc = await (await fetch(`${emu.issuer}/.well-known/openid-configuration`)).json();
  equal(doc.issuer, emu.issuer);
  equal(doc.authorization_endpoint, `${emu.issuer}/o/oauth2/v2/auth`);
  equal(doc.token_endpoint, `${emu.issuer}/token`);
  equal(doc.revocation_endpoint, `${emu.issuer}/revoke`);
  equal(doc.userinfo_endpoint, `${emu.issuer}/v1/userinfo`);
  deepEqual(doc.id_token_signing_alg_values_supported, ["RS256"]);
  deepEqual(doc.code_challenge_methods_supported, ["plain", "S256"]);
  deepEqual(doc.grant_types_supported, ["authorization_code", "refresh_token"]);
  const jwks = await (await fetch(doc.jwks_uri)).json();
  equal(jwks.keys.length, 1);
  const [key] = jwks.keys;
  deepEqual([key.kty, key.alg, key.use, typeof key.kid], ["RSA", "RS256", "sig", "string"]);
  equal(key.d, undefined, "the JWKS must not leak the private exponent");
});

Deno.test("oauth authorize: a login_hint naming a seeded user skips the chooser", async () => {
  await using emu = startEmulator();
  const url = emu.google().generateAuthUrl({
    scope: ["openid", "email", CALENDAR],
    state: "s/1 2",
    login_hint: ALICE.email,
  });
  const callback = await redirectOf(url);
  equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  match(callback.searchParams.get("code")!, /^4\/emu-/);
  equal(callback.searchParams.get("state"), "s/1 2");
  // Google reports the short email scope under its long name.
  equal(callback.searchParams.get("scope"), `openid ${EMAIL} ${CALENDAR}`);
});

Deno.test("oauth chooser: the account page lists users and answers with a code or a refusal", async (t) => {
  await using emu = startEmulator();
  const { codeVerifier, codeChallenge } = await emu.google().generateCodeVerifierAsync();
  const authUrl = emu.google().generateAuthUrl({
    scope: ["openid", "email", CALENDAR],
    state: "xyz",
    code_challenge: codeChallenge,
    code_challenge_method: CodeChallengeMethod.S256,
  });
  const res = await fetch(authUrl);
  const page = await res.text();

  await t.step("every seeded user is a button carrying its email, with names escaped", () => {
    equal(res.status, 200);
    match(res.headers.get("Content-Type")!, /^text\/html/);
    for (const user of [ALICE, MALLORY]) {
      const button = new RegExp(`data-email="${user.email}"\\s*>[^]*?${user.email}[^]*?</button>`);
      match(page, button);
    }
    ok(page.includes("Mallory &lt;script&gt;&quot;&amp;&#39;&lt;/script&gt;"));
    ok(!page.includes("<script"), "no script: the page works without JavaScript");
    ok(!/\b(?:src|href)=/.test(page), "no external assets");
  });

  await t.step(
    "choosing an account redirects with a code that OAuth2Client can exchange",
    async () => {
      const callback = await redirectOf(`${emu.issuer}/o/oauth2/v2/auth/approve`, {
        method: "POST",
        body: formSubmission(page, ["email", ALICE.email]),
      });
      equal(callback.searchParams.get("state"), "xyz");
      const { tokens } = await emu.google().getToken({
        code: callback.searchParams.get("code")!,
        codeVerifier,
      });
      equal(emu.oauth.verifyAccessToken(tokens.access_token!)?.email, ALICE.email);
    },
  );

  await t.step("Cancel redirects with access_denied and the state, and no code", async () => {
    const callback = await redirectOf(`${emu.issuer}/o/oauth2/v2/auth/approve`, {
      method: "POST",
      body: formSubmission(page, ["cancel", "1"]),
    });
    equal(callback.searchParams.get("error"), "access_denied");
    equal(callback.searchParams.get("state"), "xyz");
    equal(callback.searchParams.get("code"), null);
  });
});

Deno.test("oauth authorize: a bad request gets an error page and never a redirect", async (t) => {
  await using emu = startEmulator();
  const cases: [string, Record<string, string>, number, string][] = [
    ["an unknown client", { client_id: "nobody" }, 401, "invalid_client"],
    [
      "an unregistered redirect_uri",
      { redirect_uri: "https://evil.example/cb" },
      400,
      "redirect_uri_mismatch",
    ],
    ["a missing scope", { scope: "" }, 400, "invalid_request"],
    ["an unknown code_challenge_method", { code_challenge_method: "S512" }, 400, "invalid_request"],
  ];
  for (const [situation, override, status, error] of cases) {
    await t.step(`${situation} → ${status} ${error}`, async () => {
      const params = new URLSearchParams({
        client_id: CLIENT.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: "code",
        scope: "openid",
        code_challenge: "a".repeat(43),
        ...override,
      });
      const res = await fetch(`${emu.issuer}/o/oauth2/v2/auth?${params}`, { redirect: "manual" });
      equal(res.status, status);
      equal(res.headers.get("Location"), null);
      match(await res.text(), new RegExp(`data-error="${error}"`));
    });
  }
});

Deno.test("oauth token: a PKCE S256 code exchange returns Bearer tokens for the granted scopes", async () => {
  await using emu = startEmulator();
  const client = emu.google();
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const callback = await authorize(emu, {
    access_type: "offline",
    code_challenge: codeChallenge,
    code_challenge_method: CodeChallengeMethod.S256,
  });
  const { tokens } = await client.getToken({ code: callback.get("code")!, codeVerifier });
  match(tokens.access_token!, /^ya29\.emu-/);
  match(tokens.refresh_token!, /^1\/\/emu-/);
  equal(tokens.token_type, "Bearer");
  equal(tokens.scope, `openid ${EMAIL} ${PROFILE} ${CALENDAR}`);
  ok(tokens.id_token);
  deepEqual(emu.oauth.verifyAccessToken(tokens.access_token!), {
    sub: ALICE.sub,
    email: ALICE.email,
    scopes: ["openid", EMAIL, PROFILE, CALENDAR],
    clientId: CLIENT.clientId,
  });
});

Deno.test("oauth token: an exchange that breaks the authorization's terms fails as Google's does", async (t) => {
  await using emu = startEmulator();
  const pkceCode = async () => {
    const { codeVerifier, codeChallenge } = await emu.google().generateCodeVerifierAsync();
    const callback = await authorize(emu, {
      code_challenge: codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
    });
    return { code: callback.get("code")!, codeVerifier };
  };

  await t.step("a wrong PKCE verifier → 400 invalid_grant", async () => {
    const { code } = await pkceCode();
    const { codeVerifier: wrong } = await emu.google().generateCodeVerifierAsync();
    deepEqual(await failureOf(emu.google().getToken({ code, codeVerifier: wrong })), {
      status: 400,
      error: "invalid_grant",
    });
  });

  await t.step("a missing PKCE verifier → 400 invalid_grant", async () => {
    const { code } = await pkceCode();
    deepEqual(await failureOf(emu.google().getToken({ code })), {
      status: 400,
      error: "invalid_grant",
    });
  });

  await t.step(
    "a redirect_uri other than the authorization's → 400 redirect_uri_mismatch",
    async () => {
      const { code, codeVerifier } = await pkceCode();
      const call = emu.google().getToken({
        code,
        codeVerifier,
        redirect_uri: "http://127.0.0.1:8000/other",
      });
      deepEqual(await failureOf(call), { status: 400, error: "redirect_uri_mismatch" });
    },
  );

  await t.step("a code used twice → 400 invalid_grant the second time", async () => {
    const { code, codeVerifier } = await pkceCode();
    await emu.google().getToken({ code, codeVerifier });
    deepEqual(await failureOf(emu.google().getToken({ code, codeVerifier })), {
      status: 400,
      error: "invalid_grant",
    });
  });

  await t.step("a code older than ten minutes → 400 invalid_grant", async () => {
    const { code, codeVerifier } = await pkceCode();
    emu.clock.ms += 10 * 60_000 + 1;
    deepEqual(await failureOf(emu.google().getToken({ code, codeVerifier })), {
      status: 400,
      error: "invalid_grant",
    });
  });

  await t.step("an unknown client or a wrong secret → 401 invalid_client", async () => {
    const { code, codeVerifier } = await pkceCode();
    const stranger = emu.google({ clientId: "stranger.apps.googleusercontent.com" });
    deepEqual(await failureOf(stranger.getToken({ code, codeVerifier })), {
      status: 401,
      error: "invalid_client",
    });
    const wrongSecret = emu.google({ clientSecret: "guessed" });
    deepEqual(await failureOf(wrongSecret.getToken({ code, codeVerifier })), {
      status: 401,
      error: "invalid_client",
    });
  });

  await t.step("an unknown grant_type → 400 unsupported_grant_type", async () => {
    const res = await fetch(`${emu.issuer}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "password",
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      }),
    });
    equal(res.status, 400);
    equal((await res.json()).error, "unsupported_grant_type");
  });

  await t.step("client credentials in HTTP Basic are accepted like those in the body", async () => {
    const { code, codeVerifier } = await pkceCode();
    const client = new OAuth2Client({
      clientId: CLIENT.clientId,
      clientSecret: CLIENT.clientSecret,
      redirectUri: REDIRECT_URI,
      clientAuthentication: ClientAuthentication.ClientSecretBasic,
      endpoints: { oauth2TokenUrl: `${emu.issuer}/token` },
    });
    const { tokens } = await client.getToken({ code, codeVerifier });
    ok(emu.oauth.verifyAccessToken(tokens.access_token!));
  });
});

Deno.test("oauth offline access: a refresh token comes only with access_type=offline and consent", async (t) => {
  await using emu = startEmulator();
  const exchange = async (opts: Parameters<typeof authorize>[1]) => {
    const callback = await authorize(emu, opts);
    return (await emu.google().getToken(callback.get("code")!)).tokens;
  };

  await t.step("online access → no refresh token", async () => {
    equal((await exchange({})).refresh_token, undefined);
  });
  await t.step("first offline grant → a refresh token", async () => {
    ok((await exchange({ access_type: "offline" })).refresh_token);
  });
  await t.step("offline again without prompt=consent → none, as Google does", async () => {
    equal((await exchange({ access_type: "offline" })).refresh_token, undefined);
  });
  await t.step("offline with prompt=consent → a new refresh token", async () => {
    ok((await exchange({ access_type: "offline", prompt: "consent" })).refresh_token);
  });
  await t.step("include_granted_scopes adds earlier grants to a narrower request", async () => {
    const callback = await authorize(emu, { scope: [CALENDAR], include_granted_scopes: true });
    equal(callback.get("scope"), `openid ${EMAIL} ${PROFILE} ${CALENDAR}`);
  });
});

Deno.test("oauth offline access: sign-in and calendar scopes in one consent, as busysync's first sign-in asks", async (t) => {
  await using emu = startEmulator();
  const firstSignIn: GenerateAuthUrlOpts = {
    scope: ["openid", "email", "profile", CALENDAR],
    access_type: "offline",
    prompt: "select_account consent",
    include_granted_scopes: true,
  };
  await t.step(
    "one code carries both kinds of scope, an id_token and a refresh token",
    async () => {
      const callback = await authorize(emu, firstSignIn);
      equal(callback.get("scope"), `openid ${EMAIL} ${PROFILE} ${CALENDAR}`);
      const { tokens } = await emu.google().getToken(callback.get("code")!);
      ok(tokens.refresh_token);
      ok(tokens.id_token);
    },
  );
  await t.step(
    "asked again with prompt consent: another refresh token, as Google does",
    async () => {
      const callback = await authorize(emu, firstSignIn);
      ok((await emu.google().getToken(callback.get("code")!)).tokens.refresh_token);
    },
  );
  await t.step(
    "a later sign-in-only request mints none, and include_granted_scopes keeps the calendar",
    async () => {
      const callback = await authorize(emu, {
        scope: ["openid", "email", "profile"],
        include_granted_scopes: true,
      });
      equal(callback.get("scope"), `openid ${EMAIL} ${PROFILE} ${CALENDAR}`);
      equal((await emu.google().getToken(callback.get("code")!)).tokens.refresh_token, undefined);
    },
  );
});

Deno.test("oauth refresh tokens: the 101st of one account and client silently ends the oldest", async () => {
  await using emu = startEmulator();
  const mint = async () => {
    const callback = await authorize(emu, { access_type: "offline", prompt: "consent" });
    return (await emu.google().getToken(callback.get("code")!)).tokens.refresh_token!;
  };
  const first = await mint();
  const second = await mint();
  for (let i = 2; i < 100; i++) await mint();
  const refreshes = async (token: string) => {
    const res = await fetch(`${emu.issuer}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: token,
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      }),
    });
    await res.body?.cancel();
    return res.status;
  };
  equal(await refreshes(first), 200, "100 live tokens: all work");
  await mint();
  equal(await refreshes(first), 400, "the oldest is gone (invalid_grant)");
  equal(await refreshes(second), 200);
});

Deno.test("oauth refresh: OAuth2Client refreshes an expired access token; the old one stops working", async (t) => {
  await using emu = startEmulator();
  const client = emu.google();
  const callback = await authorize(emu, { access_type: "offline" });
  const { tokens } = await client.getToken(callback.get("code")!);
  const first = tokens.access_token!;

  await t.step("after the TTL on the emulator's clock the access token is rejected", () => {
    ok(emu.oauth.verifyAccessToken(first));
    emu.clock.ms += TTL_SECONDS * 1000;
    equal(emu.oauth.verifyAccessToken(first), null);
  });

  await t.step(
    "OAuth2Client refreshes by itself and gets a token with the same scopes",
    async () => {
      client.setCredentials({ ...tokens, expiry_date: Date.now() - 1000 });
      const { token } = await client.getAccessToken();
      ok(token && token !== first);
      deepEqual(emu.oauth.verifyAccessToken(token)?.scopes, ["openid", EMAIL, PROFILE, CALENDAR]);
      equal(client.credentials.refresh_token, tokens.refresh_token);
    },
  );

  await t.step(
    "the refresh response carries no refresh token: Google does not rotate it",
    async () => {
      const res = await fetch(`${emu.issuer}/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: tokens.refresh_token!,
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
        }),
      });
      const body = await res.json();
      equal(res.status, 200);
      deepEqual(Object.keys(body).sort(), [
        "access_token",
        "expires_in",
        "id_token",
        "scope",
        "token_type",
      ]);
      equal(res.headers.get("Cache-Control"), "no-store");
    },
  );

  await t.step("expireAccessTokens() expires every token without moving the clock", () => {
    const token = client.credentials.access_token!;
    ok(emu.oauth.verifyAccessToken(token));
    emu.oauth.expireAccessTokens();
    equal(emu.oauth.verifyAccessToken(token), null);
  });
});

Deno.test("oauth revoke: revoked tokens stop working and unknown ones get 400", async (t) => {
  await using emu = startEmulator();
  const offlineTokens = async () => {
    const callback = await authorize(emu, { access_type: "offline", prompt: "consent" });
    return (await emu.google().getToken(callback.get("code")!)).tokens;
  };

  await t.step("a revoked refresh token → 400 invalid_grant on refresh", async () => {
    const tokens = await offlineTokens();
    const client = emu.google();
    await client.revokeToken(tokens.refresh_token!);
    equal(emu.oauth.verifyAccessToken(tokens.access_token!), null, "its access token died too");
    client.setCredentials({ refresh_token: tokens.refresh_token, expiry_date: Date.now() - 1 });
    deepEqual(await failureOf(client.getAccessToken()), { status: 400, error: "invalid_grant" });
  });

  await t.step(
    "revoking an access token also revokes its refresh token, as Google does",
    async () => {
      const tokens = await offlineTokens();
      const res = await fetch(`${emu.issuer}/revoke`, {
        method: "POST",
        body: new URLSearchParams({ token: tokens.access_token! }),
      });
      equal(res.status, 200);
      deepEqual(await res.json(), {});
      equal(emu.oauth.revokeRefreshToken(tokens.refresh_token!), false);
    },
  );

  await t.step("an unknown token → 400 invalid_token", async () => {
    deepEqual(await failureOf(emu.google().revokeToken("ya29.never-issued")), {
      status: 400,
      error: "invalid_token",
    });
  });
});

Deno.test("oauth id_token: verifies against the JWKS with issuer, audience, nonce and expiry", async (t) => {
  await using emu = startEmulator();
  const callback = await authorize(emu, { nonce: "n-0S6_WzA2Mj" });
  const { tokens } = await emu.google().getToken(callback.get("code")!);
  const jwks: JSONWebKeySet = await (await fetch(`${emu.issuer}/oauth2/v3/certs`)).json();
  const keys = createLocalJWKSet(jwks);
  const expected = { issuer: emu.issuer, audience: CLIENT.clientId };

  await t.step("signature, iss, aud and claims check out", async () => {
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, keys, {
      ...expected,
      currentDate: new Date(emu.clock.ms),
    });
    equal(protectedHeader.alg, "RS256");
    equal(protectedHeader.kid, jwks.keys[0].kid);
    equal(payload.sub, ALICE.sub);
    equal(payload.azp, CLIENT.clientId);
    equal(payload.email, ALICE.email);
    equal(payload.email_verified, true);
    equal(payload.name, ALICE.name);
    equal(payload.nonce, "n-0S6_WzA2Mj");
    equal(payload.exp! - payload.iat!, 3600);
    equal(payload.iat, Math.floor(emu.clock.ms / 1000));
    ok(payload.at_hash);
  });

  await t.step("an hour later it has expired", async () => {
    const later = new Date(emu.clock.ms + 3601_000);
    const failure = await jwtVerify(tokens.id_token!, keys, { ...expected, currentDate: later })
      .then(() => undefined, (e: { code?: string }) => e.code);
    equal(failure, "ERR_JWT_EXPIRED");
  });

  await t.step("without the email and profile scopes it carries neither", async () => {
    const narrow = await authorize(emu, { scope: ["openid", CALENDAR] });
    const { tokens: t2 } = await emu.google().getToken(narrow.get("code")!);
    equal(decodeProtectedHeader(t2.id_token!).kid, jwks.keys[0].kid);
    const { payload } = await jwtVerify(t2.id_token!, keys, {
      ...expected,
      currentDate: new Date(emu.clock.ms),
    });
    deepEqual([payload.email, payload.name], [undefined, undefined]);
  });

  await t.step("no openid scope, no id_token", async () => {
    const noOpenid = await authorize(emu, { scope: [CALENDAR] });
    equal((await emu.google().getToken(noOpenid.get("code")!)).tokens.id_token, undefined);
  });
});

Deno.test("oauth userinfo: a live Bearer token returns the user's claims; others get 401", async (t) => {
  await using emu = startEmulator();
  const callback = await authorize(emu);
  const { tokens } = await emu.google().getToken(callback.get("code")!);
  const userinfo = (token: string) =>
    fetch(`${emu.issuer}/v1/userinfo`, { headers: { Authorization: `Bearer ${token}` } });

  await t.step("a live token → sub, email, email_verified, name", async () => {
    const res = await userinfo(tokens.access_token!);
    equal(res.status, 200);
    deepEqual(await res.json(), {
      sub: ALICE.sub,
      email: ALICE.email,
      email_verified: true,
      name: ALICE.name,
    });
  });

  await t.step("an unknown or expired token → 401", async () => {
    const unknown = await userinfo("ya29.never-issued");
    equal(unknown.status, 401);
    match(unknown.headers.get("WWW-Authenticate")!, /invalid_token/);
    await unknown.body?.cancel();
    emu.clock.ms += TTL_SECONDS * 1000;
    const expired = await userinfo(tokens.access_token!);
    equal(expired.status, 401);
    await expired.body?.cancel();
  });
});

Deno.test("oauth admin: issued tokens work until revokeAllFor or reset", async (t) => {
  await using emu = startEmulator();

  await t.step(
    "issueTokens grants scopes without a page, and the refresh token works",
    async () => {
      const issued = emu.oauth.issueTokens(ALICE.email, [CALENDAR], CLIENT.clientId);
      equal(issued.expires_in, TTL_SECONDS);
      deepEqual(emu.oauth.verifyAccessToken(issued.access_token)?.scopes, [CALENDAR]);
      const client = emu.google();
      client.setCredentials({ refresh_token: issued.refresh_token, expiry_date: Date.now() - 1 });
      ok(emu.oauth.verifyAccessToken((await client.getAccessToken()).token!));
    },
  );

  await t.step("a refresh token used by another client → 401 unauthorized_client", async () => {
    emu.oauth.addClient({ clientId: "other", clientSecret: "other-secret" });
    const issued = emu.oauth.issueTokens(ALICE.email, [CALENDAR], CLIENT.clientId);
    const other = emu.google({ clientId: "other", clientSecret: "other-secret" });
    other.setCredentials({ refresh_token: issued.refresh_token, expiry_date: Date.now() - 1 });
    deepEqual(await failureOf(other.getAccessToken()), {
      status: 401,
      error: "unauthorized_client",
    });
  });

  await t.step("revokeAllFor kills every token of that user and only that user", () => {
    const carol = { sub: "104729000000000000003", email: "carol@example.com", name: "Carol" };
    emu.oauth.addUser(carol);
    const hers = [1, 2].map(() => emu.oauth.issueTokens(carol.email, [CALENDAR], CLIENT.clientId));
    const alices = emu.oauth.issueTokens(ALICE.email, [CALENDAR], CLIENT.clientId);
    equal(emu.oauth.revokeAllFor(carol.email), 4, "two refresh and two access tokens");
    for (const t of hers) equal(emu.oauth.verifyAccessToken(t.access_token), null);
    equal(emu.oauth.revokeRefreshToken(hers[0].refresh_token), false);
    ok(emu.oauth.verifyAccessToken(alices.access_token));
  });

  await t.step("reset drops users and clients, and issueTokens then refuses", async () => {
    emu.oauth.reset();
    deepEqual(emu.oauth.listUsers(), []);
    throws(() => emu.oauth.issueTokens(ALICE.email, [CALENDAR], CLIENT.clientId));
    const discovery = await fetch(`${emu.issuer}/.well-known/openid-configuration`);
    equal(discovery.status, 200, "the routes still answer");
    await discovery.body?.cancel();
  });
});
