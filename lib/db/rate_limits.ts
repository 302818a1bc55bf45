/**
 * Fixed-window request counters in KV, shared by every process on the store. A window's counter
 * expires with the window, so counters need no cleanup.
 */
import { z } from "zod";
import { commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

export interface WindowDecision {
  allowed: boolean;
  /** When the current window ends (ms since the epoch): the earliest a refused client may retry. */
  windowEnd: number;
}

/**
 * Counts one request of `client` in `bucket` for the fixed window of `windowMs` containing
 * `now`, unless `limit` requests were already counted there: then it is refused and nothing is
 * written, so a flood of refused requests costs reads only. Counting is a checked
 * read-modify-write, so concurrent requests are all counted.
 */
export async function takeFromWindow(
  kv: Deno.Kv,
  input: { bucket: string; client: string; windowMs: number; limit: number; now: Date },
): Promise<WindowDecision> {
  const t = input.now.getTime();
  const windowStart = t - (t % input.windowMs);
  const windowEnd = windowStart + input.windowMs;
  const key = keys.rateLimit(input.bucket, input.client, windowStart);
  let allowed = false;
  await commitWithRetry(async () => {
    const entry = await kv.get(key);
    const count = z.number().int().catch(0).parse(entry.value ?? 0);
    allowed = count < input.limit;
    if (!allowed) return null;
    return {
      op: kv.atomic().check(entry).set(key, count + 1, { expireIn: Math.max(1000, windowEnd - t) }),
    };
  }, { attempts: 50, baseDelayMs: 1 });
  return { allowed, windowEnd };
}
