/**
 * `deno task bench nearest`: how soon a new rule's next 14 days are mirrored with the real
 * request budget (BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE's default, 500 a minute per connection,
 * enforced by the provider's budget as in production). One rule over a 1,000-event calendar
 * (events over the next 60 days, created, and so listed, in shuffled order), the emulator in
 * its own process; the clock starts when the rule is saved and stops when every busy block of
 * the next 14 days is in the target, polled through the emulator's admin API (not budgeted).
 *
 * Three strategies, each with its own connection and budget, on identical calendars:
 * - `nearestFirst`: busysync as it is, the bounded first pass over the next 14 days;
 * - `wholePlanSorted`: busysync without the first pass: one plan of the whole listing, written
 *   soonest first (what this engine did before listings became page-bounded);
 * - `listingOrder`: writes in the order the listing came (naive_sync.ts), which is what writing
 *   page by page gives when nothing comes first.
 */
import { OAuth2Client } from "google-auth-library";
import { createRule, listRules } from "../lib/db/rules.ts";
import { createGoogleProvider } from "../lib/google/provider.ts";
import { createRetryPolicy } from "../lib/google/retry_policy.ts";
import { createKeyring } from "../lib/auth/crypto.ts";
import { randomKeyBase64 } from "../lib/db/settings.ts";
import { createLogger } from "../lib/log.ts";
import { syncUser } from "../lib/sync/engine.ts";
import { RuleInputSchema } from "../lib/model/rule.ts";
import { naiveSync } from "./naive_sync.ts";
import { emulatorAdmin, startEmulatorProcess } from "./emulator_process.ts";
import { prng } from "../emulator/faults.ts";

const EVENTS = 1_000;
const DAYS_AHEAD = 60;
const NEAREST_DAYS = 14;
const REQUESTS_PER_MINUTE = 500;
const DAY = 86_400_000;
const CLIENT = { clientId: "bench-client", clientSecret: "bench-secret" };
const STRATEGIES = ["nearestFirst", "wholePlanSorted", "listingOrder"] as const;
type Strategy = typeof STRATEGIES[number];

/** 1,000 half-hour events over the next 60 days, in shuffled order. */
function seedEvents(now: number) {
  const random = prng(16);
  const events = Array.from({ length: EVENTS }, (_, i) => {
    const start = now + 3_600_000 + Math.floor(random() * (DAYS_AHEAD - 1) * 48) * 1_800_000;
    return {
      summary: `Event ${i}`,
      start: { dateTime: new Date(start).toISOString() },
      end: { dateTime: new Date(start + 1_800_000).toISOString() },
    };
  });
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  return events;
}

export interface NearestFirstFigures {
  /** Seconds from saving the rule until every busy block of the next 14 days existed. */
  secondsToNearestDays: number;
  /** Seconds until the whole window was mirrored (the run ended). */
  secondsToAll: number;
  nearestEvents: number;
}

/** Runs the benchmark and returns its figures. */
export async function runNearestFirstBench(log: (line: string) => void = console.log) {
  const now = Date.now();
  const events = seedEvents(now);
  const horizon = now + NEAREST_DAYS * DAY;
  const nearestEvents = events.filter((e) => Date.parse(e.start.dateTime) < horizon).length;
  const cals = (s: Strategy) => ({ email: `${s}@bench.test`, target: `${s}-dst@bench.test` });
  const emulator = await startEmulatorProcess({
    clients: [CLIENT],
    users: STRATEGIES.map((s) => ({
      email: cals(s).email,
      name: s,
      calendars: [
        { id: cals(s).email, summary: "source", timeZone: "UTC", primary: true, events },
        { id: cals(s).target, summary: "target", timeZone: "UTC" },
      ],
    })),
  });
  const dir = await Deno.makeTempDir({ prefix: "busysync-bench-nearest-" });
  const kv = await Deno.openKv(`${dir}/bench.kv`);
  const admin = emulatorAdmin(emulator.url);
  /** Busy blocks in the target starting within the next 14 days. */
  const nearestMirrors = async (s: Strategy) => {
    const { items } = await admin("GET", `calendars/${encodeURIComponent(cals(s).target)}/events`);
    return (items as { status: string; start: { dateTime: string } }[])
      .filter((e) => e.status !== "cancelled" && Date.parse(e.start.dateTime) < horizon).length;
  };
  const results: Partial<Record<Strategy, NearestFirstFigures>> = {};
  try {
    for (const s of STRATEGIES) {
      const tokens = await admin("POST", "tokens", { email: cals(s).email, ...CLIENT });
      const client = new OAuth2Client({
        ...CLIENT,
        endpoints: { oauth2TokenUrl: `${emulator.url}/token` },
      });
      client.setCredentials({ ...tokens, expiry_date: Date.now() + tokens.expires_in * 1000 });
      // Its own policy, so its own budget: each strategy starts with a fresh minute.
      const provider = createGoogleProvider({
        apiUrl: emulator.url,
        authFor: () => client,
        policy: createRetryPolicy({
          now: Date.now,
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          requestsPerMinute: REQUESTS_PER_MINUTE,
        }),
      });
      const started = performance.now();
      await createRule(
        kv,
        s,
        RuleInputSchema.parse({
          name: "bench",
          source: { connectionId: s, calendarId: cals(s).email },
          target: { connectionId: s, calendarId: cals(s).target },
        }),
        { now: new Date() },
      );
      let nearestAt: number | undefined;
      let done = false;
      const watcher = (async () => {
        while (!done && nearestAt === undefined) {
          if (await nearestMirrors(s) >= nearestEvents) nearestAt = performance.now();
          else await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      if (s === "listingOrder") {
        await naiveSync(provider, (await listRules(kv, s)).map((e) => e.rule), new Date());
      } else {
        const result = await syncUser({
          kv,
          userId: s,
          providerFor: () => provider,
          clock: () => new Date(),
          keyring: await createKeyring([randomKeyBase64()]),
          config: {
            deleteGuard: { percent: 20, min: 10 },
            historyMaxRuns: 50,
            historyMaxDays: 7,
            accountLimits: { createsPerDay: Infinity, pauseHours: 6 },
            requestsPerMinute: REQUESTS_PER_MINUTE,
            nearestFirstDays: s === "nearestFirst" ? NEAREST_DAYS : 0,
          },
          log: createLogger("error"),
          trigger: "rule_saved",
        });
        if (result.status !== "completed" || result.run.outcome !== "ok") {
          throw new Error(`bench: ${s} did not sync: ${JSON.stringify(result)}`);
        }
      }
      const endedAt = performance.now();
      done = true;
      await watcher;
      if (nearestAt === undefined && await nearestMirrors(s) >= nearestEvents) nearestAt = endedAt;
      if (nearestAt === undefined) throw new Error(`bench: ${s} left the next days unmirrored`);
      results[s] = {
        secondsToNearestDays: Math.round((nearestAt - started) / 100) / 10,
        secondsToAll: Math.round((endedAt - started) / 100) / 10,
        nearestEvents,
      };
      log(`nearest: ${s}: ${JSON.stringify(results[s])}`);
    }
  } finally {
    kv.close();
    await emulator.stop();
    await Deno.remove(dir, { recursive: true });
  }
  return {
    setup: {
      events: EVENTS,
      daysAhead: DAYS_AHEAD,
      nearestDays: NEAREST_DAYS,
      requestsPerMinute: REQUESTS_PER_MINUTE,
      emulator: "separate process; the provider's request budget enforced, as in production",
      measuredAt: new Date().toISOString(),
    },
    strategies: results,
  };
}
