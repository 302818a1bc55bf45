/**
 * Sign-in sessions. A session is one refresh-token family: it stores the SHA-256 of the current
 * refresh token and of the last few spent ones. Presenting a spent token shortly after it was
 * rotated is a parallel request racing the rotation (accepted without a new token); presenting
 * one later means two parties hold the family, so the whole session is revoked.
 */
import { z } from "zod";
import { commitOnce, commitWithRetry, ConflictError } from "./commit.ts";
import { keys } from "./keys.ts";
import { parseUser, type User } from "./users.ts";

/** Spent token hashes remembered per session, to recognise reuse of older tokens too. */
const SPENT_KEPT = 10;

const SessionSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  userId: z.string(),
  /** SHA-256 (hex) of the refresh token currently valid. */
  tokenHash: z.string(),
  /** Hashes of rotated-away tokens, newest first, with when each was rotated away. */
  spent: z.array(z.object({ hash: z.string(), at: z.string() })),
  createdAt: z.string(),
  rotatedAt: z.string(),
  /** The absolute end: no rotation extends a session past it. */
  expiresAt: z.string(),
});
export type Session = z.infer<typeof SessionSchema>;

/** How long sessions live, and how long a just-spent token is still accepted. */
export interface SessionLifetimes {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, however active. */
  absoluteMs: number;
  /** A token rotated away less than this long ago still authenticates (without a new token). */
  graceMs: number;
}

/** Creates a session for `userId` whose current refresh token hashes to `tokenHash`. */
export async function createSession(
  kv: Deno.Kv,
  input: { id: string; userId: string; tokenHash: string; now: Date },
  lifetimes: SessionLifetimes,
): Promise<Session> {
  const at = input.now.toISOString();
  const session: Session = {
    v: 1,
    id: input.id,
    userId: input.userId,
    tokenHash: input.tokenHash,
    spent: [],
    createdAt: at,
    rotatedAt: at,
    expiresAt: new Date(input.now.getTime() + lifetimes.absoluteMs).toISOString(),
  };
  const expireIn = storeFor(session, input.now, lifetimes);
  const res = await commitOnce(() =>
    kv.atomic()
      .check({ key: keys.session(session.id), versionstamp: null })
      .set(keys.session(session.id), session, { expireIn })
      .set(keys.sessionByUser(session.userId, session.id), session.id, { expireIn })
  );
  if (!res.ok) throw new ConflictError(`session ${session.id} already exists`);
  return session;
}

/**
 * The live session `sessionId` of `userId`, with that user: one KV round trip for what every
 * signed-in request needs. Null when either is gone, the session is over, or it is another user's.
 */
export async function getSessionWithUser(
  kv: Deno.Kv,
  ids: { sessionId: string; userId: string },
  now: Date,
  lifetimes: SessionLifetimes,
): Promise<{ session: Session; user: User } | null> {
  const [sessionEntry, userEntry] = await kv.getMany([
    keys.session(ids.sessionId),
    keys.user(ids.userId),
  ]);
  if (sessionEntry.value === null || userEntry.value === null) return null;
  const session = SessionSchema.parse(sessionEntry.value);
  if (session.userId !== ids.userId || !isLive(session, now, lifetimes)) return null;
  return { session, user: parseUser(userEntry.value) };
}

export type Rotation =
  /** The current token was presented: it is now spent and `newHash` is current. */
  | { kind: "rotated"; session: Session }
  /** A token spent within the grace period: valid, but no new refresh token is issued. */
  | { kind: "grace"; session: Session }
  /** A spent token after the grace period: the session was revoked. */
  | { kind: "reuse"; userId: string }
  /** No such live session, or a token it never issued. */
  | { kind: "invalid" };

/**
 * Spends the refresh token hashing to `presentedHash` and makes `newHash` current, as one
 * checked write: of two requests presenting the same token at once, one rotates and the other
 * lands in the grace case on its retry.
 */
export async function rotateSession(
  kv: Deno.Kv,
  input: { sessionId: string; presentedHash: string; newHash: string; now: Date },
  lifetimes: SessionLifetimes,
): Promise<Rotation> {
  const { now } = input;
  let outcome: Rotation = { kind: "invalid" };
  await commitWithRetry(async () => {
    outcome = { kind: "invalid" };
    const entry = await kv.get(keys.session(input.sessionId));
    if (entry.value === null) return null;
    const session = SessionSchema.parse(entry.value);
    if (!isLive(session, now, lifetimes)) return { op: revoke(kv, entry, session) };
    if (timingSafeEqual(session.tokenHash, input.presentedHash)) {
      const next: Session = {
        ...session,
        tokenHash: input.newHash,
        rotatedAt: now.toISOString(),
        spent: [{ hash: session.tokenHash, at: now.toISOString() }, ...session.spent]
          .slice(0, SPENT_KEPT),
      };
      const expireIn = storeFor(next, now, lifetimes);
      outcome = { kind: "rotated", session: next };
      return {
        op: kv.atomic().check(entry)
          .set(entry.key, next, { expireIn })
          .set(keys.sessionByUser(next.userId, next.id), next.id, { expireIn }),
      };
    }
    const spentIndex = session.spent.findIndex((s) => timingSafeEqual(s.hash, input.presentedHash));
    if (spentIndex === -1) return null;
    const spentAt = Date.parse(session.spent[spentIndex].at);
    if (spentIndex === 0 && now.getTime() - spentAt <= lifetimes.graceMs) {
      outcome = { kind: "grace", session };
      return null;
    }
    outcome = { kind: "reuse", userId: session.userId };
    return { op: revoke(kv, entry, session) };
  });
  return outcome;
}

/** Ends a session (sign-out); a session that is already gone is fine. */
export async function deleteSession(kv: Deno.Kv, sessionId: string): Promise<void> {
  await commitWithRetry(async () => {
    const entry = await kv.get(keys.session(sessionId));
    if (entry.value === null) return null;
    return { op: revoke(kv, entry, SessionSchema.parse(entry.value)) };
  });
}

/** Ends every session of a user (account deletion). */
export async function deleteSessionsOfUser(kv: Deno.Kv, userId: string): Promise<void> {
  for await (const index of kv.list<string>({ prefix: keys.sessionsByUser(userId) })) {
    await commitWithRetry(async () => {
      const entry = await kv.get(keys.session(index.value));
      // The index entry goes even when its session already expired.
      return { op: kv.atomic().check(entry).delete(entry.key).delete(index.key) };
    });
  }
}

function revoke(kv: Deno.Kv, entry: Deno.KvEntryMaybe<unknown>, session: Session) {
  return kv.atomic().check(entry).delete(entry.key)
    .delete(keys.sessionByUser(session.userId, session.id));
}

function isLive(session: Session, now: Date, lifetimes: SessionLifetimes): boolean {
  const t = now.getTime();
  return t < Date.parse(session.expiresAt) && t < Date.parse(session.rotatedAt) + lifetimes.idleMs;
}

/** KV expiry as a backstop for cleanup only; `isLive` is what decides. */
function storeFor(session: Session, now: Date, lifetimes: SessionLifetimes): number {
  const idleEnd = Date.parse(session.rotatedAt) + lifetimes.idleMs;
  return Math.max(1000, Math.min(idleEnd, Date.parse(session.expiresAt)) - now.getTime());
}

/** Compares two hex digests without an early exit, so timing says nothing about a match. */
function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
