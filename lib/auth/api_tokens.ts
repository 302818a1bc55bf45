/**
 * Personal API tokens for scripts: `bsy_` and 256 random bits (base64url), shown once when
 * created. The store keeps only the token's SHA-256, so a copy of the store holds no usable
 * token; a plain hash (no salt, no slow KDF) is enough because the token is random, not a
 * password, and a lookup by hash is one KV read.
 */
import { ulid } from "ulid";
import {
  type ApiToken,
  createApiToken,
  getApiTokenByHash,
  recordApiTokenUse,
} from "../db/api_tokens.ts";
import { getUser, type User } from "../db/users.ts";
import { randomToken, sha256Hex } from "./tokens.ts";

/** What every token starts with: recognisable in a script, a secret scanner or a leaked log. */
export const API_TOKEN_PREFIX = "bsy_";
/** Tokens one user may hold at once. */
export const API_TOKEN_LIMIT = 20;
/** The lifetimes offered, in days; a year at most, so a forgotten token does not live forever. */
export const API_TOKEN_EXPIRY_DAYS = [30, 90, 365] as const;
/**
 * A use is recorded at most this often per token: "last used" to the minute is what a person
 * needs, and a script polling every second must not cost a KV write per request.
 */
export const API_TOKEN_TOUCH_MS = 60_000;

const DAY_MS = 24 * 3600_000;
const TOKEN_SHAPE = /^bsy_[A-Za-z0-9_-]{43}$/;

export interface ApiTokenDeps {
  kv: Deno.Kv;
  now: () => Date;
}

/** Whether a Bearer value is meant as an API token (rather than a session's access JWT). */
export function isApiTokenShaped(value: string): boolean {
  return value.startsWith(API_TOKEN_PREFIX);
}

/** Thrown when the user already holds API_TOKEN_LIMIT tokens. */
export class ApiTokenLimitError extends Error {
  constructor() {
    super(
      `You have ${API_TOKEN_LIMIT} API tokens, the most one account may hold. Revoke one first.`,
    );
    this.name = "ApiTokenLimitError";
  }
}

/**
 * Creates a token for `userId` and returns it with its record: the only time the token itself
 * exists outside the caller's hands. Throws ApiTokenLimitError at the per-user limit.
 */
export async function issueApiToken(
  deps: ApiTokenDeps,
  userId: string,
  input: { name: string; expiresInDays: (typeof API_TOKEN_EXPIRY_DAYS)[number] },
): Promise<{ secret: string; token: ApiToken }> {
  const now = deps.now();
  const secret = `${API_TOKEN_PREFIX}${randomToken()}`;
  const token: ApiToken = {
    v: 1,
    id: ulid(now.getTime()),
    userId,
    name: input.name,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + input.expiresInDays * DAY_MS).toISOString(),
    lastUsedAt: null,
  };
  const created = await createApiToken(deps.kv, {
    token,
    tokenHash: await sha256Hex(secret),
    limit: API_TOKEN_LIMIT,
  });
  if (!created) throw new ApiTokenLimitError();
  return { secret, token };
}

/**
 * The user and token id a presented token stands for, or null when it is malformed, unknown,
 * revoked or expired, or its user is gone. Records the use when the last one is older than
 * API_TOKEN_TOUCH_MS.
 */
export async function authenticateApiToken(
  deps: ApiTokenDeps,
  secret: string,
): Promise<{ user: User; tokenId: string } | null> {
  if (!TOKEN_SHAPE.test(secret)) return null;
  const found = await getApiTokenByHash(deps.kv, await sha256Hex(secret));
  if (!found) return null;
  const now = deps.now();
  if (now.getTime() >= Date.parse(found.token.expiresAt)) return null;
  const user = await getUser(deps.kv, found.token.userId);
  if (!user) return null;
  const last = found.token.lastUsedAt;
  if (last === null || now.getTime() - Date.parse(last) >= API_TOKEN_TOUCH_MS) {
    await recordApiTokenUse(deps.kv, found, now);
  }
  return { user, tokenId: found.token.id };
}
