/** Random secrets and their digests, as the auth code needs them. */
import { base64url } from "jose";
import { encodeHex } from "../encoding.ts";

/** `bytes` random bytes (256 bits by default) as base64url without padding. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** SHA-256 of a string as lowercase hex: how refresh tokens and binding values are stored. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return encodeHex(new Uint8Array(digest));
}

/** SHA-256 of a string as base64url: the PKCE S256 code challenge (RFC 7636 §4.2). */
export async function sha256Base64Url(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return base64url.encode(new Uint8Array(digest));
}
