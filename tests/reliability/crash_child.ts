/**
 * The crash suite's child process: one sync of one user against the parent's emulator and KV
 * file, in a process of its own so that the parent can SIGKILL it at any instant (mid-listing,
 * between a calendar write and its ledger write, mid-commit). Built like production: the real
 * provider, retry policy and engine; only the config comes from the parent, as JSON in the
 * BUSYSYNC_CRASH_CHILD variable (test tokens the emulator issued, the parent's key for what the
 * store holds sealed).
 *
 * Prints `syncing` just before the run starts (the parent times its kill from there) and
 * `synced <outcome>` when the run returns.
 */
import { OAuth2Client } from "google-auth-library";
import { z } from "zod";
import { createGoogleProvider } from "../../lib/google/provider.ts";
import { createRetryPolicy } from "../../lib/google/retry_policy.ts";
import { createKeyring } from "../../lib/auth/crypto.ts";
import { caldavProviderFor } from "../../lib/caldav/provider.ts";
import { icsProviderFor } from "../../lib/ics/provider.ts";
import { createLogger } from "../../lib/log.ts";
import { providerByConnection } from "../../lib/providers/by_connection.ts";
import { syncUser } from "../../lib/sync/engine.ts";

export const ChildConfig = z.object({
  kvPath: z.string(),
  apiUrl: z.url(),
  userId: z.string(),
  /** The run's lease lifetime: short, so the parent's restart need not wait long for it. */
  leaseTtlMs: z.number().int().positive(),
  /** The parent's key: history titles and CalDAV passwords are sealed with it. */
  key: z.string(),
  /** The user has a CalDAV connection (its password in the store, sealed with `key`). */
  caldav: z.boolean(),
  connections: z.record(
    z.string(),
    z.object({
      clientId: z.string(),
      clientSecret: z.string(),
      accessToken: z.string(),
      refreshToken: z.string(),
      expiryDate: z.number(),
    }),
  ),
});
export type ChildConfig = z.infer<typeof ChildConfig>;

export const CHILD_CONFIG_VAR = "BUSYSYNC_CRASH_CHILD";

if (import.meta.main) {
  const config = ChildConfig.parse(JSON.parse(Deno.env.get(CHILD_CONFIG_VAR) ?? "null"));
  const clients = new Map(
    Object.entries(config.connections).map(([id, grant]) => {
      const client = new OAuth2Client({
        clientId: grant.clientId,
        clientSecret: grant.clientSecret,
        endpoints: { oauth2TokenUrl: `${config.apiUrl}/token` },
      });
      client.setCredentials({
        access_token: grant.accessToken,
        refresh_token: grant.refreshToken,
        expiry_date: grant.expiryDate,
      });
      return [id, client];
    }),
  );
  const kv = await Deno.openKv(config.kvPath);
  const keyring = await createKeyring([config.key]);
  const google = createGoogleProvider({
    apiUrl: config.apiUrl,
    authFor: (connectionId) => clients.get(connectionId)!,
    policy: createRetryPolicy({
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      requestsPerMinute: Infinity,
      baseDelayMs: 2,
      maxDelayMs: 20,
    }),
  });
  const provider = config.caldav
    ? providerByConnection(kv, config.userId, {
      google,
      caldav: caldavProviderFor({ kv, keyring, fetch, now: () => new Date() }, config.userId),
      ics: icsProviderFor({ kv, keyring, fetch }, config.userId),
    })
    : google;
  console.log("syncing");
  const result = await syncUser({
    kv,
    userId: config.userId,
    providerFor: () => provider,
    clock: () => new Date(),
    keyring,
    config: {
      deleteGuard: { percent: 20, min: 10 },
      historyMaxRuns: 50,
      historyMaxDays: 7,
      accountLimits: { createsPerDay: Infinity, pauseHours: 6 },
    },
    log: createLogger("error"),
    trigger: "manual",
    leaseTtlMs: config.leaseTtlMs,
  });
  console.log(`synced ${result.status === "completed" ? result.run.outcome : result.status}`);
  kv.close();
}
