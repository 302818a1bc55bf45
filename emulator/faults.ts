/**
 * Fault injection for Calendar API calls (and the token endpoint, as method `oauth.token`): a rule
 * picks a method (or `*`) and a fault, and fires on the next N matching calls, on a percentage of
 * them (a seeded PRNG per rule, so a run is repeatable), or on every call until cleared.
 */
import { z } from "zod";
import { authError, GoogleApiError, notFound, usageLimitsExceeded } from "./google_errors.ts";

export const FaultRuleInput = z.object({
  method: z.string().min(1).default("*"),
  fault: z.enum([
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
    "queriesPerDay",
    "notFound",
    "tooManyRequests",
    "backendError",
    "serviceUnavailable",
    "connectionReset",
    "lostResponse",
    "delay",
    "authError",
  ]),
  times: z.number().int().positive().optional(),
  /** Matching calls let through before the rule starts firing (to fail a later step of a run). */
  after: z.number().int().nonnegative().default(0),
  percent: z.number().gt(0).max(100).optional(),
  seed: z.number().int().default(1),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  retryAfterSeconds: z.number().int().min(0).default(1),
}).refine((r) => r.times === undefined || r.percent === undefined, {
  message: "give either times or percent, not both",
}).refine((r) => r.fault !== "delay" || r.delayMs !== undefined, {
  message: "a delay fault needs delayMs",
});
export type FaultRuleInput = z.input<typeof FaultRuleInput>;

export interface FaultRule extends z.output<typeof FaultRuleInput> {
  id: number;
  /** Calls this rule has affected so far. */
  hits: number;
  /** Matching calls let through so far (up to `after`). */
  passed: number;
}

/** mulberry32: tiny, fast and good enough to make percentages repeatable from a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Error bodies as Google sends them for these conditions (notes §4, [ERR]). */
function faultError(rule: FaultRule): GoogleApiError {
  const usage = (status: number, reason: string, message: string, headers = {}) =>
    new GoogleApiError(status, { domain: "usageLimits", reason, message }, { headers });
  switch (rule.fault) {
    case "rateLimitExceeded":
      return usage(403, "rateLimitExceeded", "Rate Limit Exceeded");
    case "userRateLimitExceeded":
      return usage(403, "userRateLimitExceeded", "User Rate Limit Exceeded");
    case "quotaExceeded":
      return usageLimitsExceeded();
    case "queriesPerDay":
      // The project's daily quota is spent (notes §10). The reason is Google's; the wording
      // beyond "Queries per day" follows Cloud quota messages and is a guess.
      return usage(
        403,
        "rateLimitExceeded",
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per day' of service " +
          "'calendar-json.googleapis.com'.",
      );
    case "tooManyRequests":
      return usage(429, "rateLimitExceeded", "Rate Limit Exceeded", {
        "Retry-After": String(rule.retryAfterSeconds),
      });
    case "notFound":
      // What Google answers for an id the calendar does not hold: for events.instances, a
      // series only some of whose instances this calendar was invited to (notes §3).
      return notFound();
    case "authError":
      // What Google answers a token it no longer honours, however fresh (notes §3).
      return authError();
    case "backendError":
      return new GoogleApiError(500, {
        domain: "global",
        reason: "backendError",
        message: "Backend Error",
      });
    default:
      // 503: the body Google sends is not documented; this one is a guess.
      return new GoogleApiError(503, {
        domain: "global",
        reason: "backendError",
        message: "The service is currently unavailable.",
      }, { status: "UNAVAILABLE" });
  }
}

/**
 * A response that promises more body than it sends, so the server drops the connection mid-body:
 * the client gets a network error (ECONNRESET for node:http, "error reading a body" for fetch)
 * instead of an HTTP error. Deno.serve offers no way to drop a socket before the status line.
 */
function resetConnection(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("{"));
        controller.close();
      },
    }),
    { headers: { "content-type": "application/json", "content-length": "1024" } },
  );
}

/** What a fault does to a call: answer instead of it, or let it happen and lose its answer. */
export interface FaultEffect {
  /** Sent instead of carrying out the call. */
  instead?: Response;
  /**
   * Sent after the call was carried out, in place of its answer: the write is committed but
   * the client never learns so, the case that makes retried inserts meet 409.
   */
  afterCall?: Response;
}

export class FaultInjector {
  #rules: { rule: FaultRule; random: () => number }[] = [];
  #nextId = 1;

  /** Adds a rule; later calls are checked against rules in the order they were added. */
  add(input: z.output<typeof FaultRuleInput>): FaultRule {
    const rule: FaultRule = { ...input, id: this.#nextId++, hits: 0, passed: 0 };
    this.#rules.push({ rule, random: prng(input.seed) });
    return rule;
  }

  /** Active rules; a `times` rule disappears once used up. */
  list(): FaultRule[] {
    return this.#rules.map((r) => r.rule);
  }

  clear(): void {
    this.#rules = [];
  }

  #pick(method: string): FaultRule | undefined {
    for (const entry of this.#rules) {
      const { rule } = entry;
      if (rule.method !== "*" && rule.method !== method) continue;
      if (rule.passed < rule.after) {
        rule.passed++;
        continue;
      }
      if (rule.percent !== undefined && entry.random() * 100 >= rule.percent) continue;
      rule.hits++;
      if (rule.times !== undefined && rule.hits >= rule.times) {
        this.#rules = this.#rules.filter((r) => r !== entry);
      }
      return rule;
    }
    return undefined;
  }

  /**
   * Applies the fault due for this call of `method`, if any: throws a GoogleApiError for error
   * faults, answers a broken Response `instead` for a connection reset and `afterCall` for a lost
   * response, waits for a delay and returns undefined (the call then proceeds normally).
   */
  async apply(method: string): Promise<FaultEffect | undefined> {
    const rule = this.#pick(method);
    if (!rule) return undefined;
    if (rule.fault === "delay") {
      await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
      return undefined;
    }
    if (rule.fault === "connectionReset") return { instead: resetConnection() };
    if (rule.fault === "lostResponse") return { afterCall: resetConnection() };
    throw faultError(rule);
  }
}
