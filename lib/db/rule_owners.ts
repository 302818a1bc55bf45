/**
 * Who has something to sync: the users with at least one enabled rule or group, for the cron.
 * Read from the rules and groups themselves (no separate index that could drift from them).
 */
import { listGroups } from "./groups.ts";
import { keys } from "./keys.ts";
import { listRules } from "./rules.ts";

/** Ids of the users with an enabled rule or group, in key order. */
export async function listUsersWithEnabledRules(kv: Deno.Kv): Promise<string[]> {
  const owners = new Set<string>();
  for (const prefix of [keys.allRules(), keys.allGroups()]) {
    for await (const entry of kv.list({ prefix })) owners.add(String(entry.key[1]));
  }
  const out: string[] = [];
  for (const userId of [...owners].sort()) {
    const enabled = (await listRules(kv, userId)).some((e) => e.rule.enabled) ||
      (await listGroups(kv, userId)).some((e) => e.group.enabled);
    if (enabled) out.push(userId);
  }
  return out;
}
