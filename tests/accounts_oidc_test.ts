/**
 * Sign-in held to OpenID Connect against the emulator taught a standard provider's ways: a
 * signing key that rotates, id_tokens with several audiences, `iss` on the authorization response
 * (RFC 9207), a discovery document without the optional revocation endpoint, Workspace `hd`, and
 * refusals that say what went wrong.
 */
import assert from "node:assert/strict";
import { createLogger } from "../lib/log.ts";
import { ANN, ANN_WORK, BOB, CLIENT, EVE, type Harness, withHarness } from "./support/accounts.ts";

const ACCESS = "busysync_at";

/** Walks a sign-in up to Google's redirect back, without following it. */
async function callbackOf(h: Harness, email: string, address = "192.0.2.1") {
  const browser = h.client(address);
  const login = await browser.request("/api/auth/login");
  assert.equal(login.status, 302);
  const back = await browser.authorizeAtGoogle(login.headers.get("location")!, email);
  return { browser, back };
}

Deno.test("oidc: a sign-in right after the provider rotates its signing key succeeds", async () => {
  await withHarness(async (h) => {
    assert.equal((await h.client("192.0.2.1").signIn(ANN)).status, 303, "key set now cached");
    await h.admin("oauth/keys/rotate");
    const res = await h.client("192.0.2.2").signIn(ANN);
    assert.equal(res.status, 303, await res.clone().text());
  });
});

Deno.test("oidc: an id_token with audiences besides busysync, or an azp naming another client, is refused", async (t) => {
  await withHarness(async (h) => {
    for (
      const [name, shape] of [
        ["several audiences, azp busysync", { extraAudiences: ["another-app"] }],
        ["several audiences, no azp", { extraAudiences: ["another-app"], azp: null }],
        ["one audience, azp another client", { azp: "another-app" }],
      ] as const
    ) {
      await t.step(name, async () => {
        await h.admin("oauth/id-token-audience", { clientId: CLIENT.clientId, ...shape });
        const browser = h.client();
        const res = await browser.signIn(ANN);
        assert.equal(res.status, 400);
        assert.equal(browser.cookies.get(ACCESS), undefined);
      });
    }
    await t.step("addressed to busysync alone, it is accepted again", async () => {
      await h.admin("oauth/id-token-audience", { clientId: CLIENT.clientId });
      assert.equal((await h.client().signIn(ANN)).status, 303);
    });
  });
});

Deno.test("oidc: a callback whose iss is not the issuer, or lacks it while discovery promises it, is refused (RFC 9207)", async (t) => {
  await withHarness(async (h) => {
    await t.step("the emulator's own iss passes", async () => {
      const { browser, back } = await callbackOf(h, ANN);
      assert.equal(back.searchParams.get("iss"), h.emulator.url);
      assert.equal((await browser.request(`${back.pathname}${back.search}`)).status, 303);
    });
    for (
      const [name, change] of [
        ["another issuer", (q: URLSearchParams) => q.set("iss", "https://evil.example")],
        ["no iss", (q: URLSearchParams) => q.delete("iss")],
      ] as const
    ) {
      await t.step(name, async () => {
        const { browser, back } = await callbackOf(h, ANN);
        change(back.searchParams);
        const res = await browser.request(`${back.pathname}${back.search}`);
        assert.equal(res.status, 400);
        assert.match(await res.text(), /did not come from Google|another sign-in service/);
        assert.equal(browser.cookies.get(ACCESS), undefined);
      });
    }
  });
});

Deno.test("oidc: without the flag in discovery, a callback without iss is accepted", async () => {
  await withHarness(async (h) => {
    await h.admin("oauth/discovery", { omit: ["authorization_response_iss_parameter_supported"] });
    const { browser, back } = await callbackOf(h, ANN);
    assert.equal(back.searchParams.get("iss"), null);
    assert.equal((await browser.request(`${back.pathname}${back.search}`)).status, 303);
  });
});

Deno.test("oidc: a discovery document without revocation_endpoint still signs in; disconnecting says the grant was not revoked", async () => {
  await withHarness(async (h) => {
    await h.admin("oauth/discovery", { omit: ["revocation_endpoint"] });
    const ann = h.client();
    assert.equal((await ann.signIn(ANN)).status, 303);
    assert.equal((await ann.connect(ANN_WORK)).status, 303);
    const [work] = await ann.connections();
    const res = await ann.request(`/api/user/connections/${work.id}`, { method: "DELETE" });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.revoked, false);
    assert.equal(body.reason, "unsupported");
    assert.match(body.message, /cannot revoke|no way to revoke/i);
    assert.deepEqual(await ann.connections(), []);
  });
});

Deno.test("oidc: a refusal says what went wrong and whether trying again helps; the log keeps the technical reason", async (t) => {
  const lines: string[] = [];
  await withHarness(
    async (h) => {
      await t.step("an id_token for another app too: trying again will not help", async () => {
        await h.admin("oauth/id-token-audience", {
          clientId: CLIENT.clientId,
          extraAudiences: ["another-app"],
        });
        const res = await h.client().signIn(ANN);
        assert.equal(res.status, 400);
        const html = await res.text();
        assert.match(html, /other applications|another application/);
        assert.match(html, /Trying again will not help/);
        assert.doesNotMatch(html, /aud|azp|JWT/, "no jargon on the page");
        assert.ok(lines.some((l) => /id_token refused/.test(l) && /aud/.test(l)), lines.join("\n"));
        await h.admin("oauth/id-token-audience", { clientId: CLIENT.clientId });
      });
      await t.step("an answer from another sign-in attempt: starting again can help", async () => {
        const { browser, back } = await callbackOf(h, ANN);
        back.searchParams.set("iss", "https://evil.example");
        const res = await browser.request(`${back.pathname}${back.search}`);
        const html = await res.text();
        assert.match(html, /Starting again can help|start again/i);
      });
    },
    {},
    { log: createLogger("warn", (line) => lines.push(line)) },
  );
});

Deno.test("allow-list: a @domain entry admits that domain's Workspace accounts (hd), not a personal account with an address there", async (t) => {
  await withHarness(async (h) => {
    await h.admin("seed", {
      users: [
        // A personal Google account whose verified address is at the work domain: no hd.
        { email: "carla@work.example.com", name: "Carla (personal)", calendars: [] },
        { email: "gus@gmail.com", name: "Gus", calendars: [] },
        { email: "dora@elsewhere.example", name: "Dora", hd: "work.example.com", calendars: [] },
      ],
    });
    const cases: [string, number][] = [
      [ANN_WORK, 303],
      ["carla@work.example.com", 403],
      ["gus@gmail.com", 303],
      ["dora@elsewhere.example", 303],
      [BOB, 303],
      [ANN, 403],
      [EVE, 403],
    ];
    for (const [email, status] of cases) {
      await t.step(`${email} → ${status}`, async () => {
        assert.equal((await h.client().signIn(email)).status, status);
      });
    }
  }, { BUSYSYNC_ALLOWED_EMAILS: "@work.example.com, @gmail.com, bob@example.org" });
});
