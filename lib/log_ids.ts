/**
 * Who a log line is about, without naming them: a user, connection or calendar id, and every
 * e-mail address, is written as `kind:` + 12 hex digits of an HMAC-SHA256 of the value under a
 * key of this instance. Lines about one user are tied together by grepping one token (or its
 * hex alone: an address hashes to the same hex as `cal:` and as `email:`), while whoever reads a
 * shipped log cannot tell who it was, nor test a guessed address without the instance's key.
 */
import { createHmac, hkdfSync } from "node:crypto";

/** What a hashed value was: the token's prefix. */
export type IdKind = "user" | "conn" | "cal" | "email";

export interface LogIds {
  /** `kind:<hex>`, the same for one value on every line, thread and restart of the instance. */
  hash(kind: IdKind, value: string): string;
  /** `text` with every e-mail address in it (also one URL-encoded) replaced by its hash. */
  hashEmails(text: string): string;
}

/** Bumping the label gives every instance new hashes, should the scheme ever change. */
const KEY_LABEL = "busysync log ids v1";
const HEX_DIGITS = 12;

/**
 * An address at a start of text, after a character no address holds, or after a %-escape (a
 * Google API path in an error carries `calendars%2Fann%40example.com` in some encodings); its
 * `@` may be URL-encoded. An escape inside the name part (`ann%2Bwork`) cuts the name there:
 * the address is still hashed, though to another token than its plain spelling.
 */
const EMAIL =
  /(?<=^|[^A-Za-z0-9._+%-]|%[0-9A-Fa-f]{2})[A-Za-z0-9._+-]+(?:@|%40)(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/gi;
const WHOLE_EMAIL = /^[A-Za-z0-9._+-]+(?:@|%40)(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}$/i;

/**
 * The hashing of the instance whose secret is `secret` (its session signing key, which every
 * thread and process of the instance shares; the encryption keys are not used, as rotating them
 * is routine). The key is derived with HKDF under its own label, so it serves nothing else.
 */
export function logIdsFromSecret(secret: Uint8Array): LogIds {
  const key = new Uint8Array(hkdfSync("sha256", secret, new Uint8Array(0), KEY_LABEL, 32));
  const digest = (value: string) =>
    createHmac("sha256", key).update(normalise(value)).digest("hex").slice(0, HEX_DIGITS);
  return {
    hash: (kind, value) => `${kind}:${digest(value)}`,
    hashEmails: (text) => text.replace(EMAIL, (address) => `email:${digest(address)}`),
  };
}

/** Hashing under a key of its own, for a logger its builder gave no instance key. */
export function randomLogIds(): LogIds {
  return logIdsFromSecret(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Addresses are compared case-blind and with their `@` decoded, so one address is one token
 * however a line spelled it; other ids are exact.
 */
function normalise(value: string): string {
  return WHOLE_EMAIL.test(value) ? value.replace(/%40/i, "@").toLowerCase() : value;
}
