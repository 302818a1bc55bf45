/**
 * Resolves the instance's secrets at start-up: the session signing key and the encryption
 * keyring. Configured values win; otherwise the session secret is generated once and kept in KV
 * (sessions survive restarts and are shared by every process on the store). Demo mode generates
 * its encryption key the same way: the emulator's tokens are worthless, and a real deployment
 * cannot get here because config.ts refuses Google credentials without BUSYSYNC_ENCRYPTION_KEY.
 */
import type { Config } from "../config.ts";
import { getOrCreateSetting, randomKeyBase64 } from "../db/settings.ts";
import { createKeyring, type Keyring } from "./crypto.ts";

export interface AppSecrets {
  keyring: Keyring;
  /** HS256 key for access JWTs. */
  sessionSecret: Uint8Array;
}

/** Reads or creates the secrets for `config`. Throws when real credentials lack a key. */
export async function loadSecrets(kv: Deno.Kv, config: Config): Promise<AppSecrets> {
  const sessionSecret = config.sessionSecret ??
    await getOrCreateSetting(kv, "session_secret", randomKeyBase64);
  let keys = config.encryptionKeys;
  if (!keys?.length) {
    if (!config.demo) {
      throw new Error("BUSYSYNC_ENCRYPTION_KEY is required with Google credentials");
    }
    keys = [await getOrCreateSetting(kv, "demo_encryption_key", randomKeyBase64)];
  }
  return {
    keyring: await createKeyring(keys),
    sessionSecret: new TextEncoder().encode(sessionSecret),
  };
}
