import assert from "node:assert/strict";
import { withMemoryKv } from "../../tests/support/temp_kv.ts";
import { acquireLease, acquireLeaseWaiting, LeaseHeldError, LeaseLostError } from "./leases.ts";
import { keys } from "./keys.ts";

const T0 = new Date("2026-01-01T00:00:00Z");
const later = (ms: number) => new Date(T0.getTime() + ms);

Deno.test("lease: one holder at a time; a second trigger leaves a follow-up, taken on release", () =>
  withMemoryKv(async (kv) => {
    const lease = await acquireLease(kv, "u1", { owner: "a", now: T0, ttlMs: 60_000 });
    assert.ok(lease);
    assert.equal(
      await acquireLease(kv, "u1", { owner: "b", now: later(1000), ttlMs: 60_000 }),
      null,
    );
    assert.equal(await lease.releaseOrTakeFollowUp(), "follow_up");
    assert.equal(await lease.releaseOrTakeFollowUp(), "released");
    assert.ok(await acquireLease(kv, "u1", { owner: "c", now: later(2000), ttlMs: 60_000 }));
  }));

Deno.test("lease: an expired lease is taken over and the old holder's writes are fenced out", () =>
  withMemoryKv(async (kv) => {
    const old = await acquireLease(kv, "u1", { owner: "a", now: T0, ttlMs: 60_000 });
    assert.ok(old);
    assert.equal(await old.commit((op) => op.set(["x"], 1)), true);
    const thief = await acquireLease(kv, "u1", { owner: "b", now: later(61_000), ttlMs: 60_000 });
    assert.ok(thief);
    await assert.rejects(old.commit((op) => op.set(["x"], 2)), LeaseLostError);
    assert.equal((await kv.get(["x"])).value, 1);
    await assert.rejects(old.hold(later(90_000)), LeaseLostError);
    assert.equal(await old.releaseOrTakeFollowUp(), "lost");
    assert.equal(await thief.commit((op) => op.set(["x"], 3)), true);
  }));

Deno.test("lease: renewal keeps writes in flight valid and pushes expiry out", () =>
  withMemoryKv(async (kv) => {
    const lease = await acquireLease(kv, "u1", { owner: "a", now: T0, ttlMs: 60_000 });
    assert.ok(lease);
    const writes = Array.from({ length: 20 }, (_, i) => lease.commit((op) => op.set(["w", i], i)));
    await lease.hold(later(30_000));
    assert.deepEqual(await Promise.all(writes), Array(20).fill(true));
    // Renewed at 30 s for 60 s: at 80 s it is still held.
    assert.equal(
      await acquireLease(kv, "u1", { owner: "b", now: later(80_000), ttlMs: 60_000 }),
      null,
    );
  }));

Deno.test("lease: commit reports a failed check of the caller's own as false, not as lost", () =>
  withMemoryKv(async (kv) => {
    const lease = await acquireLease(kv, "u1", { owner: "a", now: T0, ttlMs: 60_000 });
    assert.ok(lease);
    await kv.set(["r"], "v1");
    const read = await kv.get(["r"]);
    await kv.set(["r"], "v2");
    assert.equal(await lease.commit((op) => op.check(read).set(["r"], "v3")), false);
  }));

Deno.test("lease: abandoning keeps the follow-up flag for the next run", () =>
  withMemoryKv(async (kv) => {
    const lease = await acquireLease(kv, "u1", { owner: "a", now: T0, ttlMs: 60_000 });
    assert.ok(lease);
    await acquireLease(kv, "u1", { owner: "b", now: T0, ttlMs: 60_000 });
    await lease.abandon();
    assert.notEqual((await kv.get(keys.syncFollowUp("u1"))).value, null);
    assert.equal((await kv.get(keys.lease("u1"))).value, null);
  }));

Deno.test("lease: waiting gives up with LeaseHeldError and leaves no follow-up", () =>
  withMemoryKv(async (kv) => {
    await acquireLease(kv, "u1", { owner: "a", now: T0, ttlMs: 60_000 });
    await assert.rejects(
      acquireLeaseWaiting(kv, "u1", { owner: "b", ttlMs: 60_000, clock: () => T0, waitMs: 30 }),
      LeaseHeldError,
    );
    assert.equal((await kv.get(keys.syncFollowUp("u1"))).value, null);
  }));
