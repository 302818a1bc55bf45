/**
 * `deno task rotate-keys`: re-encrypts every stored Google token with the first key of
 * BUSYSYNC_ENCRYPTION_KEY. Rotation: put the new key first and keep the old one after it
 * (`BUSYSYNC_ENCRYPTION_KEY=new,old`), restart busysync, run this, then drop the old key.
 * Exits 1 when a token could not be re-encrypted (its key is missing from the list).
 */
import { reencryptAllTokens } from "../lib/accounts/key_rotation.ts";
import { loadSecrets } from "../lib/auth/secrets.ts";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { openKv } from "../lib/db/kv.ts";

try {
  const config = loadConfig(Deno.env.toObject());
  const kv = await openKv(config.kvPath);
  try {
    const { keyring } = await loadSecrets(kv, config);
    const report = await reencryptAllTokens(kv, keyring);
    console.log(
      `rotate-keys: ${report.reencrypted} of ${report.connections} connection(s) re-encrypted ` +
        `with key ${keyring.primary}`,
    );
    for (const f of report.failed) {
      console.error(`rotate-keys: connection ${f.connectionId} of user ${f.userId}: ${f.error}`);
    }
    if (report.failed.length) Deno.exitCode = 1;
  } finally {
    kv.close();
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`busysync: ${err.message}`);
  Deno.exit(1);
}
