/**
 * Removes everything a user owns from KV, for account deletion.
 */
import { deleteApiTokensOfUser } from "./api_tokens.ts";
import { commitOnce } from "./commit.ts";
import { deleteAccountIndexOfUser } from "./connections.ts";
import { USER_SCOPED_COLLECTIONS } from "./keys.ts";
import { deleteSessionsOfUser } from "./sessions.ts";
import { deleteUserRecord } from "./users.ts";

/** Deletes per operation; KV allows 1000 mutations in one atomic operation. */
const BATCH = 500;

/**
 * Deletes the user's entries of the instance-wide account index, every key under the
 * user-scoped collections, then the API tokens and sessions, then the user record and its sub index. The
 * account index goes first, while the connections it is read from are still there (a stale
 * entry left by a crash is ignored by its readers anyway). The user record goes last so that an interrupted deletion leaves a user who
 * can sign in and delete again, never data without an owner.
 */
export async function deleteAllUserData(kv: Deno.Kv, userId: string): Promise<void> {
  await deleteAccountIndexOfUser(kv, userId);
  for (const collection of USER_SCOPED_COLLECTIONS) {
    let batch: Deno.KvKey[] = [];
    const flush = async () => {
      const doomed = batch;
      batch = [];
      const res = await commitOnce(() => {
        const op = kv.atomic();
        for (const key of doomed) op.delete(key);
        return op;
      });
      if (!res.ok) throw new Error("deleting user data failed");
    };
    // A prefix listing leaves out the key equal to the prefix, and some records are just that
    // (the rule set's version, the lease): deleted by name.
    batch.push([collection, userId]);
    for await (const entry of kv.list({ prefix: [collection, userId] })) {
      batch.push(entry.key);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length) await flush();
  }
  await deleteApiTokensOfUser(kv, userId);
  await deleteSessionsOfUser(kv, userId);
  await deleteUserRecord(kv, userId);
}
