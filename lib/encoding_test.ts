import assert from "node:assert/strict";
import { decodeBase64, encodeBase32Hex, encodeBase64, encodeHex } from "./encoding.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("encoding: RFC 4648 test vectors, base32hex lowercase and unpadded", () => {
  assert.equal(encodeHex(bytes("foobar")), "666f6f626172");
  assert.equal(encodeBase64(bytes("foobar")), "Zm9vYmFy");
  assert.equal(encodeBase64(bytes("fo")), "Zm8=");
  assert.deepEqual(decodeBase64("Zm8="), bytes("fo"));
  assert.equal(encodeBase32Hex(bytes("f")), "co");
  assert.equal(encodeBase32Hex(bytes("foobar")), "cpnmuoj1e8");
});

Deno.test("encoding: base64 of more bytes than one String.fromCharCode call takes", () => {
  const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256);
  assert.deepEqual(decodeBase64(encodeBase64(big)), big);
});
