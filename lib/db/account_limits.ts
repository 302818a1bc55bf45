/**
 * What busysync itself holds back from one Google account (issuer + sub), across every user of
 * the instance: the event creations it granted per UTC day, and a pause of all writes after
 * Google answered that the account's calendars are read-only (Calendar usage limits, notes §10).
 */
import { z } from "zod";
import { commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

/** A Google account, as connections name it. */
export interface Account {
  issuer: string;
  sub: string;
}

const CreatesSchema = z.object({ v: z.literal(1), count: z.number().int().min(0) });

const PauseSchema = z.object({
  v: z.literal(1),
  since: z.string(),
  until: z.string(),
  /** Google's answer, in words. */
  reason: z.string(),
});
export type AccountWritePause = z.infer<typeof PauseSchema> & Account;

const DAY_MS = 86_400_000;

/** The UTC day a budget record counts, YYYY-MM-DD. */
export function budgetDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * Takes up to `wanted` creations from the account's budget for the UTC day of `now`, at most
 * `perDay` in that day whoever asks; returns how many were granted (0 when spent). One
 * versionstamp-checked commit, retried on contention.
 */
export async function reserveCreates(
  kv: Deno.Kv,
  account: Account,
  opts: { wanted: number; perDay: number; now: Date },
): Promise<number> {
  if (opts.wanted <= 0) return 0;
  const key = keys.accountCreates(account.issuer, account.sub, budgetDay(opts.now));
  const done = await commitWithRetry(async () => {
    const entry = await kv.get(key);
    const count = entry.value === null ? 0 : CreatesSchema.parse(entry.value).count;
    const granted = Math.max(0, Math.min(opts.wanted, opts.perDay - count));
    if (granted === 0) return { op: kv.atomic().check(entry), result: 0 };
    const op = kv.atomic().check(entry).set(key, { v: 1, count: count + granted }, {
      // Only today's record is ever read; a day's margin keeps it through clock skew.
      expireIn: 2 * DAY_MS,
    });
    return { op, result: granted };
  });
  return done?.result ?? 0;
}

/** The creations granted to the account so far on the UTC day of `now`. */
export async function createsUsed(kv: Deno.Kv, account: Account, now: Date): Promise<number> {
  const entry = await kv.get(keys.accountCreates(account.issuer, account.sub, budgetDay(now)));
  return entry.value === null ? 0 : CreatesSchema.parse(entry.value).count;
}

/**
 * Gives back `count` creations reserved on the UTC day of `now` that were never sent (the
 * account got paused, the rule failed), so they are not lost for the rest of the day.
 */
export async function returnCreates(
  kv: Deno.Kv,
  account: Account,
  opts: { count: number; now: Date },
): Promise<void> {
  if (opts.count <= 0) return;
  const key = keys.accountCreates(account.issuer, account.sub, budgetDay(opts.now));
  await commitWithRetry(async () => {
    const entry = await kv.get(key);
    if (entry.value === null) return null;
    const count = CreatesSchema.parse(entry.value).count;
    const value = { v: 1 as const, count: Math.max(0, count - opts.count) };
    return { op: kv.atomic().check(entry).set(key, value, { expireIn: 2 * DAY_MS }) };
  });
}

/**
 * Pauses writes into the account's calendars until `until`, keeping a longer pause already
 * stored. The record expires on its own; readers never rely on that (see getWritePause).
 */
export async function pauseAccountWrites(
  kv: Deno.Kv,
  account: Account,
  pause: { since: Date; until: Date; reason: string },
): Promise<AccountWritePause> {
  const key = keys.accountWritePause(account.issuer, account.sub);
  const stored = await commitWithRetry(async () => {
    const entry = await kv.get(key);
    const current = entry.value === null ? null : PauseSchema.parse(entry.value);
    if (current && Date.parse(current.until) >= pause.until.getTime()) {
      return { op: kv.atomic().check(entry), result: current };
    }
    const value = {
      v: 1 as const,
      since: pause.since.toISOString(),
      until: pause.until.toISOString(),
      reason: pause.reason,
    };
    const expireIn = Math.max(1, pause.until.getTime() - pause.since.getTime());
    return { op: kv.atomic().check(entry).set(key, value, { expireIn }), result: value };
  });
  return { ...stored!.result!, ...account };
}

/** The account's write pause, or null when there is none or it ended before `now`. */
export async function getWritePause(
  kv: Deno.Kv,
  account: Account,
  now: Date,
): Promise<AccountWritePause | null> {
  const entry = await kv.get(keys.accountWritePause(account.issuer, account.sub));
  if (entry.value === null) return null;
  const pause = PauseSchema.parse(entry.value);
  return Date.parse(pause.until) > now.getTime() ? { ...pause, ...account } : null;
}

/** The write pauses in force at `now` of these accounts (duplicates read once). */
export async function listWritePauses(
  kv: Deno.Kv,
  accounts: readonly Account[],
  now: Date,
): Promise<AccountWritePause[]> {
  const unique = new Map(accounts.map((a) => [`${a.issuer}\u0000${a.sub}`, a]));
  const pauses = await Promise.all([...unique.values()].map((a) => getWritePause(kv, a, now)));
  return pauses.filter((p): p is AccountWritePause => p !== null);
}
