/**
 * Re-encrypts every stored Google token with the primary encryption key, so an old key can be
 * removed from BUSYSYNC_ENCRYPTION_KEY afterwards. Safe while the app runs: each connection is
 * rewritten with a versionstamp-checked write and re-read when a refresh raced it.
 */
import type { Keyring } from "../auth/crypto.ts";
import { getConnectionEntry, listAllConnectionEntries, replaceTokens } from "../db/connections.ts";
import { reencryptTokens } from "../auth/connection_secrets.ts";

export interface RotationReport {
  /** Connections looked at. */
  connections: number;
  /** Connections whose tokens were re-encrypted. */
  reencrypted: number;
  /** Connections that could not be (e.g. their key is not configured any more). */
  failed: { userId: string; connectionId: string; error: string }[];
}

/** Re-encrypts every connection's tokens that are not under the primary key yet. */
export async function reencryptAllTokens(
  kv: Deno.Kv,
  keyring: Keyring,
  now: () => Date = () => new Date(),
): Promise<RotationReport> {
  const report: RotationReport = { connections: 0, reencrypted: 0, failed: [] };
  for await (const listed of listAllConnectionEntries(kv)) {
    report.connections++;
    const ref = { userId: listed.connection.userId, connectionId: listed.connection.id };
    try {
      for (let entry = listed;;) {
        // A disconnected connection keeps no tokens: nothing to re-encrypt.
        if (!entry.connection.tokens) break;
        const tokens = await reencryptTokens(keyring, ref, entry.connection.tokens);
        if (tokens === entry.connection.tokens) break;
        if (await replaceTokens(kv, entry, tokens, now())) {
          report.reencrypted++;
          break;
        }
        const fresh = await getConnectionEntry(kv, ref.userId, ref.connectionId);
        if (!fresh) break;
        entry = fresh;
      }
    } catch (err) {
      report.failed.push({ ...ref, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return report;
}
