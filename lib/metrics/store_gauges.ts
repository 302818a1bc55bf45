/**
 * Gauges read from the store when scraped: the job table (jobs waiting by reason, running, how
 * long the earliest due one has waited), the open incidents by kind, and how many users have
 * something to sync (without them, no runs is no fault). They describe the
 * store, which every thread shares, so only the thread answering a scrape reads them (once),
 * on a registry of their own kept apart from the per-thread counters that threads.ts adds up.
 */
import { Gauge, Registry } from "prom-client";
import { listWritePauses } from "../db/account_limits.ts";
import { listConnections } from "../db/connections.ts";
import { countOpenJobs, type OpenJobCounts } from "../db/jobs.ts";
import { listUsersWithEnabledRules } from "../db/rule_owners.ts";
import { listRulesAndGroups } from "../db/rules.ts";
import { listUserIds } from "../db/users.ts";
import { type IncidentKind, openIncidents } from "../notify/incidents.ts";

const INCIDENT_KINDS: readonly IncidentKind[] = [
  "connection_needs_reconnect",
  "account_write_paused",
  "rule_broken",
  "rule_failing",
  "rule_held",
];

export interface StoreGaugeDeps {
  kv: Deno.Kv;
  now: () => Date;
}

/** A registry whose gauges read `kv` at every collection. */
export function createStoreGauges(deps: StoreGaugeDeps): Registry {
  const { kv, now } = deps;
  const registry = new Registry();
  const registers = [registry];
  // The three job gauges are collected side by side; they share one reading of the table.
  const jobs = sharedWhileRunning(() => countOpenJobs(kv, now()));
  new Gauge({
    name: "busysync_jobs_waiting",
    help: "Sync jobs waiting for a worker (due or debounced), by reason.",
    labelNames: ["reason"],
    registers,
    async collect() {
      const { waiting } = await jobs();
      for (const [reason, count] of Object.entries(waiting)) this.set({ reason }, count);
    },
  });
  new Gauge({
    name: "busysync_jobs_running",
    help: "Sync jobs a worker is running.",
    registers,
    async collect() {
      this.set((await jobs()).running);
    },
  });
  new Gauge({
    name: "busysync_jobs_oldest_due_seconds",
    help: "How long the earliest due waiting job has been due; 0 when no job waits past due.",
    registers,
    async collect() {
      this.set((await jobs()).oldestDueMs / 1000);
    },
  });
  new Gauge({
    name: "busysync_users_with_enabled_rules",
    help: "Users with at least one enabled rule: the ones the schedule syncs.",
    registers,
    async collect() {
      this.set((await listUsersWithEnabledRules(kv)).length);
    },
  });
  new Gauge({
    name: "busysync_incidents_open",
    help: "Open incidents (what the dashboard's banners show people), by kind.",
    labelNames: ["kind"],
    registers,
    async collect() {
      const counts = await countIncidents(kv, now());
      for (const kind of INCIDENT_KINDS) this.set({ kind }, counts.get(kind) ?? 0);
    },
  });
  return registry;
}

/** Every user's open incidents, counted by kind: a few reads per user. */
async function countIncidents(kv: Deno.Kv, now: Date): Promise<Map<IncidentKind, number>> {
  const counts = new Map<IncidentKind, number>();
  for (const userId of await listUserIds(kv)) {
    const [connections, rules] = await Promise.all([
      listConnections(kv, userId),
      listRulesAndGroups(kv, userId),
    ]);
    const incidents = openIncidents(
      connections,
      rules,
      await listWritePauses(kv, connections, now),
    );
    for (const { kind } of incidents) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** `read`, with callers that arrive while a reading is under way given that same reading. */
function sharedWhileRunning(read: () => Promise<OpenJobCounts>): () => Promise<OpenJobCounts> {
  let running: Promise<OpenJobCounts> | undefined;
  return () => running ??= read().finally(() => running = undefined);
}
