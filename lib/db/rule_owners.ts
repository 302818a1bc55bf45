/**
 * Who has something to sync: the users with at least one enabled rule, for the cron. Read from
 * the rules themselves (no separate index that could drift from them).
 */
import { keys } from "./keys.ts";
import { listRules } from "./rules.ts";

/** Ids of the users with an enabled rule, in key order. */
export async function listUsersWithEnabledRules(kv: Deno.Kv): Promise<string[]> {
  const owners: string[] = [];
  for await (const entry of kv.list({ prefix: keys.allRules() })) {
    const userId = String(entry.key[1]);
    if (owners.at(-1) !== userId) owners.push(userId);
  }
  const out: string[] = [];
  for (const userId of owners) {
    if ((await listRules(kv, userId)).some((e) => e.rule.enabled)) out.push(userId);
  }
  return out;
}
