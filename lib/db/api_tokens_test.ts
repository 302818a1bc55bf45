import assert from "node:assert/strict";
import {
  type ApiToken,
  createApiToken,
  deleteApiToken,
  getApiTokenByHash,
  listApiTokens,
  recordApiTokenUse,
} from "./api_tokens.ts";
import { keys } from "./keys.ts";

const DAY_MS = 24 * 3600_000;
const T0 = Date.parse("2030-01-06T09:00:00Z");

function aToken(id: string, createdMs = T0, lifetimeDays = 30): ApiToken {
  return {
    v: 1,
    id,
    userId: "ann",
    name: id,
    createdAt: new Date(createdMs).toISOString(),
    expiresAt: new Date(createdMs + lifetimeDays * DAY_MS).toISOString(),
    lastUsedAt: null,
  };
}

Deno.test("api token store: the limit counts unexpired tokens only", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    for (const n of [1, 2]) {
      assert.equal(
        await createApiToken(kv, { token: aToken(`t${n}`), tokenHash: `h${n}`, limit: 2 }),
        true,
      );
    }
    assert.equal(
      await createApiToken(kv, { token: aToken("t3"), tokenHash: "h3", limit: 2 }),
      false,
      "a third one at the limit",
    );
    const later = T0 + 31 * DAY_MS;
    assert.equal(
      await createApiToken(kv, { token: aToken("t4", later), tokenHash: "h4", limit: 2 }),
      true,
      "once the first two expired they take no room, swept or not",
    );
  } finally {
    kv.close();
  }
});

Deno.test("api token store: revoking deletes record and index; a late use does not bring it back", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await createApiToken(kv, { token: aToken("t1"), tokenHash: "h1", limit: 20 });
    const found = await getApiTokenByHash(kv, "h1");
    assert.ok(found);
    assert.equal(await deleteApiToken(kv, "bob", "t1"), false, "another user's id");
    assert.equal(await deleteApiToken(kv, "ann", "t1"), true);
    await recordApiTokenUse(kv, found, new Date(T0 + 1000));
    assert.equal(await getApiTokenByHash(kv, "h1"), null);
    assert.equal((await kv.get(keys.apiTokenByUser("ann", "t1"))).value, null);
    assert.deepEqual(await listApiTokens(kv, "ann"), []);
  } finally {
    kv.close();
  }
});
