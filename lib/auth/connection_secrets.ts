/**
 * How a connection's secrets are sealed in its record: each is encrypted with the keyring's
 * primary key, bound to the connection and the secret's role, so a ciphertext moved to another
 * record or role does not decrypt. A Google connection keeps its refresh and access tokens; a
 * CalDAV connection its app password, in the refresh token's place (it is what renews access),
 * so key rotation, export and disconnecting treat both alike.
 */
import { decryptString, encryptString, type Keyring, reencrypt } from "./crypto.ts";
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

/** Seals a CalDAV account's app password. */
export async function sealPassword(
  keyring: Keyring,
  ref: ConnectionRef,
  password: string,
): Promise<StoredTokens> {
  return { refresh: await encryptString(keyring, password, context(ref, "refresh")) };
}

/** The plaintext refresh token (a CalDAV connection's password). Throws UnknownKeyError / DecryptError (lib/auth/crypto.ts). */
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
