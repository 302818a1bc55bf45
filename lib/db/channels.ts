/**
 * Push channels (Google events.watch) per user. A channel's record is written before the watch
 * request goes out, because Google's first notification may arrive before the watch response
 * (notes §6); only the SHA-256 of its token is kept, so the store cannot forge notifications.
 * A stopped channel stays as a tombstone until it would have expired, so that notifications
 * still in flight for it are recognised and ignored. Records expire by themselves after their
 * channel's expiry.
 */
import { z } from "zod";
import { commitOnce, commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";
import { getAll, listIndexed } from "./kv.ts";

const ChannelSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  userId: z.string(),
  connectionId: z.string(),
  calendarId: z.string(),
  tokenHash: z.string(),
  /** opening: watch sent, no answer yet; failed: the watch was refused (retried later). */
  state: z.enum(["opening", "active", "stopped", "failed"]),
  resourceId: z.string().optional(),
  createdAt: z.iso.datetime(),
  /** Requested while opening, Google's (possibly shorter) expiry once active. */
  expiresAt: z.iso.datetime(),
  stoppedAt: z.iso.datetime().optional(),
  error: z.string().optional(),
});
export type PushChannel = z.infer<typeof ChannelSchema>;

const NotifiedSchema = z.object({ v: z.literal(1), at: z.iso.datetime() });

/** Records outlive their channel a little, so a late notification still finds its tombstone. */
const KEPT_AFTER_EXPIRY_MS = 3600_000;

function expireInFor(channel: PushChannel, now: Date): number {
  return Math.max(60_000, Date.parse(channel.expiresAt) - now.getTime() + KEPT_AFTER_EXPIRY_MS);
}

function read(value: unknown): PushChannel {
  return ChannelSchema.parse(value);
}

/** Stores a new channel (state opening); throws if the id exists (ids are random). */
export async function createChannel(kv: Deno.Kv, channel: PushChannel, now: Date): Promise<void> {
  const record = ChannelSchema.parse(channel);
  const expireIn = expireInFor(record, now);
  const key = keys.channel(record.id);
  const res = await commitOnce(() =>
    kv.atomic().check({ key, versionstamp: null })
      .set(key, record, { expireIn })
      .set(keys.channelByUser(record.userId, record.id), record.id, { expireIn })
  );
  if (!res.ok) throw new Error(`push channel ${record.id} exists already`);
}

/** The channel (a tombstone included), or null when unknown or expired. */
export async function getChannel(kv: Deno.Kv, channelId: string): Promise<PushChannel | null> {
  const entry = await kv.get(keys.channel(channelId));
  return entry.value === null ? null : read(entry.value);
}

/** Every channel record of the user, tombstones included. */
export function listChannelsOfUser(kv: Deno.Kv, userId: string): Promise<PushChannel[]> {
  return listIndexed(kv, keys.channelsByUser(userId), keys.channel, read);
}

/** Read-modify-write of one channel; the index entry follows the record's new expiry. */
async function updateChannel(
  kv: Deno.Kv,
  channelId: string,
  now: Date,
  change: (channel: PushChannel) => PushChannel,
  expireIn?: number,
): Promise<PushChannel | null> {
  const res = await commitWithRetry<PushChannel | null>(async () => {
    const entry = await kv.get(keys.channel(channelId));
    if (entry.value === null) return { op: kv.atomic().check(entry), result: null };
    const next = ChannelSchema.parse(change(read(entry.value)));
    const options = { expireIn: expireIn ?? expireInFor(next, now) };
    return {
      op: kv.atomic().check(entry).set(entry.key, next, options)
        .set(keys.channelByUser(next.userId, next.id), next.id, options),
      result: next,
    };
  });
  return res?.result ?? null;
}

