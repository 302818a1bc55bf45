/**
 * Encryption at rest for OAuth tokens: AES-256-GCM through WebCrypto with keys from
 * BUSYSYNC_ENCRYPTION_KEY. A ciphertext names the key that made it (a fingerprint), so several
 * keys can be configured at once and records are re-encrypted with the first one at leisure.
 *
 * Ciphertext format: `v1.<fingerprint>.<iv>.<sealed>` with base64url parts. The fingerprint is
 * the first 8 bytes of SHA-256(key) in hex: enough to pick among a handful of keys, too short to
 * help anyone guess a 256-bit key.
 */
import { base64url } from "jose";
import { decodeBase64Any } from "../config.ts";
import { encodeHex } from "../encoding.ts";

const FORMAT = "v1";
const IV_BYTES = 12;

/** The configured keys: the first encrypts, every one decrypts. */
export interface Keyring {
  primary: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

/** A ciphertext made with a key that is not configured (any more). */
export class UnknownKeyError extends Error {
  constructor(readonly fingerprint: string) {
    super(
      `this value was encrypted with key ${fingerprint}, which is not in BUSYSYNC_ENCRYPTION_KEY; ` +
        "add the old key back after the new one",
    );
    this.name = "UnknownKeyError";
  }
}

/** A ciphertext that does not parse or whose authentication tag does not verify. */
export class DecryptError extends Error {
  constructor(message = "the value is not a valid busysync ciphertext or was altered") {
    super(message);
    this.name = "DecryptError";
  }
}

/**
 * Imports base64 keys (standard or URL-safe, 32 bytes each) into a keyring. Throws when the
 * list is empty or a key is not 32 bytes; config.ts has already refused those with a message
 * naming the variable, so this is a programming error here.
 */
export async function createKeyring(base64Keys: readonly string[]): Promise<Keyring> {
  if (base64Keys.length === 0) throw new Error("at least one encryption key is required");
  const keys = new Map<string, CryptoKey>();
  let primary = "";
  for (const encoded of base64Keys) {
    const raw = decodeBase64Any(encoded);
    if (raw?.length !== 32) throw new Error("an encryption key is not 32 bytes of base64");
    const fingerprint = await keyFingerprint(raw);
    primary ||= fingerprint;
    keys.set(
      fingerprint,
      await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
        "encrypt",
        "decrypt",
      ]),
    );
  }
  return { primary, keys };
}

/** The short public name of a key: hex of the first 8 bytes of its SHA-256. */
export async function keyFingerprint(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", raw as Uint8Array<ArrayBuffer>),
  );
  return encodeHex(digest.slice(0, 8));
}

/**
 * Encrypts `plaintext` with the primary key. `context` (e.g. "connection/<user>/<id>/refresh")
 * is bound as additional data, so a ciphertext copied into another record does not decrypt.
 */
export async function encryptString(
  keyring: Keyring,
  plaintext: string,
  context: string,
): Promise<string> {
  const key = keyring.keys.get(keyring.primary)!;
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    key,
    new TextEncoder().encode(plaintext),
  );
  return [FORMAT, keyring.primary, base64url.encode(iv), base64url.encode(new Uint8Array(sealed))]
    .join(".");
}

/**
 * Decrypts a value made by `encryptString` with the same `context`. Throws UnknownKeyError when
 * its key is not configured, DecryptError when it is malformed, altered or from another context.
 */
export async function decryptString(
  keyring: Keyring,
  ciphertext: string,
  context: string,
): Promise<string> {
  const parts = parseCiphertext(ciphertext);
  const key = keyring.keys.get(parts.fingerprint);
  if (!key) throw new UnknownKeyError(parts.fingerprint);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: parts.iv, additionalData: new TextEncoder().encode(context) },
      key,
      parts.sealed,
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new DecryptError();
  }
}

/** True when the value was encrypted with a key other than the primary one. */
export function needsReencryption(keyring: Keyring, ciphertext: string): boolean {
  return parseCiphertext(ciphertext).fingerprint !== keyring.primary;
}

/**
 * Returns the value encrypted with the primary key: the same string when it already is,
 * otherwise a fresh ciphertext of the decrypted plaintext. Throws as `decryptString` does.
 */
export async function reencrypt(
  keyring: Keyring,
  ciphertext: string,
  context: string,
): Promise<string> {
  if (!needsReencryption(keyring, ciphertext)) return ciphertext;
  return await encryptString(keyring, await decryptString(keyring, ciphertext, context), context);
}

function parseCiphertext(ciphertext: string) {
  const [format, fingerprint, iv, sealed, ...rest] = ciphertext.split(".");
  if (format !== FORMAT || !fingerprint || !iv || !sealed || rest.length) throw new DecryptError();
  try {
    return {
      fingerprint,
      iv: base64url.decode(iv) as Uint8Array<ArrayBuffer>,
      sealed: base64url.decode(sealed) as Uint8Array<ArrayBuffer>,
    };
  } catch {
    throw new DecryptError();
  }
}
