import assert from "node:assert/strict";
import { VerifiedTokens } from "./verified_tokens.ts";

const claims = (expMs: number) => ({ sub: "u", sid: "s", expMs });

Deno.test("verified tokens: a token is remembered until its exp, then forgotten", () => {
  const verified = new VerifiedTokens();
  verified.remember("t1", claims(1_000));
  assert.deepEqual(verified.get("t1", 999), claims(1_000));
  assert.equal(verified.get("t1", 1_000), undefined);
  assert.equal(verified.size, 0);
});

Deno.test("verified tokens: when full, the least recently used token goes first", () => {
  const verified = new VerifiedTokens(2);
  verified.remember("a", claims(9_999));
  verified.remember("b", claims(9_999));
  verified.get("a", 0);
  verified.remember("c", claims(9_999));
  assert.equal(verified.size, 2);
  assert.ok(verified.get("a", 0));
  assert.equal(verified.get("b", 0), undefined);
  assert.ok(verified.get("c", 0));
});
