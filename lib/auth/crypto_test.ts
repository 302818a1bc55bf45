import assert from "node:assert/strict";
import { randomKeyBase64 } from "../db/settings.ts";
import {
  createKeyring,
  DecryptError,
  decryptString,
  encryptString,
  needsReencryption,
  reencrypt,
  UnknownKeyError,
} from "./crypto.ts";

const OLD = randomKeyBase64();
const NEW = randomKeyBase64();

Deno.test("crypto: a value round-trips and its ciphertext shows neither the value nor the key", async () => {
  const ring = await createKeyring([OLD]);
  const sealed = await encryptString(ring, "1//refresh-token", "ctx");
  assert.ok(!sealed.includes("refresh"));
  assert.ok(!sealed.includes(OLD));
  assert.match(sealed, new RegExp(`^v1\\.${ring.primary}\\.`));
  assert.equal(await decryptString(ring, sealed, "ctx"), "1//refresh-token");
  assert.notEqual(
    await encryptString(ring, "1//refresh-token", "ctx"),
    sealed,
    "fresh IV each time",
  );
});

Deno.test("crypto: a ciphertext from another record, an altered one or an unknown key is refused", async () => {
  const ring = await createKeyring([OLD]);
  const sealed = await encryptString(ring, "secret", "connection/a/1/refresh");
  await assert.rejects(() => decryptString(ring, sealed, "connection/b/1/refresh"), DecryptError);
  const flipped = sealed.slice(0, -2) + (sealed.at(-2) === "A" ? "B" : "A") + sealed.at(-1);
  await assert.rejects(() => decryptString(ring, flipped, "connection/a/1/refresh"), DecryptError);
  await assert.rejects(() => decryptString(ring, "plain text", "x"), DecryptError);
  const other = await createKeyring([NEW]);
  await assert.rejects(
    () => decryptString(other, sealed, "connection/a/1/refresh"),
    (e: unknown) => e instanceof UnknownKeyError && e.fingerprint === ring.primary,
  );
});

Deno.test("crypto: with a new key first, old values still decrypt and re-encrypt to the new key", async () => {
  const before = await createKeyring([OLD]);
  const sealed = await encryptString(before, "token", "ctx");
  const during = await createKeyring([NEW, OLD]);
  assert.equal(await decryptString(during, sealed, "ctx"), "token");
  assert.ok(needsReencryption(during, sealed));
  const moved = await reencrypt(during, sealed, "ctx");
  assert.ok(!needsReencryption(during, moved));
  assert.equal(await reencrypt(during, moved, "ctx"), moved, "already current: unchanged");
  const after = await createKeyring([NEW]);
  assert.equal(await decryptString(after, moved, "ctx"), "token");
});

Deno.test("crypto: standard and URL-safe spellings of one key are the same key", async () => {
  const urlSafe = OLD.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  const a = await createKeyring([OLD]);
  const b = await createKeyring([urlSafe]);
  assert.equal(a.primary, b.primary);
  assert.equal(await decryptString(b, await encryptString(a, "x", "c"), "c"), "x");
});
