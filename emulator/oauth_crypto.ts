/**
 * Cryptography behind the OAuth emulator: the id_token signing key, the id_token itself, PKCE and
 * random codes. Google signs id_tokens with RS256 and publishes the public keys as a JWKS
 * (developers.google.com/identity/openid-connect/reference), so the emulator does the same with a
 * key pair made when the OAuthServer is constructed.
 */
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from "jose";

/** A private key for signing and its public half as it appears in the JWKS. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** The claims an emulated Google id_token may carry besides iat and exp. */
export interface IdTokenClaims {
  iss: string;
  /** One audience is a string, several an array (OIDC Core §2). */
  aud: string | string[];
  azp?: string;
  sub: string;
  hd?: string;
  at_hash: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  nonce?: string;
}

/**
 * Generates an RS256 key pair. The kid is the RFC 7638 thumbprint of the public key, so it names
 * the key for as long as the key lives without another random value to keep.
 */
export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: "RS256", use: "sig" } };
}

/** Signs an id_token valid for `ttlSeconds` from `issuedAtSeconds` (the emulator's clock). */
export function signIdToken(
  key: SigningKey,
  claims: IdTokenClaims,
  issuedAtSeconds: number,
  ttlSeconds: number,
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuedAt(issuedAtSeconds)
    .setExpirationTime(issuedAtSeconds + ttlSeconds)
    .sign(key.privateKey);
}

/** OIDC Core §3.1.3.6: base64url of the left half of the SHA-256 of the access token. */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest).slice(0, 16));
}

/** RFC 7636 §4.6: the S256 code challenge is base64url(SHA-256(verifier)), unpadded. */
export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
}

/** An unguessable base64url string of `bytes` random bytes, for codes and tokens. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}
