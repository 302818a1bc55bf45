/**
 * Bytes as text: hex for digests and ids, base64 for keys and backups, base32hex for mirror
 * event ids (Google allows only `[a-v0-9]` there). Pure, so browser code may import it too.
 */

const BASE32HEX = "0123456789abcdefghijklmnopqrstuv";

/** Lowercase hex of bytes. */
export function encodeHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  // Chunked so that String.fromCharCode never gets more arguments than the engine allows.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** The bytes of standard, padded base64; throws a DOMException when `s` is not base64. */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/**
 * Lowercase base32hex (RFC 4648 §7) without padding: the last group's spare bits are zero.
 * Mirror ids are built with it, so its output for a given input must never change.
 */
export function encodeBase32Hex(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32HEX[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32HEX[(buffer << (5 - bits)) & 31];
  return out;
}
