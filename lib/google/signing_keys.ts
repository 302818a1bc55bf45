/**
 * The issuer's id_token signing keys (its JWKS), as a key resolver for jose's jwtVerify.
 *
 * Not jose's createRemoteJWKSet: on an unknown `kid` it refetches only 30 s after the last
 * fetch of any kind, so a sign-in right after the provider rotated its key was refused for up
 * to 30 s. Here an unknown `kid` refetches at once, and what is rate-limited is only those
 * refetches, so a stream of tokens naming keys that do not exist costs at most one fetch per
 * interval.
 */
import {
  createLocalJWKSet,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";
import { z } from "zod";

/** A fetched key set is used this long before it is fetched again (jose's default too). */
const MAX_AGE_MS = 10 * 60_000;
/** Least time between two fetches caused by a `kid` the key set lacked. */
export const UNKNOWN_KID_REFETCH_INTERVAL_MS = 10_000;

/** The key set could not be fetched or read: the provider is unreachable or misbehaving. */
export class KeySetUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeySetUnavailableError";
  }
}

// jose checks each key's members (kty, alg, use ...) when it builds the local set.
const KeySetSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })) });

export interface SigningKeysOptions {
  uri: string;
  now: () => Date;
}

/**
 * A key resolver for `uri`. Throws jose's JWKSNoMatchingKey when the `kid` is unknown even
 * after a refetch (or while refetches are rate-limited), KeySetUnavailableError when the key
 * set cannot be fetched.
 */
export function createSigningKeys(options: SigningKeysOptions): JWTVerifyGetKey {
  let cached: { resolve: ReturnType<typeof createLocalJWKSet>; fetchedAt: number } | undefined;
  let loading: Promise<void> | undefined;
  let lastUnknownKidRefetch = Number.NEGATIVE_INFINITY;

  /** One fetch at a time: callers arriving while it runs wait for the same one. */
  const load = () => {
    loading ??= fetchKeySet(options.uri).then((jwks) => {
      cached = { resolve: createLocalJWKSet(jwks), fetchedAt: options.now().getTime() };
    }).finally(() => loading = undefined);
    return loading;
  };

  return async (header, token) => {
    const now = options.now().getTime();
    let fresh = false;
    if (loading) {
      await loading;
      fresh = true;
    } else if (!cached || now - cached.fetchedAt >= MAX_AGE_MS) {
      await load();
      fresh = true;
    }
    try {
      return await cached!.resolve(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || fresh) throw err;
      if (!loading) {
        if (now - lastUnknownKidRefetch < UNKNOWN_KID_REFETCH_INTERVAL_MS) throw err;
        lastUnknownKidRefetch = now;
      }
      await load();
      return await cached!.resolve(header, token);
    }
  };
}

async function fetchKeySet(uri: string): Promise<JSONWebKeySet> {
  let res: Response;
  try {
    res = await fetch(uri, { headers: { accept: "application/json" } });
  } catch (err) {
    throw new KeySetUnavailableError(`the key set at ${uri} could not be fetched`, { cause: err });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new KeySetUnavailableError(`the key set at ${uri} answered HTTP ${res.status}`);
  }
  const parsed = KeySetSchema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) throw new KeySetUnavailableError(`the key set at ${uri} is malformed`);
  return parsed.data as JSONWebKeySet;
}
