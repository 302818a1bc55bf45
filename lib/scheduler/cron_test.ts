import assert from "node:assert/strict";
import { cronSchedule, nextTickAt, reconcileDue, tickIdAt } from "./cron.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

Deno.test("cron: ticks are numbered by interval since the epoch, as the cron schedule fires", () => {
  const now = new Date("2026-03-04T10:47:12Z");
  assert.equal(nextTickAt(now, 30).toISOString(), "2026-03-04T11:00:00.000Z");
  assert.equal(nextTickAt(now, 15).toISOString(), "2026-03-04T11:00:00.000Z");
  assert.equal(tickIdAt(new Date("2026-03-04T10:30:00Z"), 30), tickIdAt(now, 30));
  assert.equal(cronSchedule(30), "*/30 * * * *");
  assert.equal(cronSchedule(120), "0 */2 * * *");
  assert.equal(cronSchedule(1440), "0 0 * * *");
  assert.equal(cronSchedule(60), "0 * * * *");
  // 45 divides neither the hour nor the day: ticks start on quarter hours, deduplicated per tick.
  assert.equal(cronSchedule(45), "*/15 * * * *");
  assert.equal(cronSchedule(7), "* * * * *");
  assert.equal(cronSchedule(300), "0 * * * *");
});

/** Whether a cron field of the forms cronSchedule writes (`*`, `*\/n`, `n`) matches `value`. */
function fieldMatches(field: string, value: number): boolean {
  if (field === "*") return true;
  if (field.startsWith("*/")) return value % Number(field.slice(2)) === 0;
  return value === Number(field);
}

Deno.test("cron: every documented interval (1 to 1440 minutes) is a schedule Deno.cron accepts that fires at each tick start", () => {
  const start = Date.parse("2026-03-04T00:00:00Z");
  for (let interval = 1; interval <= 1440; interval++) {
    const schedule = cronSchedule(interval);
    const stop = new AbortController();
    // Registering is what start-up does; it throws "Invalid cron schedule" for a bad one.
    Deno.cron(`interval-${interval}`, schedule, { signal: stop.signal }, () => {});
    stop.abort();
    const [minute, hour, ...rest] = schedule.split(" ");
    assert.deepEqual(rest, ["*", "*", "*"], schedule);
    const first = nextTickAt(new Date(start), interval).getTime();
    for (let t = first; t < start + 3 * 24 * HOUR; t += interval * MINUTE) {
      const at = new Date(t);
      assert.ok(
        fieldMatches(minute, at.getUTCMinutes()) && fieldMatches(hour, at.getUTCHours()),
        `${interval} min: "${schedule}" misses the tick at ${at.toISOString()}`,
      );
    }
  }
});

Deno.test("cron: each user's full reconcile falls in exactly one tick per period, spread out", () => {
  const interval = 30 * MINUTE;
  const period = 24 * HOUR;
  const start = Date.parse("2026-03-04T00:00:00Z");
  const slots = new Set<number>();
  for (let u = 0; u < 200; u++) {
    const due = [];
    for (let t = start; t < start + period; t += interval) {
      if (reconcileDue(`user-${u}`, t, interval, period)) due.push(t);
    }
    assert.equal(due.length, 1, `user-${u}`);
    slots.add(due[0]);
  }
  // 200 users over 48 ticks: most ticks get some; none of it is all at midnight.
  assert.ok(slots.size > 30, `only ${slots.size} distinct ticks`);
  // An interval longer than the period reconciles every time.
  assert.ok(reconcileDue("u", start, 2 * HOUR, HOUR));
});
