import assert from "node:assert/strict";
import { generateKeyPair, jwtVerify, SignJWT } from "jose";
import { startEmulator } from "../../emulator/server.ts";
import { createSigningKeys, UNKNOWN_KID_REFETCH_INTERVAL_MS } from "./signing_keys.ts";

Deno.test("signing keys: an unknown kid refetches at once, but a stream of them at most once per interval", async () => {
  const emulator = startEmulator({ port: 0, admin: true });
  try {
    let now = Date.now();
    const keys = createSigningKeys({
      uri: `${emulator.url}/oauth2/v3/certs`,
      now: () => new Date(now),
    });
    const fetches = async () => (await emulator.oauth.keyStatus()).jwksRequests;
    const { privateKey } = await generateKeyPair("RS256");
    const stranger = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "RS256", kid: "no-such-key" })
      .sign(privateKey);
    const verify = (token: string) => jwtVerify(token, keys).then(() => "ok", (e) => e.code);

    assert.equal(await verify(stranger), "ERR_JWKS_NO_MATCHING_KEY");
    assert.equal(await fetches(), 1, "a first fetch finds nothing to refetch for");
    now += 1;
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(stranger)));
    assert.ok(results.every((r) => r === "ERR_JWKS_NO_MATCHING_KEY"));
    assert.equal(await fetches(), 2, "twenty unknown kids cost one refetch");
    now += UNKNOWN_KID_REFETCH_INTERVAL_MS;
    await verify(stranger);
    assert.equal(await fetches(), 3, "the next interval allows one more");
  } finally {
    await emulator.close();
  }
});
