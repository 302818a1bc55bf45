import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoff: the ceiling doubles per retry up to its cap; jitter draws below or around it", () => {
  const at = (r: number) => () => r;
  const full = { baseMs: 1_000, maxMs: 32_000, jitter: "full" as const };
  assert.deepEqual(
    [1, 2, 3, 6, 7, 20].map((n) => backoffDelay(n, { ...full, random: at(0.5) })),
    [500, 1_000, 2_000, 16_000, 16_000, 16_000],
  );
  assert.equal(backoffDelay(3, { ...full, random: at(0) }), 0);
  const half = { baseMs: 5, maxMs: 500, jitter: "half" as const };
  assert.equal(backoffDelay(1, { ...half, random: at(0) }), 2.5);
  assert.equal(backoffDelay(1, { ...half, random: at(0.5) }), 5);
  assert.equal(backoffDelay(30, { ...half, random: at(0.5) }), 500);
});
