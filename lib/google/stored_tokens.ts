/**
 * How a connection's Google tokens are sealed in its record: each token is encrypted with the
 * keyring's primary key, bound to the connection and the token's role, so a ciphertext moved to
 * another record or role does not decrypt.
 */
import { decryptString, encryptString, type Keyring, reencrypt } from "../auth/crypto.ts";
import type { StoredTokens } from "../db/connections.ts";

/** Names one connection of one user. */
export interface ConnectionRef {
  userId: string;
  connectionId: string;
}

function context(ref: ConnectionRef, role: "refresh" | "access"): string {
  return `busysync/connections/${ref.userId}/${ref.connectionId}/${role}`;
}

/** Seals a freshly granted refresh token and the access token that came with it. */
export async function sealTokens(
  keyring: Keyring,
  ref: ConnectionRef,
  grant: { refreshToken: string; accessToken: string; expiresInMs: number; now: Date },
): Promise<StoredTokens> {
  return {
    refresh: await encryptString(keyring, grant.refreshToken, context(ref, "refresh")),
    ...await sealAccessToken(keyring, ref, grant),
  };
}

/** Seals a new access token, to be stored next to the unchanged refresh token. */
export async function sealAccessToken(
  keyring: Keyring,
  ref: ConnectionRef,
  grant: { accessToken: string; expiresInMs: number; now: Date },
): Promise<Pick<StoredTokens, "access" | "accessIssuedAt" | "accessExpiresAt">> {
  return {
    access: await encryptString(keyring, grant.accessToken, context(ref, "access")),
    accessIssuedAt: grant.now.toISOString(),
    accessExpiresAt: new Date(grant.now.getTime() + grant.expiresInMs).toISOString(),
  };
}

/** The plaintext refresh token. Throws UnknownKeyError / DecryptError (lib/auth/crypto.ts). */
export async function openRefreshToken(
  keyring: Keyring,
  ref: ConnectionRef,
  tokens: StoredTokens,
): Promise<string> {
  return await decryptString(keyring, tokens.refresh, context(ref, "refresh"));
}

/** The plaintext access token, if one is stored. Throws as `openRefreshToken`. */
export async function openAccessToken(
  keyring: Keyring,
  ref: ConnectionRef,
  tokens: StoredTokens,
): Promise<string | undefined> {
  if (!tokens.access) return undefined;
  return await decryptString(keyring, tokens.access, context(ref, "access"));
}

/** The tokens re-encrypted with the primary key; the same object when nothing changes. */
export async function reencryptTokens(
  keyring: Keyring,
  ref: ConnectionRef,
  tokens: StoredTokens,
): Promise<StoredTokens> {
  const refresh = await reencrypt(keyring, tokens.refresh, context(ref, "refresh"));
  const access = tokens.access &&
    await reencrypt(keyring, tokens.access, context(ref, "access"));
  if (refresh === tokens.refresh && access === tokens.access) return tokens;
  return { ...tokens, refresh, access };
}
