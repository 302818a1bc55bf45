import assert from "node:assert/strict";
import {
  getWritePause,
  listWritePauses,
  pauseAccountWrites,
  reserveCreates,
} from "./account_limits.ts";

const ann = { issuer: "https://accounts.google.com", sub: "111" };
const ben = { issuer: "https://accounts.google.com", sub: "222" };
const HOUR = 3_600_000;

Deno.test("account limits: concurrent reservations never grant more than the day's budget, and a new UTC day starts afresh", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = new Date("2030-01-01T23:00:00Z");
  const grants = await Promise.all(
    Array.from({ length: 8 }, () => reserveCreates(kv, ann, { wanted: 32, perDay: 100, now })),
  );
  assert.equal(grants.reduce((a, b) => a + b, 0), 100);
  assert.equal(await reserveCreates(kv, ann, { wanted: 5, perDay: 100, now }), 0);
  assert.equal(await reserveCreates(kv, ben, { wanted: 5, perDay: 100, now }), 5, "per account");
  const tomorrow = new Date(now.getTime() + 2 * HOUR);
  assert.equal(await reserveCreates(kv, ann, { wanted: 5, perDay: 100, now: tomorrow }), 5);
});

Deno.test("account limits: a write pause keeps the later end and is over once it passed", async () => {
  using kv = await Deno.openKv(":memory:");
  const since = new Date("2030-01-01T10:00:00Z");
  const at = (h: number) => new Date(since.getTime() + h * HOUR);
  await pauseAccountWrites(kv, ann, { since, until: at(6), reason: "read-only" });
  const shorter = await pauseAccountWrites(kv, ann, { since: at(1), until: at(3), reason: "x" });
  assert.equal(shorter.until, at(6).toISOString());
  assert.equal((await getWritePause(kv, ann, at(5)))?.reason, "read-only");
  assert.equal(await getWritePause(kv, ann, at(6)), null);
  assert.deepEqual((await listWritePauses(kv, [ann, ben, ann], at(1))).map((p) => p.sub), ["111"]);
});
