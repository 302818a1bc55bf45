/**
 * The provider behaviours a standard OpenID client must cope with, driven through the admin API:
 * key rotation, several audiences, Workspace `hd`, `iss` on authorization responses (RFC 9207),
 * optional discovery fields, and revocation that ends a whole grant.
 */
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { OAuth2Client } from "google-auth-library";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { ALICE, aSeed, BOB, startHarness, TEST_CLIENT } from "./test_support.ts";

const REDIRECT = "http://127.0.0.1:9/callback";
const OTHER_CLIENT = { clientId: "other-client", clientSecret: "other-secret" };

function seed() {
  const s = aSeed();
  s.clients = [TEST_CLIENT, OTHER_CLIENT];
  s.users[1] = { ...s.users[1], hd: "example.com" };
  return s;
}

function oauthClient(url: string, client = TEST_CLIENT) {
  return new OAuth2Client({
    ...client,
    redirectUri: REDIRECT,
    endpoints: {
      oauth2AuthBaseUrl: `${url}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${url}/token`,
      oauth2RevokeUrl: `${url}/revoke`,
    },
  });
}

/** Authorizes `email` through login_hint; returns the callback's query. */
async function authorize(url: string, email: string, client = TEST_CLIENT) {
  const auth = oauthClient(url, client).generateAuthUrl({
    scope: ["openid", "email", "https://www.googleapis.com/auth/calendar"],
    login_hint: email,
    access_type: "offline",
    prompt: "consent",
    state: "s",
  });
  const res = await fetch(auth, { redirect: "manual" });
  await res.body?.cancel();
  equal(res.status, 302);
  return new URL(res.headers.get("location")!).searchParams;
}

async function tokensFor(url: string, email: string, client = TEST_CLIENT) {
  const query = await authorize(url, email, client);
  return (await oauthClient(url, client).getToken(query.get("code")!)).tokens;
}

Deno.test("oauth provider: a rotated key signs new id_tokens and is the only key in the JWKS", async () => {
  await using h = startHarness(seed());
  const before = await tokensFor(h.url, ALICE);
  const { kid } = await h.admin<{ kid: string }>("POST", "oauth/keys/rotate");
  const after = await tokensFor(h.url, ALICE);
  equal(decodeProtectedHeader(after.id_token!).kid, kid);
  notEqual(decodeProtectedHeader(before.id_token!).kid, kid);
  const jwks = await (await fetch(`${h.url}/oauth2/v3/certs`)).json();
  deepEqual(jwks.keys.map((k: { kid: string }) => k.kid), [kid]);
  const keys = createRemoteJWKSet(new URL(`${h.url}/oauth2/v3/certs`));
  const at = new Date(decodeJwt(after.id_token!).iat! * 1000);
  await jwtVerify(after.id_token!, keys, { currentDate: at });
  const old = await jwtVerify(before.id_token!, keys, { currentDate: at }).catch((e) => e.code);
  equal(old, "ERR_JWKS_NO_MATCHING_KEY", "the old key is gone");
  const status = await h.admin<{ jwksRequests: number }>("GET", "oauth/keys");
  ok(status.jwksRequests >= 2, "JWKS fetches are counted");
});

Deno.test("oauth provider: id_tokens can be addressed to several audiences, with or without azp", async () => {
  await using h = startHarness(seed());
  equal(decodeJwt((await tokensFor(h.url, ALICE)).id_token!).aud, TEST_CLIENT.clientId);
  await h.admin("POST", "oauth/id-token-audience", {
    clientId: TEST_CLIENT.clientId,
    extraAudiences: ["someone-else"],
  });
  let claims = decodeJwt((await tokensFor(h.url, ALICE)).id_token!);
  deepEqual(claims.aud, [TEST_CLIENT.clientId, "someone-else"]);
  equal(claims.azp, TEST_CLIENT.clientId);
  await h.admin("POST", "oauth/id-token-audience", {
    clientId: TEST_CLIENT.clientId,
    extraAudiences: ["someone-else"],
    azp: null,
  });
  claims = decodeJwt((await tokensFor(h.url, ALICE)).id_token!);
  equal("azp" in claims, false);
  equal(
    decodeJwt((await tokensFor(h.url, ALICE, OTHER_CLIENT)).id_token!).aud,
    OTHER_CLIENT.clientId,
    "other clients are untouched",
  );
});

Deno.test("oauth provider: a Workspace account's id_token carries hd, a consumer account's none", async () => {
  await using h = startHarness(seed());
  equal(decodeJwt((await tokensFor(h.url, BOB)).id_token!).hd, "example.com");
  equal("hd" in decodeJwt((await tokensFor(h.url, ALICE)).id_token!), false);
});

Deno.test("oauth provider: authorization responses carry iss as discovery advertises (RFC 9207)", async () => {
  await using h = startHarness(seed());
  const doc = await (await fetch(`${h.url}/.well-known/openid-configuration`)).json();
  equal(doc.authorization_response_iss_parameter_supported, true);
  equal((await authorize(h.url, ALICE)).get("iss"), h.url);
  await h.admin("POST", "oauth/discovery", {
    omit: ["authorization_response_iss_parameter_supported", "revocation_endpoint"],
  });
  const bare = await (await fetch(`${h.url}/.well-known/openid-configuration`)).json();
  equal("authorization_response_iss_parameter_supported" in bare, false);
  equal("revocation_endpoint" in bare, false);
  equal((await authorize(h.url, ALICE)).get("iss"), null);
});

Deno.test("oauth provider: revoking one token ends every token of that account's grant to that client", async () => {
  await using h = startHarness(seed());
  const first = await tokensFor(h.url, ALICE);
  const second = await tokensFor(h.url, ALICE);
  const otherClient = await tokensFor(h.url, ALICE, OTHER_CLIENT);
  const bobs = await tokensFor(h.url, BOB);
  await oauthClient(h.url).revokeToken(first.refresh_token!);
  const refreshes = async (tokens: typeof first, client = TEST_CLIENT) => {
    const c = oauthClient(h.url, client);
    c.setCredentials({ refresh_token: tokens.refresh_token });
    return await c.refreshAccessToken().then(() => true, () => false);
  };
  equal(await refreshes(second), false, "the same account's other refresh token died too");
  equal(h.emulator.oauth.verifyAccessToken(second.access_token!), null);
  equal(await refreshes(otherClient, OTHER_CLIENT), true, "another client's grant stays");
  equal(await refreshes(bobs), true, "another account's grant stays");
});
