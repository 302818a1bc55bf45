import type { Keyring } from "../auth/crypto.ts";
import type { DavFetch } from "../caldav/dav_transport.ts";
import type { Config } from "../config.ts";
import type { GoogleOAuth } from "../google/oauth.ts";
import type { TokenSource } from "../google/token_source.ts";
import type { Logger } from "../log.ts";
import type { PushChannels } from "../push/notifications.ts";
import type { SyncDeps } from "../sync/engine.ts";
import type { CalendarProvider } from "../sync/provider.ts";

/** What the account operations need; the app passes its own dependencies. */
export interface AccountDeps {
  kv: Deno.Kv;
  config: Config;
  keyring: Keyring;
  google: GoogleOAuth;
  tokens: TokenSource;
  /** The user's calendars through the provider interface (retry policy and budget included). */
  providerFor: (userId: string) => CalendarProvider;
  /** What the sync engine needs for one user: removing mirrors runs under its lease. */
  syncDeps: (userId: string) => SyncDeps;
  /**
   * The fetch for addresses a person typed (a CalDAV server): it refuses private addresses and
   * plain http unless the instance allows them, and caps sizes and time (lib/net/).
   */
  outboundFetch: DavFetch;
  now: () => Date;
  log: Logger;
  /**
   * Push channels, stopped before a connection's grant is revoked (afterwards Google would
   * refuse the stop). Absent where no scheduler runs (the CLI): channels then end at expiry.
   */
  push?: PushChannels;
}
