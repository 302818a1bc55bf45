/**
 * Keeping push channels in line with the rules: every source calendar of an enabled rule (both
 * calendars of a both-ways rule) has one live events.watch channel, and nothing else has one.
 * Reconciled after every run (so a rule disabled or deleted, whose save enqueues a run, loses
 * its channel there) and when a connection goes. Google channels cannot be extended, so a
 * channel near its expiry is replaced: the new channel is opened first and the old one stopped
 * only then, so no change falls into a gap between them (notes §6: "accepting overlap").
 */
import { randomToken, sha256Hex } from "../auth/tokens.ts";
import { type Config, pushEnabled } from "../config.ts";
import {
  acquireChannelLock,
  activateChannel,
  createChannel,
  lastNotifications,
  listChannelsOfUser,
  markChannelFailed,
  markChannelStopped,
  type PushChannel,
} from "../db/channels.ts";
import { listConnections } from "../db/connections.ts";
import { listGroups } from "../db/groups.ts";
import { listRules } from "../db/rules.ts";
import type { Logger } from "../log.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { calendarsOf, sourcesOf } from "../model/edge_owner.ts";
import type { CalendarProvider } from "../sync/provider.ts";
import type { SyncProgress } from "../sync/requests.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";

export interface ChannelDeps {
  kv: Deno.Kv;
  log: Logger;
  config: Config;
  clock: () => Date;
  newId: () => string;
  providerFor: (userId: string) => CalendarProvider;
  /** Where notifications go: `${PUBLIC_URL}/api/webhooks/google`. */
  address: string;
  /** The lifetime asked for; Google may grant less. */
  ttlSeconds: number;
  /** A channel with less than this left is replaced (at most half its lifetime). */
  renewBeforeMs: number;
  /** A refused watch is tried again after this long. */
  retryFailedMs: number;
}

/** Lock lifetime while reconciling: a handful of watch/stop calls. */
const RECONCILE_LOCK_MS = 60_000;

const keyOf = (c: { connectionId: string; calendarId: string }) => calendarKey(c);

function isLive(channel: PushChannel, now: Date): boolean {
  return (channel.state === "active" || channel.state === "opening") &&
    Date.parse(channel.expiresAt) > now.getTime();
}

/** The calendars that should be watched: the sources of the rules and groups a run would sync. */
async function wantedCalendars(
  deps: ChannelDeps,
  userId: string,
): Promise<Map<string, CalendarRef>> {
  if (!pushEnabled(deps.config)) return new Map();
  const connections = (await listConnections(deps.kv, userId)).filter((c) => c.status === "active");
  const usable = new Set(connections.map((c) => c.id));
  // CalDAV has no push: its calendars are polled, and a rule reading one still has its Google
  // calendars watched.
  const pushable = new Set(connections.filter((c) => c.kind === "google").map((c) => c.id));
  // As the engine: a rule with a connection to reconnect sits out, so nothing to watch for
  // it; a group goes on between its other members, which are watched.
  const [rules, groups] = await Promise.all([
    listRules(deps.kv, userId),
    listGroups(deps.kv, userId),
  ]);
  const sources = [
    ...rules.map((e) => e.rule)
      .filter((r) => r.enabled && calendarsOf(r).every((c) => usable.has(c.connectionId)))
      .flatMap(sourcesOf),
    ...groups.map((e) => e.group).filter((g) => g.enabled)
      .flatMap(sourcesOf).filter((c) => usable.has(c.connectionId)),
  ];
  return new Map(
    sources.filter((s) => pushable.has(s.connectionId)).map((source) => [keyOf(source), source]),
  );
}

/** What reconciling would do: channels to open (each replacing `replaces`) and to stop. */
interface ChannelPlan {
  open: { cal: CalendarRef; replaces?: PushChannel }[];
  stop: PushChannel[];
}

/**
 * Plans the changes (pure): stop the channels of calendars no longer wanted and duplicates (a
 * renewal interrupted after its new channel opened); open one for a wanted calendar without a
 * live channel, unless its last watch was refused recently; replace one near its expiry.
 */
function planChannels(
  deps: ChannelDeps,
  wanted: ReadonlyMap<string, CalendarRef>,
  records: readonly PushChannel[],
  now: Date,
): ChannelPlan {
  const live = records.filter((c) => isLive(c, now));
  const plan: ChannelPlan = { open: [], stop: live.filter((c) => !wanted.has(keyOf(c))) };
  for (const [key, cal] of wanted) {
    const [newest, ...extra] = live.filter((c) => keyOf(c) === key)
      .sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt));
    plan.stop.push(...extra);
    if (newest && !needsRenewal(deps, newest, now)) continue;
    if (!newest && records.some((c) => c.state === "failed" && keyOf(c) === key)) continue;
    plan.open.push({ cal, ...(newest ? { replaces: newest } : {}) });
  }
  return plan;
}

/**
 * Opens, renews and stops the user's channels so that exactly the wanted calendars are
 * watched. Only when there is something to do does it take the user's channel lock and plan
 * again under it, so two instances never open duplicate channels, and a run with nothing to
 * change costs a few reads. When another instance holds the lock, that one is reconciling and
 * nothing is done here. Failures are recorded per channel, never thrown.
 */
