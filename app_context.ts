/**
 * The shapes route modules share with app.ts: what the app is built from, what each route
 * module receives, and the request context's variables. A module of its own, so routes import
 * no app.ts (which imports them).
 */
import type { PageRenderer } from "./components/render_page.tsx";
import type { AccountDeps } from "./lib/accounts/deps.ts";
import type { AppSecrets } from "./lib/auth/secrets.ts";
import type { SessionDeps } from "./lib/auth/session.ts";
import type { Config } from "./lib/config.ts";
import type { AuthVariables } from "./lib/http/auth_middleware.ts";
import type { Logger } from "./lib/log.ts";
import type { MetricsScraper } from "./lib/metrics/threads.ts";
import type { PushChannels } from "./lib/push/notifications.ts";
import type { Services } from "./lib/services.ts";
import type { SyncRequests } from "./lib/sync/requests.ts";

export interface AppInput {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  /** Folder served under /static/ (holds build/ with the island bundles). */
  staticDir: string;
  /** Resolved at start-up by `loadSecrets` (lib/auth/secrets.ts). */
  secrets: AppSecrets;
  /** The routes' clock, the same as the services' (tests move it to expire things). */
  now?: () => Date;
  /**
   * The process's one set of services, shared with its scheduler: one token source (so
   * concurrent refreshes of a connection share one call to Google), one OAuth client, one
   * retry policy and request budget.
   */
  services: Services;
  /** How routes ask for a sync: jobs in the KV job table (lib/scheduler/scheduler.ts). */
  syncRequests: SyncRequests;
  /** Push notifications in; channels stopped when a connection goes. */
  push: PushChannels;
  /** Renders a page body inside the layout (components/render_page.tsx). */
  render: PageRenderer;
  /** The process's metrics, served at /metrics when BUSYSYNC_METRICS_TOKEN is set. */
  metrics: Pick<MetricsScraper, "scrape">;
}

/** What route modules receive: the app's inputs with the services' parts spread out. */
export interface AppDeps extends AppInput, AccountDeps {
  push: PushChannels;
  now: () => Date;
  sessions: SessionDeps;
  /** PUBLIC_URL is https: cookies are Secure and `__Host-` prefixed. */
  secureCookies: boolean;
}

export type AppEnv = { Variables: { requestId: string } & AuthVariables };
