/**
 * Failure streaks: how many runs in a row could not apply a rule, and why the latest did not.
 * One failed run is weather (Google had a bad minute, the run is retried anyway); the same
 * failure run after run is something a person must hear about, which the engine shows as the
 * rule's status "failing" once the streak is long enough. A clean run ends the streak.
 */
import { z } from "zod";
import { keys } from "./keys.ts";
import type { Fence } from "./leases.ts";

const FailureStreakSchema = z.object({
  v: z.literal(1),
  /** Runs in a row that failed the rule. */
  streak: z.number().int().positive(),
  /** When the first of them ran. */
  since: z.iso.datetime(),
});

export interface FailureStreak {
  streak: number;
  since: string;
}

/** Counts one more failed run of the rule and returns the streak it makes. Fenced. */
export async function recordRuleFailure(
  kv: Deno.Kv,
  fence: Fence,
  userId: string,
  ruleId: string,
  now: Date,
): Promise<FailureStreak> {
  const key = keys.ruleFailures(userId, ruleId);
  for (;;) {
    const entry = await kv.get(key);
    const before = entry.value === null ? undefined : FailureStreakSchema.parse(entry.value);
    const next = {
      v: 1 as const,
      streak: (before?.streak ?? 0) + 1,
      since: before?.since ?? now.toISOString(),
    };
    if (await fence.commit((op) => op.check(entry).set(key, next))) {
      return { streak: next.streak, since: next.since };
    }
  }
}

/** Ends the rule's streak after a run that applied it; cheap when there is none. Fenced. */
export async function clearRuleFailures(
  kv: Deno.Kv,
  fence: Fence,
  userId: string,
  ruleId: string,
): Promise<void> {
  const key = keys.ruleFailures(userId, ruleId);
  const entry = await kv.get(key);
  if (entry.value === null) return;
  await fence.commit((op) => op.delete(key));
}
