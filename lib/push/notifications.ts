/**
 * Receiving Google's push notifications (notes §6). A notification carries no change, only
 * "this calendar changed": it becomes a debounced sync job for the rules reading that calendar,
 * so a burst of notifications (Google reports every single change) costs one sync.
 */
import { timingSafeEqual } from "node:crypto";
import { sha256Hex } from "../auth/tokens.ts";
import { getChannel, recordNotification } from "../db/channels.ts";
import { listGroups } from "../db/groups.ts";
import { listRules } from "../db/rules.ts";
import { getSyncPause } from "../db/sync_pauses.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { sourcesOf } from "../model/edge_owner.ts";
import type { SyncRequests } from "../sync/requests.ts";

/** A notification as the webhook read it from Google's `X-Goog-*` headers. */
export interface PushNotification {
  channelId: string;
  token?: string;
  resourceState: "sync" | "exists" | "not_exists";
  resourceId: string;
}

/**
 * What became of a notification. `ignored`: not (or no longer) one of our channels; answered
 * with success all the same, since only the channel's owner can stop it and an error would only
 * make Google retry. `forbidden`: the token is wrong or missing, so it did not come from Google
 * for this channel.
 */
export type PushVerdict = "ignored" | "forbidden" | "acknowledged" | "queued";

/** What the app needs of push: receiving notifications, and stopping channels on disconnect. */
export interface PushChannels {
  receive(notification: PushNotification): Promise<PushVerdict>;
  /** Stops the user's channels (of one connection, or all) while its grant still works. */
  stopChannels(userId: string, connectionId?: string): Promise<void>;
}

export interface ReceiveDeps {
  kv: Deno.Kv;
  clock: () => Date;
  requests: Pick<SyncRequests, "request">;
}

/** Handles one notification; never throws for a bad one (see PushVerdict). */
export async function receiveNotification(
  deps: ReceiveDeps,
  notification: PushNotification,
): Promise<PushVerdict> {
  const channel = await getChannel(deps.kv, notification.channelId);
  if (!channel || channel.state === "stopped" || channel.state === "failed") return "ignored";
  if (notification.token === undefined) return "forbidden";
  const given = new TextEncoder().encode(await sha256Hex(notification.token));
  const stored = new TextEncoder().encode(channel.tokenHash);
  // Comparing digests in constant time: nothing about the stored hash leaks through timing.
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return "forbidden";
  const now = deps.clock();
  await recordNotification(deps.kv, channel, now);
  if (notification.resourceState === "sync") return "acknowledged";
  // Paused by the owner: the channel stays, and the sync after resuming catches up.
  if (await getSyncPause(deps.kv, channel.userId)) return "acknowledged";
  const watched = calendarKey(channel);
  const [rules, groups] = await Promise.all([
    listRules(deps.kv, channel.userId),
    listGroups(deps.kv, channel.userId),
  ]);
  const ruleIds = [...rules.map((e) => e.rule), ...groups.map((e) => e.group)]
    .filter((o) => o.enabled && sourcesOf(o).some((c) => calendarKey(c) === watched))
    .map((o) => o.id);
  // No enabled rule or group reads this calendar any more: the next reconcile stops the channel.
  if (!ruleIds.length) return "acknowledged";
  await deps.requests.request(channel.userId, { reason: "push", ruleIds });
  return "queued";
}