/** The watch succeeded: the channel is live until Google's expiry. */
export async function activateChannel(
  kv: Deno.Kv,
  channelId: string,
  opened: { resourceId: string; expiresAt: Date; now: Date },
): Promise<PushChannel | null> {
  return await updateChannel(kv, channelId, opened.now, (c) => ({
    ...c,
    state: "active",
    resourceId: opened.resourceId,
    expiresAt: opened.expiresAt.toISOString(),
  }));
}

/** The channel was stopped (or given up): its record stays as a tombstone until its expiry. */
export async function markChannelStopped(
  kv: Deno.Kv,
  channelId: string,
  now: Date,
): Promise<void> {
  await updateChannel(kv, channelId, now, (c) => ({
    ...c,
    state: "stopped",
    stoppedAt: now.toISOString(),
  }));
}

/**
 * The watch was refused: the record says why (the status page shows it) until `retryAfter`,
 * when it expires and a later reconcile tries again.
 */
export async function markChannelFailed(
  kv: Deno.Kv,
  channelId: string,
  failure: { error: string; now: Date; retryAfter: Date },
): Promise<void> {
  await updateChannel(
    kv,
    channelId,
    failure.now,
    (c) => ({ ...c, state: "failed", error: failure.error.slice(0, 500) }),
    Math.max(1, failure.retryAfter.getTime() - failure.now.getTime()),
  );
}

/** The status page shows when the last notification came; to the second is plenty. */
const NOTIFIED_PRECISION_MS = 1000;

/**
 * Notes when the channel's latest notification arrived (a blind write: the latest wins),
 * skipping the write when the stored time is less than a second old, so that a burst costs
 * reads, not commits.
 */
export async function recordNotification(
  kv: Deno.Kv,
  channel: PushChannel,
  now: Date,
): Promise<void> {
  const stored = await kv.get(keys.channelNotified(channel.id));
  if (
    stored.value !== null &&
    now.getTime() - Date.parse(NotifiedSchema.parse(stored.value).at) < NOTIFIED_PRECISION_MS
  ) return;
  const value = NotifiedSchema.parse({ v: 1, at: now.toISOString() });
  await commitOnce(() =>
    kv.atomic().set(keys.channelNotified(channel.id), value, {
      expireIn: expireInFor(channel, now),
    })
  );
}

/** When each of these channels last got a notification (absent: none yet). */
export async function lastNotifications(
  kv: Deno.Kv,
  channelIds: readonly string[],
): Promise<Map<string, string>> {
  const entries = await getAll(kv, channelIds.map((id) => keys.channelNotified(id)));
  const out = new Map<string, string>();
  entries.forEach((entry, i) => {
    if (entry.value !== null) out.set(channelIds[i], NotifiedSchema.parse(entry.value).at);
  });
  return out;
}

const LockSchema = z.object({ v: z.literal(1), owner: z.string(), until: z.iso.datetime() });

/**
 * Takes the user's channel lock (free, or expired by `now`) for `ttlMs`; returns the function
 * that releases it, or null when another instance holds it. Apart from the sync lease: channel
 * work and a sync may overlap, and taking the sync lease would eat a pending follow-up flag.
 */
export async function acquireChannelLock(
  kv: Deno.Kv,
  userId: string,
  opts: { owner: string; now: Date; ttlMs: number },
): Promise<(() => Promise<void>) | null> {
  const key = keys.channelLock(userId);
  const res = await commitWithRetry<boolean>(async () => {
    const current = await kv.get(key);
    if (
      current.value !== null &&
      Date.parse(LockSchema.parse(current.value).until) > opts.now.getTime()
    ) {
      return { op: kv.atomic().check(current), result: false };
    }
    const lock = LockSchema.parse({
      v: 1,
      owner: opts.owner,
      until: new Date(opts.now.getTime() + opts.ttlMs).toISOString(),
    });
    return {
      op: kv.atomic().check(current).set(key, lock, { expireIn: opts.ttlMs }),
      result: true,
    };
  });
  if (!res?.result) return null;
  const versionstamp = res.versionstamp;
  return async () => {
    await commitOnce(() => kv.atomic().check({ key, versionstamp }).delete(key));
  };
}
