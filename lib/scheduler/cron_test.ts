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
  assert.equal(cronSchedule(1440), "0 */24 * * *");
  // 45 divides neither the hour nor the day: every minute, deduplicated per tick.
  assert.equal(cronSchedule(45), "* * * * *");
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
