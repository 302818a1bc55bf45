/**
 * Personal API tokens as stored: a record keyed by the SHA-256 of the token (the token itself is
 * never stored), and a per-user index from token id to that hash, written and deleted together.
 * Deleting the record is revocation: the next request presenting the token finds nothing.
 */
import { z } from "zod";
import { commitOnce, commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

const ApiTokenSchema = z.object({
  v: z.literal(1),
  /** A ULID: listings come back in creation order. */
  id: z.string(),
  userId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  /** Past this instant the token authenticates nothing. */
  expiresAt: z.string(),
  /** Updated at most once per touch interval (lib/auth/api_tokens.ts), null before first use. */
  lastUsedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;

/** An API token found by its hash, with the entry a later conditional write checks. */
export interface ApiTokenEntry {
  token: ApiToken;
  entry: Deno.KvEntry<unknown>;
}

/**
 * Stores `token` under `tokenHash` unless the user already holds `limit` unexpired tokens; false
 * then. The user's token set key is checked and bumped in the same operation, so two creations
 * at once cannot both see room for one more.
 */
export async function createApiToken(
  kv: Deno.Kv,
  input: { token: ApiToken; tokenHash: string; limit: number },
): Promise<boolean> {
  const { token, tokenHash, limit } = input;
  const now = new Date(token.createdAt);
  const expireIn = storeFor(token, now);
  const res = await commitWithRetry<boolean>(async () => {
    const set = await kv.get(keys.apiTokenSet(token.userId));
    // Expired tokens wait for KV's sweep, which is not prompt: they take no room.
    const held = (await listApiTokens(kv, token.userId))
      .filter((t) => Date.parse(t.expiresAt) > now.getTime()).length;
    if (held >= limit) return { op: kv.atomic().check(set), result: false };
    return {
      op: kv.atomic()
        .check(set, { key: keys.apiToken(tokenHash), versionstamp: null })
        .set(keys.apiTokenSet(token.userId), token.id)
        .set(keys.apiToken(tokenHash), token, { expireIn })
        .set(keys.apiTokenByUser(token.userId, token.id), tokenHash, { expireIn }),
      result: true,
    };
  });
  return res?.result ?? false;
}

/** The token stored under `tokenHash`, or null (never issued, revoked, or swept after expiry). */
export async function getApiTokenByHash(
  kv: Deno.Kv,
  tokenHash: string,
): Promise<ApiTokenEntry | null> {
  const entry = await kv.get(keys.apiToken(tokenHash));
  if (entry.value === null) return null;
  return { token: ApiTokenSchema.parse(entry.value), entry };
}

/**
 * Records a use of the token at `at`, if the token is still exactly as `found` read it. Losing
 * that check means another request recorded a use first or the token was revoked: either way
 * there is nothing to record, and a revoked token must not be written back.
 */
export async function recordApiTokenUse(
  kv: Deno.Kv,
  found: ApiTokenEntry,
  at: Date,
): Promise<void> {
  const token: ApiToken = { ...found.token, lastUsedAt: at.toISOString() };
  await commitOnce(() =>
    kv.atomic().check(found.entry).set(found.entry.key, token, { expireIn: storeFor(token, at) })
  );
}

/** The user's tokens, oldest first; index entries whose record has gone are left out. */
export async function listApiTokens(kv: Deno.Kv, userId: string): Promise<ApiToken[]> {
  const hashes: string[] = [];
  for await (const index of kv.list<string>({ prefix: keys.apiTokensByUser(userId) })) {
    hashes.push(index.value);
  }
  const tokens: ApiToken[] = [];
  // getMany reads at most 10 keys at a time.
  for (let i = 0; i < hashes.length; i += 10) {
    const entries = await kv.getMany(hashes.slice(i, i + 10).map((h) => keys.apiToken(h)));
    for (const entry of entries) {
      if (entry.value !== null) tokens.push(ApiTokenSchema.parse(entry.value));
    }
  }
  return tokens;
}

/** Revokes the user's token `tokenId`; false when the user has no such token. */
export async function deleteApiToken(
  kv: Deno.Kv,
  userId: string,
  tokenId: string,
): Promise<boolean> {
  const res = await commitWithRetry<boolean>(async () => {
    const index = await kv.get<string>(keys.apiTokenByUser(userId, tokenId));
    if (index.value === null) return null;
    const record = await kv.get(keys.apiToken(index.value));
    return {
      op: kv.atomic().check(index, record).delete(index.key).delete(record.key),
      result: true,
    };
  });
  return res?.result ?? false;
}

/** Revokes every token of a user (account deletion). */
export async function deleteApiTokensOfUser(kv: Deno.Kv, userId: string): Promise<void> {
  for await (const index of kv.list<string>({ prefix: keys.apiTokensByUser(userId) })) {
    await commitWithRetry(async () => {
      const record = await kv.get(keys.apiToken(index.value));
      return { op: kv.atomic().check(record).delete(record.key).delete(index.key) };
    });
  }
}

/** KV expiry as a backstop for cleanup only; the expiry check on use is what decides. */
function storeFor(token: ApiToken, now: Date): number {
  return Math.max(1000, Date.parse(token.expiresAt) - now.getTime());
}
