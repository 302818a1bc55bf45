/**
 * The per-user sync lease: at most one sync of a user runs at a time, across processes sharing
 * the KV store. A lease is one expiring record; whoever holds it passes its versionstamp (the
 * fence) to every write it makes, so a run whose lease expired and was taken by another owner
 * fails its next write with LeaseLostError instead of overwriting the newer run's work.
 *
 * A trigger that finds the lease held leaves a "follow-up wanted" flag in a separate key (not in
 * the lease itself: changing the lease's versionstamp would fence the running sync out). The
 * holder checks the flag in the same atomic operation that releases the lease, so a trigger is
 * either seen by the holder (which runs again) or finds the lease free (and runs itself): it is
 * coalesced, never lost.
 */
import { z } from "zod";
import { commitOnce, commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

/** The running sync no longer holds its user's lease; it must stop writing. */
export class LeaseLostError extends Error {
  constructor(readonly userId: string, readonly owner: string) {
    super(`sync of user ${userId} lost its lease (owner ${owner}); another run took over`);
    this.name = "LeaseLostError";
  }
}

/** The lease is held by another run and did not come free while waiting for it. */
export class LeaseHeldError extends Error {
  constructor(readonly userId: string) {
    super(`a sync of user ${userId} is running; try again when it has finished`);
    this.name = "LeaseHeldError";
  }
}

/**
 * What a write of the sync checks: that the writer still holds the lease. Implemented by Lease;
 * lib/db modules take this interface so that every write of a run is fenced the same way.
 */
export interface Fence {
  /**
   * Commits the operation `build` makes, together with a check of the lease. Returns false when
   * another check `build` added failed (the caller re-reads); throws LeaseLostError when the
   * lease changed hands, in which case nothing of the operation was written.
   */
  commit(build: (op: Deno.AtomicOperation) => Deno.AtomicOperation): Promise<boolean>;
}

const LeaseRecordSchema = z.object({
  v: z.literal(1),
  owner: z.string(),
  acquiredAt: z.iso.datetime(),
  /** Judged by readers: KV's expireIn removes the record eventually, not promptly. */
  until: z.iso.datetime(),
});
type LeaseRecord = z.infer<typeof LeaseRecordSchema>;

const FollowUpSchema = z.object({ v: z.literal(1), requestedAt: z.iso.datetime() });

/** How often a holder checks, between writes, that the lease is still its own (see hold). */
const CHECK_EVERY_WRITES = 16;
const CHECK_EVERY_MS = 200;

/** A flag no holder picked up (a crashed process) is dropped after a day; a run covers it anyway. */
const FOLLOW_UP_KEPT_MS = 24 * 3600_000;

/**
 * A held lease. Stateful (its versionstamp changes on renewal), hence a class. Writes may run
 * concurrently with a renewal: a write that failed only because the lease was renewed under it
 * is retried with the new versionstamp.
 */
export class Lease implements Fence {
  #versionstamp: string;
  #renewedAt: number;
  #renewing: Promise<void> | undefined;
  #checking: Promise<void> | undefined;
  #checkedAt: number;
  #writesSinceCheck = 0;
  #lost = false;

  constructor(
    private readonly kv: Deno.Kv,
    readonly userId: string,
    readonly owner: string,
    private readonly ttlMs: number,
    versionstamp: string,
    renewedAt: Date,
  ) {
    this.#versionstamp = versionstamp;
    this.#renewedAt = renewedAt.getTime();
    this.#checkedAt = renewedAt.getTime();
  }

  async commit(build: (op: Deno.AtomicOperation) => Deno.AtomicOperation): Promise<boolean> {
    const key = keys.lease(this.userId);
    for (;;) {
      const versionstamp = this.#versionstamp;
      const res = await commitOnce(() => build(this.kv.atomic().check({ key, versionstamp })));
      if (res.ok) return true;
      await this.#renewalSettled();
      if (this.#versionstamp !== versionstamp) continue;
      const current = await this.kv.get(key);
      if (current.versionstamp !== versionstamp) throw this.lost();
      return false;
    }
  }

  /**
   * Called before each calendar write: extends the lease when a third of its time has passed
   * since the last renewal, and otherwise checks with a read that it is still ours, every
   * CHECK_EVERY_WRITES writes or CHECK_EVERY_MS, whichever comes first. So a run that lost its
   * lease stops within a few writes, not only at its next (fenced, so harmless) ledger commit,
   * for a read per 16 writes instead of one per write (a read costs about 70 µs).
   * Throws LeaseLostError when another owner holds it now.
   */
  async hold(now: Date): Promise<void> {
    if (this.#lost) throw this.lost();
    if (this.#renewing) return await this.#renewing;
    const t = now.getTime();
    if (t - this.#renewedAt >= this.ttlMs / 3) {
      this.#renewing = this.#renew(now).finally(() => this.#renewing = undefined);
      return await this.#renewing;
    }
    if (++this.#writesSinceCheck < CHECK_EVERY_WRITES && t - this.#checkedAt < CHECK_EVERY_MS) {
      return;
    }
    this.#writesSinceCheck = 0;
    this.#checkedAt = t;
    this.#checking ??= this.#check().finally(() => this.#checking = undefined);
    await this.#checking;
  }

  async #check(): Promise<void> {
    const before = this.#versionstamp;
    const { versionstamp } = await this.kv.get(keys.lease(this.userId));
    if (versionstamp === before || versionstamp === this.#versionstamp) return;
    // A concurrent renewal may have committed before its new versionstamp was recorded.
    await this.#renewalSettled();
    if (versionstamp === this.#versionstamp) return;
    this.#lost = true;
    throw this.lost();
  }

  /** Resolves once a renewal in progress (if any) has finished, whatever its outcome. */
  async #renewalSettled(): Promise<void> {
    await this.#renewing?.catch(() => {});
  }

  async #renew(now: Date): Promise<void> {
    const key = keys.lease(this.userId);
    const current = await this.kv.get(key);
    if (current.versionstamp !== this.#versionstamp) throw this.lost();
    const next: LeaseRecord = {
      ...LeaseRecordSchema.parse(current.value),
      until: new Date(now.getTime() + this.ttlMs).toISOString(),
    };
    const res = await commitOnce(() =>
      this.kv.atomic().check(current).set(key, next, { expireIn: this.ttlMs })
    );
    if (!res.ok) throw this.lost();
    this.#versionstamp = res.versionstamp;
    this.#renewedAt = now.getTime();
  }

  /**
   * Releases the lease unless a follow-up was requested meanwhile: then the flag is consumed,
   * the lease kept, and "follow_up" returned so the caller runs once more before releasing
   * again. Returns "lost" when the lease was no longer ours (nothing to release).
   */
  async releaseOrTakeFollowUp(): Promise<"released" | "follow_up" | "lost"> {
    const followUpKey = keys.syncFollowUp(this.userId);
    const key = keys.lease(this.userId);
    await this.#renewalSettled();
    for (;;) {
      const followUp = await this.kv.get(followUpKey);
      const res = await commitOnce(() => {
        const op = this.kv.atomic().check({ key, versionstamp: this.#versionstamp }).check(
          followUp,
        );
        return followUp.value !== null ? op.delete(followUpKey) : op.delete(key);
      });
      if (res.ok) return followUp.value !== null ? "follow_up" : "released";
      const lease = await this.kv.get(key);
      if (lease.versionstamp !== this.#versionstamp) return "lost";
      // Only the follow-up flag changed (a trigger arrived): look again.
    }
  }

  /**
   * Gives the lease up after a failed run without consuming a follow-up flag, so the flag's
   * trigger is not lost: the next run to start covers it. No-op when the lease is not ours.
   */
  async abandon(): Promise<void> {
    await this.#renewalSettled();
    const key = keys.lease(this.userId);
    await commitOnce(() =>
      this.kv.atomic().check({ key, versionstamp: this.#versionstamp }).delete(key)
    );
  }

  lost(): LeaseLostError {
    return new LeaseLostError(this.userId, this.owner);
  }
}

export interface AcquireOptions {
  owner: string;
  now: Date;
  ttlMs: number;
  /** Leave a follow-up flag when the lease is held (default true); false to only probe. */
  followUp?: boolean;
}

/**
 * Takes the user's lease when it is free or expired (by `now`), clearing any follow-up flag:
 * the run about to start covers every trigger that came before it. When another owner holds
 * it, sets the follow-up flag (unless `followUp: false`) and returns null.
 */
export async function acquireLease(
  kv: Deno.Kv,
  userId: string,
  opts: AcquireOptions,
): Promise<Lease | null> {
  const key = keys.lease(userId);
  const followUpKey = keys.syncFollowUp(userId);
  const res = await commitWithRetry<boolean>(async () => {
    const current = await kv.get(key);
    const held = current.value !== null &&
      Date.parse(LeaseRecordSchema.parse(current.value).until) > opts.now.getTime();
    if (held) {
      if (opts.followUp === false) return { op: kv.atomic().check(current), result: false };
      const flag = FollowUpSchema.parse({ v: 1, requestedAt: opts.now.toISOString() });
      return {
        op: kv.atomic().check(current).set(followUpKey, flag, { expireIn: FOLLOW_UP_KEPT_MS }),
        result: false,
      };
    }
    const record: LeaseRecord = {
      v: 1,
      owner: opts.owner,
      acquiredAt: opts.now.toISOString(),
      until: new Date(opts.now.getTime() + opts.ttlMs).toISOString(),
    };
    return {
      op: kv.atomic().check(current).set(key, record, { expireIn: opts.ttlMs }).delete(followUpKey),
      result: true,
    };
  });
  if (!res?.result) return null;
  return new Lease(kv, userId, opts.owner, opts.ttlMs, res.versionstamp, opts.now);
}

/**
 * Waits (polling, without leaving follow-up flags) until the lease can be taken, for one-off
 * operations a user asked for. Throws LeaseHeldError after `waitMs`.
 */
export async function acquireLeaseWaiting(
  kv: Deno.Kv,
  userId: string,
  opts: Omit<AcquireOptions, "now" | "followUp"> & {
    clock: () => Date;
    waitMs: number;
    pollMs?: number;
  },
): Promise<Lease> {
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    const lease = await acquireLease(kv, userId, { ...opts, now: opts.clock(), followUp: false });
    if (lease) return lease;
    if (Date.now() >= deadline) throw new LeaseHeldError(userId);
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 100));
  }
}

/**
 * Whether a run holds the user's lease at `now` (an expired lease counts as free). A read only:
 * unlike acquireLease it leaves no follow-up flag, so a caller can wait its turn instead.
 */
export async function isLeaseHeld(kv: Deno.Kv, userId: string, now: Date): Promise<boolean> {
  const current = await kv.get(keys.lease(userId));
  if (current.value === null) return false;
  return Date.parse(LeaseRecordSchema.parse(current.value).until) > now.getTime();
}
