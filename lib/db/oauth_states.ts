/**
 * Pending OAuth redirects. A record is written when busysync sends the browser to Google and
 * taken (read and deleted in one operation) when Google sends it back, so each `state` works once.
 */
import { z } from "zod";
import { commitOnce, commitWithRetry, ConflictError } from "./commit.ts";
import { keys } from "./keys.ts";

export const OAuthStateSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  /** Sign-in creates a session; connect adds a Google account to `userId`. */
  flow: z.enum(["signin", "connect"]),
  /**
   * A first sign-in in this browser also asks for the account's calendar scopes with offline
   * access, so the account it signs in with becomes the person's first connection.
   */
  calendars: z.boolean().optional(),
  /** The user who started a connect flow; the callback must come from the same user. */
  userId: z.string().optional(),
  /** PKCE verifier (RFC 7636) whose S256 challenge went to Google. */
  codeVerifier: z.string(),
  /** Expected in the id_token, so a token minted for another request is refused. */
  nonce: z.string(),
  /** SHA-256 of the random value in the browser's binding cookie (login CSRF defence). */
  bindingHash: z.string(),
  /** Same-origin path to land on afterwards. */
  next: z.string(),
  expiresAt: z.string(),
});
export type OAuthState = z.infer<typeof OAuthStateSchema>;

/** Stores a new state record; KV drops it after its expiry, and `takeOAuthState` checks too. */
export async function saveOAuthState(kv: Deno.Kv, state: OAuthState, now: Date): Promise<void> {
  const record = OAuthStateSchema.parse(state);
  const expireIn = Math.max(1000, Date.parse(record.expiresAt) - now.getTime());
  const res = await commitOnce(() =>
    kv.atomic()
      .check({ key: keys.oauthState(record.id), versionstamp: null })
      .set(keys.oauthState(record.id), record, { expireIn })
  );
  // State ids are 256 random bits: a collision means a bug, not bad luck.
  if (!res.ok) throw new ConflictError("OAuth state id collision");
}

/**
 * Removes and returns the state record `id`, or null when it is unknown, used or expired
 * (expiry is checked here because KV deletes expired keys only eventually).
 */
export async function takeOAuthState(
  kv: Deno.Kv,
  id: string,
  now: Date,
): Promise<OAuthState | null> {
  let taken: OAuthState | null = null;
  await commitWithRetry(async () => {
    taken = null;
    const entry = await kv.get(keys.oauthState(id));
    if (entry.value === null) return null;
    const state = OAuthStateSchema.parse(entry.value);
    if (Date.parse(state.expiresAt) > now.getTime()) taken = state;
    return { op: kv.atomic().check(entry).delete(entry.key) };
  });
  return taken;
}
