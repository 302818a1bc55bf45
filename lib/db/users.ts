/**
 * Users: a person who signed in with Google. Keyed by the issuer's stable `sub` through the
 * `users_by_sub` pointer index; the email is shown and checked against the allow-list, never used
 * as identity (Google lets a person change it).
 */
import { ulid } from "ulid";
import { z } from "zod";
import { isKnownTimeZone } from "../model/time_zone.ts";
import { commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

/** Preferences a user sets for themselves; exported and imported with their data. */
export const UserSettingsSchema = z.object({
  /** IANA zone the dashboard shows times in; unset means the browser's zone. */
  timeZone: z.string().min(1).max(64).refine(isKnownTimeZone, "unknown IANA time zone")
    .optional(),
});
export type UserSettings = z.infer<typeof UserSettingsSchema>;

const UserSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  issuer: z.string(),
  sub: z.string(),
  email: z.string(),
  name: z.string(),
  settings: UserSettingsSchema,
  createdAt: z.string(),
  lastSignInAt: z.string(),
});
export type User = z.infer<typeof UserSchema>;

/** A stored user record, parsed. */
export function parseUser(value: unknown): User {
  return UserSchema.parse(value);
}

/** Who the identity provider says signed in. */
export interface Identity {
  issuer: string;
  sub: string;
  email: string;
  name: string;
}

/**
 * Finds the user for `identity` or creates one on first sign-in, refreshing the email and name
 * Google reports. Creation checks both the record and the index are new, so two simultaneous
 * first sign-ins produce one user.
 */
export async function upsertUserBySub(
  kv: Deno.Kv,
  identity: Identity,
  now: Date,
): Promise<{ user: User; created: boolean }> {
  const res = await commitWithRetry<{ user: User; created: boolean }>(async () => {
    const index = await kv.get<string>(keys.userBySub(identity.issuer, identity.sub));
    const at = now.toISOString();
    if (index.value !== null) {
      const entry = await kv.get(keys.user(index.value));
      if (entry.value === null) {
        throw new Error(`users_by_sub points at missing user ${index.value}`);
      }
      const user: User = {
        ...UserSchema.parse(entry.value),
        email: identity.email,
        name: identity.name,
        lastSignInAt: at,
      };
      return {
        op: kv.atomic().check(index, entry).set(entry.key, user),
        result: { user, created: false },
      };
    }
    const id = ulid(now.getTime());
    const user: User = {
      v: 1,
      id,
      issuer: identity.issuer,
      sub: identity.sub,
      email: identity.email,
      name: identity.name,
      settings: {},
      createdAt: at,
      lastSignInAt: at,
    };
    return {
      op: kv.atomic()
        .check(index, { key: keys.user(id), versionstamp: null })
        .set(keys.user(id), user)
        .set(keys.userBySub(identity.issuer, identity.sub), id),
      result: { user, created: true },
    };
  });
  return res!.result!;
}

/** The user with this id, or null. */
export async function getUser(kv: Deno.Kv, userId: string): Promise<User | null> {
  const entry = await kv.get(keys.user(userId));
  return entry.value === null ? null : UserSchema.parse(entry.value);
}

/** Every user's id, in creation order (ids are ULIDs); reads keys only. */
export async function listUserIds(kv: Deno.Kv): Promise<string[]> {
  const ids: string[] = [];
  for await (const entry of kv.list({ prefix: keys.allUsers() })) ids.push(String(entry.key[1]));
  return ids;
}

/** The user who signs in as (issuer, sub), or null when that account has never signed in. */
export async function findUserBySub(
  kv: Deno.Kv,
  issuer: string,
  sub: string,
): Promise<User | null> {
  const index = await kv.get<string>(keys.userBySub(issuer, sub));
  return index.value === null ? null : await getUser(kv, index.value);
}

/**
 * The user who signed in with `email` (any case), or null. Reads every user: for the CLI, which
 * an operator runs by hand, never for a request.
 */
export async function findUserByEmail(kv: Deno.Kv, email: string): Promise<User | null> {
  const wanted = email.trim().toLowerCase();
  for await (const entry of kv.list({ prefix: keys.allUsers() })) {
    const user = UserSchema.parse(entry.value);
    if (user.email.toLowerCase() === wanted) return user;
  }
  return null;
}

/** Every user, oldest first (ULID ids): for the owner's page and the CLI, not per request. */
export async function listUsers(kv: Deno.Kv): Promise<User[]> {
  const users: User[] = [];
  for await (const entry of kv.list({ prefix: keys.allUsers() })) {
    users.push(UserSchema.parse(entry.value));
  }
  return users;
}

/** Merges `settings` into the user's settings; null when the user does not exist. */
export async function updateUserSettings(
  kv: Deno.Kv,
  userId: string,
  settings: UserSettings,
): Promise<User | null> {
  const res = await commitWithRetry<User>(async () => {
    const entry = await kv.get(keys.user(userId));
    if (entry.value === null) return null;
    const current = UserSchema.parse(entry.value);
    const user: User = { ...current, settings: { ...current.settings, ...settings } };
    return { op: kv.atomic().check(entry).set(entry.key, user), result: user };
  });
  return res?.result ?? null;
}

/**
 * Deletes the user record and its sub index together; the caller deletes the user's other data
 * first, so an interrupted account deletion can be retried by the still-existing user.
 */
export async function deleteUserRecord(kv: Deno.Kv, userId: string): Promise<void> {
  await commitWithRetry(async () => {
    const entry = await kv.get(keys.user(userId));
    if (entry.value === null) return null;
    const user = UserSchema.parse(entry.value);
    return {
      op: kv.atomic().check(entry).delete(entry.key).delete(keys.userBySub(user.issuer, user.sub)),
    };
  });
}