export async function reconcileChannels(deps: ChannelDeps, userId: string): Promise<void> {
  const planNow = async () =>
    planChannels(
      deps,
      await wantedCalendars(deps, userId),
      await listChannelsOfUser(deps.kv, userId),
      deps.clock(),
    );
  const first = await planNow();
  if (!first.open.length && !first.stop.length) return;
  const release = await acquireChannelLock(deps.kv, userId, {
    owner: deps.newId(),
    now: deps.clock(),
    ttlMs: RECONCILE_LOCK_MS,
  });
  if (!release) return;
  try {
    const plan = await planNow();
    for (const channel of plan.stop) await stopOne(deps, channel);
    for (const { cal, replaces } of plan.open) {
      // The new channel first, then the old one: no change falls between them.
      const opened = await openOne(deps, userId, cal);
      if (opened && replaces) await stopOne(deps, replaces);
    }
  } finally {
    await release();
  }
}

function needsRenewal(deps: ChannelDeps, channel: PushChannel, now: Date): boolean {
  if (channel.state === "opening") return false;
  const lifetime = Date.parse(channel.expiresAt) - Date.parse(channel.createdAt);
  const margin = Math.min(deps.renewBeforeMs, lifetime / 2);
  return Date.parse(channel.expiresAt) - now.getTime() <= margin;
}

/** Opens a channel for `cal`; returns false (recording why) when the watch was refused. */
async function openOne(deps: ChannelDeps, userId: string, cal: CalendarRef): Promise<boolean> {
  const provider = deps.providerFor(userId);
  if (!provider.watch) return false;
  const now = deps.clock();
  const token = randomToken();
  const channel: PushChannel = {
    v: 1,
    // Channel ids may hold letters, digits and -_+/= only (Google's watch reference).
    id: `bs-${deps.newId()}`,
    userId,
    connectionId: cal.connectionId,
    calendarId: cal.calendarId,
    tokenHash: await sha256Hex(token),
    state: "opening",
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.ttlSeconds * 1000).toISOString(),
  };
  // Stored before the watch: its first notification may come before the watch's answer (§6).
  await createChannel(deps.kv, channel, now);
  try {
    const opened = await provider.watch(cal, {
      id: channel.id,
      address: deps.address,
      token,
      ttlSeconds: deps.ttlSeconds,
    });
    await activateChannel(deps.kv, channel.id, { ...opened, now: deps.clock() });
    deps.log.info("push: channel opened", {
      userId,
      channelId: channel.id,
      expiresAt: opened.expiresAt.toISOString(),
    });
    return true;
  } catch (err) {
    deps.log.warn("push: watch refused", { userId, calendarId: cal.calendarId, err });
    const failedAt = deps.clock();
    await markChannelFailed(deps.kv, channel.id, {
      error: err instanceof Error ? err.message : String(err),
      now: failedAt,
      retryAfter: new Date(failedAt.getTime() + deps.retryFailedMs),
    });
    return false;
  }
}

/**
 * Stops a channel at the provider and keeps its tombstone. A stop that fails (the connection's
 * grant is gone, Google unreachable) still tombstones it: the channel then ends at its expiry,
 * and its notifications are ignored meanwhile.
 */
async function stopOne(deps: ChannelDeps, channel: PushChannel): Promise<void> {
  const provider = deps.providerFor(channel.userId);
  if (channel.resourceId && provider.stopChannel) {
    try {
      await provider.stopChannel(channel.connectionId, {
        id: channel.id,
        resourceId: channel.resourceId,
      });
    } catch (err) {
      deps.log.warn("push: stopping a channel failed; it ends at its expiry", {
        channelId: channel.id,
        err,
      });
    }
  }
  await markChannelStopped(deps.kv, channel.id, deps.clock());
}

/**
 * Stops the user's live channels (of one connection, or all), e.g. before a connection's grant
 * is revoked, after which they could not be stopped any more.
 */
export async function stopChannels(
  deps: ChannelDeps,
  userId: string,
  connectionId?: string,
): Promise<void> {
  const now = deps.clock();
  for (const channel of await listChannelsOfUser(deps.kv, userId)) {
    if (!isLive(channel, now)) continue;
    if (connectionId !== undefined && channel.connectionId !== connectionId) continue;
    await stopOne(deps, channel);
  }
}

/** The push part of the status: per watched calendar its newest channel's state. */
export async function pushStatus(deps: ChannelDeps, userId: string): Promise<SyncProgress["push"]> {
  if (!pushEnabled(deps.config)) {
    const reason = deps.config.push === "off"
      ? "push notifications are turned off (BUSYSYNC_PUSH=off); changes sync on the schedule"
      : "Google only delivers push notifications to https addresses and PUBLIC_URL is not " +
        "https; changes sync on the schedule (BUSYSYNC_PUSH=on forces push)";
    return { enabled: false, reason, channels: [] };
  }
  const now = deps.clock();
  const newest = new Map<string, PushChannel>();
  for (const channel of await listChannelsOfUser(deps.kv, userId)) {
    if (channel.state === "stopped") continue;
    const seen = newest.get(keyOf(channel));
    if (!seen || channel.createdAt > seen.createdAt) newest.set(keyOf(channel), channel);
  }
  const notified = await lastNotifications(deps.kv, [...newest.values()].map((c) => c.id));
  return {
    enabled: true,
    channels: [...newest.values()].map((c) => ({
      connectionId: c.connectionId,
      calendarId: c.calendarId,
      state: c.state === "failed" ? "failed" : isLive(c, now) ? "active" : "expired",
      ...(c.state === "failed" ? {} : { expiresAt: c.expiresAt }),
      ...(notified.has(c.id) ? { lastNotificationAt: notified.get(c.id) } : {}),
    })),
  };
}
