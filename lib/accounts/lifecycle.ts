/**
 * Ending things: disconnecting a Google account and deleting a busysync account.
 */
import {
  type Connection,
  deleteConnection,
  getConnectionEntry,
  listConnections,
  listConnectionsToAccount,
  pauseConnection,
} from "../db/connections.ts";
import { deleteAllUserData } from "../db/account_data.ts";
import { deleteGroup } from "../db/group_changes.ts";
import { listGroups } from "../db/groups.ts";
import { listLedger } from "../db/ledger.ts";
import { deleteRule, listRules, listRulesAndGroups } from "../db/rules.ts";
import { calendarsOf } from "../model/edge_owner.ts";
import { purgeUser, removeRuleMirrors } from "../sync/engine.ts";
import { OAuthEndpointError } from "../google/oauth_errors.ts";
import { openRefreshToken } from "../auth/connection_secrets.ts";
import type { AccountDeps } from "./deps.ts";

/** Some mirrors could not be removed; nothing else was changed after the attempt. */
export class MirrorRemovalError extends Error {
  constructor(detail: string | undefined) {
    super(`Some busy blocks could not be removed${detail ? ` (${detail})` : ""}.`);
    this.name = "MirrorRemovalError";
  }
}

/** What became of the grant at Google when a connection went. */
export type GrantOutcome =
  | { revoked: true }
  | { revoked: false; reason: "unsupported" | "shared"; message: string };

const UNSUPPORTED_MESSAGE = "The sign-in service offers no way to revoke access, so busysync " +
  "cannot revoke it: remove busysync from the account's third-party access yourself " +
  "(for Google: myaccount.google.com/permissions).";

/** CalDAV has no revocation: the person ends the app password where they made it. */
const CALDAV_UNREVOKED_MESSAGE = "busysync forgot the app password, but a CalDAV server offers " +
  "no way for busysync to revoke it: delete it where you made it (iCloud: account.apple.com → " +
  "App-Specific Passwords; Fastmail: Settings → Privacy & Security → App passwords).";

const SHARED: GrantOutcome = {
  revoked: false,
  reason: "shared",
  message: "This Google account is still connected to another busysync account here, which " +
    "shares its access, so the access was left in place at Google. It is revoked when the " +
    "last connection to the account goes.",
};

/** Why a connection disconnected with `keepRules` waits, and its rules with it. */
export const DISCONNECTED_REASON =
  "You disconnected this account; connect it again to resume its rules.";

/**
 * What disconnecting did: rules deleted, or (with `keepRules`) paused, and the grant.
 * `blocksLeft`: busy blocks that stay in the calendars of an account disconnected earlier,
 * which busysync can no longer reach.
 */
export type DisconnectOutcome =
  & { removedRules: string[]; pausedRules?: string[]; blocksLeft?: number }
  & GrantOutcome;

/**
 * Disconnects a connection. With `keepRules` its rules and groups and their busy blocks stay:
 * the grant is revoked as below but the connection keeps its record without tokens, status
 * `disconnected`, so the engine pauses what uses it (a group goes on between its other
 * members) until the same Google account is connected again under the same id. Otherwise the rules and groups that read or write its calendars cannot work
 * without it, so they are deleted first; with `removeMirrors` their mirrors are removed (in every target,
 * under the user's sync lease) while the account's token still works. Then the grant is
 * revoked at Google (unless another user's connection holds the same Google account, or the
 * issuer offers no revocation) and the connection and its calendar cache are deleted. Returns the ids of the rules removed and what became of the
 * grant, or null when the user has no such connection. Throws when Google cannot be reached,
 * so nothing is forgotten while the grant is still live.
 */
export async function disconnectConnection(
  deps: AccountDeps,
  userId: string,
  connectionId: string,
  options: { removeMirrors: boolean; keepRules?: boolean },
): Promise<DisconnectOutcome | null> {
  const entry = await getConnectionEntry(deps.kv, userId, connectionId);
  if (!entry) return null;
  if (options.keepRules) return await disconnectKeepingRules(deps, entry.connection);
  const removedRules: string[] = [];
  for (const { rule } of await listRules(deps.kv, userId)) {
    if (rule.source.connectionId !== connectionId && rule.target.connectionId !== connectionId) {
      continue;
    }
    await deleteRule(deps.kv, userId, rule.id, {
      now: deps.now(),
      removeMirrors: options.removeMirrors,
      accountDisconnected: true,
    });
    removedRules.push(rule.id);
  }
  // A group with a member of the account goes as a rule does (its blocks as asked), so no
  // pending removal is left needing a token that is about to be revoked.
  for (const { group } of await listGroups(deps.kv, userId)) {
    if (!group.members.some((m) => m.calendar.connectionId === connectionId)) continue;
    await deleteGroup(deps.kv, userId, group.id, {
      now: deps.now(),
      removeMirrors: options.removeMirrors,
      accountDisconnected: true,
    });
    removedRules.push(group.id);
  }
  const forget = async () => {
    await deps.push?.stopChannels(userId, connectionId);
    return await leaveGrant(deps, entry.connection, async () => {
      await deleteConnection(deps.kv, userId, connectionId);
    });
  };
  if (!options.removeMirrors || !removedRules.length) return { removedRules, ...await forget() };
  if (entry.connection.tokens) {
    await removeMirrorsOf(deps, userId);
    return { removedRules, ...await forget() };
  }
  // Disconnected earlier: its own calendars are out of reach, so their blocks stay (the engine
  // skips a disconnected connection's calendars); the blocks its events made elsewhere go.
  const blocksLeft = await blocksInto(deps, userId, removedRules, connectionId);
  await removeMirrorsOf(deps, userId);
  return { removedRules, blocksLeft, ...await forget() };
}

