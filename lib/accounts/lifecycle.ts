/**
 * Ending things: disconnecting a Google account and deleting a busysync account.
 */
import {
  type Connection,
  deleteConnection,
  getConnectionEntry,
  listConnections,
} from "../db/connections.ts";
import { deleteAllUserData } from "../db/account_data.ts";
import { OAuthEndpointError } from "../google/oauth_errors.ts";
import { openRefreshToken } from "../google/stored_tokens.ts";
import type { AccountDeps } from "./deps.ts";

/**
 * Disconnects a connection: revokes its grant at Google, then deletes it and its calendar cache.
 * `removeMirrors` is recorded for the sync engine (the mirrors it wrote through this account).
 * Returns false when the user has no such connection. Throws when Google cannot be reached, so
 * nothing is forgotten while the grant is still live.
 */
export async function disconnectConnection(
  deps: AccountDeps,
  userId: string,
  connectionId: string,
  options: { removeMirrors: boolean },
): Promise<boolean> {
  const entry = await getConnectionEntry(deps.kv, userId, connectionId);
  if (!entry) return false;
  await revokeGrant(deps, entry.connection);
  const deleted = await deleteConnection(deps.kv, userId, connectionId, {
    removeMirrors: options.removeMirrors,
    now: deps.now(),
  });
  return deleted !== null;
}

/**
 * Deletes the user's account: revokes every connection's grant at Google (a failure is logged
 * and does not stop the deletion: the person asked for their data to be gone), then removes all
 * of the user's data from KV.
 */
export async function deleteAccount(deps: AccountDeps, userId: string): Promise<void> {
  for (const connection of await listConnections(deps.kv, userId)) {
    try {
      await revokeGrant(deps, connection);
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
 * Revokes the connection's refresh token (Google then also drops its access tokens). An OAuth
 * error (e.g. the instance's client changed) leaves nothing busysync could revoke, so it is
 * logged; a network failure is thrown.
 */
async function revokeGrant(deps: AccountDeps, connection: Connection): Promise<void> {
  const ref = { userId: connection.userId, connectionId: connection.id };
  const refreshToken = await openRefreshToken(deps.keyring, ref, connection.tokens);
  try {
    await deps.google.revokeToken(refreshToken);
  } catch (err) {
    if (!(err instanceof OAuthEndpointError)) throw err;
    deps.log.warn("Google refused to revoke a grant", { connectionId: connection.id, err });
  }
}
