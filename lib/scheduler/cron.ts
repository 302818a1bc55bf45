/**
 * The periodic sync: every BUSYSYNC_SYNC_INTERVAL_MINUTES a tick enqueues one "schedule" job per
 * user with an enabled rule. Every instance registers the same Deno.cron; the tick's jobs are
 * deduplicated in KV (["ticks", tick, user], created with check(null)), so a user is enqueued
 * once per tick however many instances fire. Ticks are numbered by the interval since the
 * epoch, which is what the cron schedule fires on, so all instances agree on the number.
 *
 * A user's full reconcile (every BUSYSYNC_RECONCILE_HOURS) rides on the tick that contains the
 * user's own instant in the period, placed by a hash of the user id: reconciles spread evenly
 * over the period instead of every user listing everything at midnight.
 */
import type { Config } from "../config.ts";
import { listConnections } from "../db/connections.ts";
import { enqueueJob } from "../db/jobs.ts";
import { listUsersWithEnabledRules } from "../db/rule_owners.ts";
import { listRulesAndGroups } from "../db/rules.ts";
import { listPausedUserIds } from "../db/sync_pauses.ts";
import { sourcesOf } from "../model/edge_owner.ts";

export interface TickDeps {
  kv: Deno.Kv;
  config: Pick<Config, "syncIntervalMinutes" | "reconcileHours">;
  newId: () => string;
}

const MINUTE = 60_000;

/** The number of the interval `now` falls in. */
export function tickIdAt(now: Date, intervalMinutes: number): number {
  return Math.floor(now.getTime() / (intervalMinutes * MINUTE));
}

/** When the next tick after `now` fires. */
export function nextTickAt(now: Date, intervalMinutes: number): Date {
  return new Date((tickIdAt(now, intervalMinutes) + 1) * intervalMinutes * MINUTE);
}

/** FNV-1a (32 bit): a cheap, stable spread of user ids; nothing secret depends on it. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Whether the user's reconcile instant (offset + n × period, the offset from a hash of the id)
 * falls in the tick starting at `tickStartMs`. Exactly one tick per period says yes (every tick
 * when the interval is longer than the period).
 */
export function reconcileDue(
  userId: string,
  tickStartMs: number,
  intervalMs: number,
  periodMs: number,
): boolean {
  const offset = hashOf(userId) % periodMs;
  const n = Math.ceil((tickStartMs - offset) / periodMs);
  return offset + n * periodMs < tickStartMs + intervalMs;
}

/**
 * Enqueues the tick containing `now`: one "schedule" job per user with an enabled rule whose
 * syncs are not paused (lib/db/sync_pauses.ts), full
 * when the user's reconcile is due in this tick. Calling it again for the same tick (another
 * instance's cron, a retry) enqueues nobody twice. Returns how many jobs it created.
 */
export async function tick(
  deps: TickDeps,
  now: Date,
): Promise<{ tickId: number; created: number }> {
  const intervalMs = deps.config.syncIntervalMinutes * MINUTE;
  const tickId = tickIdAt(now, deps.config.syncIntervalMinutes);
  const periodMs = deps.config.reconcileHours * 60 * MINUTE;
  let created = 0;
  // A paused user's job would only be dropped by the worker: none is made.
  const paused = await listPausedUserIds(deps.kv);
  for (const userId of await listUsersWithEnabledRules(deps.kv)) {
    if (paused.has(userId)) continue;
    const full = reconcileDue(userId, tickId * intervalMs, intervalMs, periodMs);
    const res = await enqueueJob(deps.kv, userId, { reason: "schedule", full }, {
      now,
      newId: deps.newId,
      // The mark outlives the tick so that a late cron of another instance still sees it.
      tick: { id: tickId, keepMs: 2 * intervalMs },
    });
    if (res.created) created++;
  }
  return { tickId, created };
}

export interface PollDeps {
  kv: Deno.Kv;
  config: Pick<Config, "caldavPollMinutes" | "icsPollMinutes">;
  newId: () => string;
}

/** The connections that are polled, having no push: CalDAV accounts and ICS feeds. */
export type PolledKind = "caldav" | "ics";

/**
 * Enqueues the poll tick of `kind` containing `now`: for each user whose syncs are not paused,
 * a "poll" job for just the enabled rules and groups that read a calendar of an active
 * connection of that kind (CalDAV and feeds have no push; everything else waits for its push or
 * the regular tick). Each kind ticks on its own interval; deduplicated per tick like `tick`.
 * Returns how many jobs it created.
 */
export async function pollTick(
  deps: PollDeps,
  now: Date,
  kind: PolledKind = "caldav",
): Promise<{ tickId: number; created: number }> {
  const minutes = kind === "ics" ? deps.config.icsPollMinutes : deps.config.caldavPollMinutes;
  const tickId = tickIdAt(now, minutes);
  let created = 0;
  const paused = await listPausedUserIds(deps.kv);
  for (const userId of await listUsersWithEnabledRules(deps.kv)) {
    if (paused.has(userId)) continue;
    const polled = new Set(
      (await listConnections(deps.kv, userId))
        .filter((c) => c.kind === kind && c.status === "active").map((c) => c.id),
    );
    if (!polled.size) continue;
    const ruleIds = (await listRulesAndGroups(deps.kv, userId))
      .filter((o) => o.enabled && sourcesOf(o).some((cal) => polled.has(cal.connectionId)))
      .map((o) => o.id);
    if (!ruleIds.length) continue;
    const res = await enqueueJob(deps.kv, userId, { reason: "poll", ruleIds }, {
      now,
      newId: deps.newId,
      tick: { id: tickId, keepMs: 2 * minutes * MINUTE, poll: kind },
    });
    if (res.created) created++;
  }
  return { tickId, created };
}

/**
 * The Deno.cron schedule (UTC) that fires at the start of every tick, for any interval from 1 to
 * 1440 minutes. Ticks start at multiples of the interval since the epoch (a UTC midnight), so a
 * tick of m minutes starts on a minute that is a multiple of gcd(m, 60) and, when m is whole
 * hours h, on an hour that is a multiple of gcd(h, 24): the schedule fires that often. For a
 * divisor of the hour, or whole hours dividing the day, that is once per tick; otherwise the
 * extra firings find the tick already enqueued. Cron steps must stay below the field's range
 * (Deno.cron refuses `*\/60` and `0 *\/24`), hence the plain forms for a whole hour and day.
 */
export function cronSchedule(intervalMinutes: number): string {
  if (intervalMinutes % 60 !== 0) {
    const minutes = gcd(intervalMinutes, 60);
    return minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`;
  }
  const hours = gcd(intervalMinutes / 60, 24);
  if (hours === 24) return "0 0 * * *";
  return hours === 1 ? "0 * * * *" : `0 */${hours} * * *`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