async function removeMirrorsOf(deps: AccountDeps, userId: string): Promise<void> {
  const run = await removeRuleMirrors(deps.syncDeps(userId), "account_disconnected");
  if (run.outcome !== "ok") throw new MirrorRemovalError(run.errors[0]?.message);
}

/** How many busy blocks of these rules and groups busysync keeps in the connection's calendars. */
async function blocksInto(
  deps: AccountDeps,
  userId: string,
  ownerIds: readonly string[],
  connectionId: string,
): Promise<number> {
  let count = 0;
  for (const ownerId of ownerIds) {
    for await (const { entry } of listLedger(deps.kv, userId, ownerId)) {
      if (entry.target.connectionId === connectionId) count++;
    }
  }
  return count;
}

/** The `keepRules` disconnect: see `disconnectConnection`. */
async function disconnectKeepingRules(
  deps: AccountDeps,
  connection: Connection,
): Promise<DisconnectOutcome> {
  const { userId, id } = connection;
  const pausedRules = (await listRulesAndGroups(deps.kv, userId))
    .filter((owner) => calendarsOf(owner).some((cal) => cal.connectionId === id))
    .map((owner) => owner.id);
  await deps.push?.stopChannels(userId, id);
  const grant = await leaveGrant(deps, connection, async () => {
    await pauseConnection(deps.kv, userId, id, DISCONNECTED_REASON, deps.now());
  });
  return { removedRules: [], pausedRules, ...grant };
}

/**
 * Revokes the connection's grant at Google and has `forget` drop busysync's hold of it (the
 * record, or its tokens), in the order that leaves no grant orphaned: unless another user's
 * connection shares it, revoke first, so a failure to reach Google forgets nothing.
 */
async function leaveGrant(
  deps: AccountDeps,
  connection: Connection,
  forget: () => Promise<void>,
): Promise<GrantOutcome> {
  // A feed's address grants nothing that could be revoked, and others may subscribe to it too.
  if (connection.kind === "ics") {
    await forget();
    return { revoked: true };
  }
  if (!(await heldElsewhere(deps, connection))) {
    const grant = await revokeGrant(deps, connection);
    await forget();
    return grant;
  }
  await forget();
  // The other holders may have left between the check and the forget, each seeing this one:
  // whoever finds itself last afterwards revokes, so the grant is not left orphaned.
  if (await heldElsewhere(deps, connection)) return SHARED;
  try {
    return await revokeGrant(deps, connection);
  } catch (err) {
    deps.log.warn("revoking a grant its last holders left at once failed", {
      connectionId: connection.id,
      err,
    });
    return SHARED;
  }
}

/**
 * Deletes the user's account. With `removeMirrors`, every busysync event of the user is
 * removed from their calendars first (a failure stops the deletion, so the person can retry
 * rather than be left with mirrors nobody manages). Then every connection's grant is revoked
 * unless another user's connection shares it (a failure is logged and does not stop the
 * deletion: the person asked for their data to be gone) and all of the user's data is removed
 * from KV.
 */
export async function deleteAccount(
  deps: AccountDeps,
  userId: string,
  options: { removeMirrors: boolean },
): Promise<void> {
  if (options.removeMirrors) {
    const run = await purgeUser(deps.syncDeps(userId));
    if (run.outcome !== "ok") throw new MirrorRemovalError(run.errors[0]?.message);
  }
  await deps.push?.stopChannels(userId);
  for (const connection of await listConnections(deps.kv, userId)) {
    try {
      if (!(await heldElsewhere(deps, connection))) await revokeGrant(deps, connection);
    } catch (err) {
      deps.log.warn("revoking a grant during account deletion failed", {
        connectionId: connection.id,
        err,
      });
    }
  }
  await deleteAllUserData(deps.kv, userId);
}

/**
 * Whether another user's connection holds the same Google account. Revoking any token of an
 * account ends its whole grant to busysync's OAuth client (notes §10), which those connections
 * share: revoking would push them into "needs reconnect".
 */
async function heldElsewhere(deps: AccountDeps, connection: Connection): Promise<boolean> {
  const holders = await listConnectionsToAccount(deps.kv, connection.issuer, connection.sub);
  // A disconnected connection holds no token, so no share of the grant.
  return holders.some((c) => c.userId !== connection.userId && c.tokens !== undefined);
}

/**
 * Revokes the connection's refresh token (Google then also drops its access tokens). An OAuth
 * error (e.g. the instance's client changed) leaves nothing busysync could revoke, so it is
 * logged; a network failure is thrown.
 */
async function revokeGrant(deps: AccountDeps, connection: Connection): Promise<GrantOutcome> {
  // Disconnected earlier with its rules kept: the grant went then.
  if (!connection.tokens) return { revoked: true };
  if (connection.kind === "caldav") {
    return { revoked: false, reason: "unsupported", message: CALDAV_UNREVOKED_MESSAGE };
  }
  const ref = { userId: connection.userId, connectionId: connection.id };
  const refreshToken = await openRefreshToken(deps.keyring, ref, connection.tokens);
  try {
    if (await deps.google.revokeToken(refreshToken) === "unsupported") {
      deps.log.info("the issuer has no revocation endpoint; the grant was left in place", {
        connectionId: connection.id,
      });
      return { revoked: false, reason: "unsupported", message: UNSUPPORTED_MESSAGE };
    }
  } catch (err) {
    if (!(err instanceof OAuthEndpointError)) throw err;
    deps.log.warn("Google refused to revoke a grant", { connectionId: connection.id, err });
  }
  return { revoked: true };
}
