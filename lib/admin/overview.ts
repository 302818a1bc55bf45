/**
 * What the owner's page shows (routes/pages/admin.tsx, `GET /api/admin/overview`): the users and
 * when they last synced, connections that need a reconnect, each connected account's request
 * and creation budget in use, jobs waiting and failing, open incidents, the version, the store's
 * size and the last backup.
 *
 * It is about the instance, never about anyone's calendar: no event, no event title, no
 * calendar or rule name is read into it. People are named by the address they sign in with
 * (and connected accounts by theirs), which the owner needs to tell whom they pause or delete;
 * rules by id. A job's error is the engine's message, which names calendars and rules by id.
 */
import { type Connection, listAllConnectionEntries } from "../db/connections.ts";
import { createsUsed, listWritePauses } from "../db/account_limits.ts";
import { listRuns } from "../db/history.ts";
import { type Job, listRecentJobs } from "../db/jobs.ts";
import { kvFileBytes } from "../db/kv.ts";
import { getLastBackup } from "../db/maintenance.ts";
import { listRulesAndGroups } from "../db/rules.ts";
import { listPausedUserIds } from "../db/sync_pauses.ts";
import { listUsers, type User } from "../db/users.ts";
import type { Config } from "../config.ts";
import { openIncidents } from "../notify/incidents.ts";
import { VERSION } from "../version.ts";

export interface OverviewDeps {
  kv: Deno.Kv;
  config: Pick<Config, "kvPath" | "googleRequestsPerMinute" | "googleAccountLimits">;
  now: () => Date;
  /** The connection's Google requests in the last minute (the process's retry policy). */
  requestsInLastMinute: (connectionId: string) => number;
}

export interface OverviewUser {
  id: string;
  email: string;
  createdAt: string;
  lastSignInAt: string;
  /** When the last sync run (not a dry run) ended, and how; absent when none is on record. */
  lastSync?: { at: string; outcome: "ok" | "partial" | "failed" };
  /** Rules and groups together: each is one thing the person set up. */
  rules: number;
  enabledRules: number;
  connections: number;
  jobsWaiting: number;
  paused: boolean;
}

export interface OverviewConnection {
  id: string;
  userId: string;
  userEmail: string;
  /** The connected Google account's address. */
  email: string;
  status: Connection["status"];
  statusReason?: string;
  updatedAt: string;
  /** Requests to Google in the last 60 s, of BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE. */
  requestsLastMinute: number;
  /** Events created in the account today (UTC), of BUSYSYNC_GOOGLE_CREATES_PER_DAY. */
  createsToday: number;
  /** Until when writes into the account wait (Google made it read-only), if they do. */
  writesPausedUntil?: string;
}

export interface OverviewJob {
  id: string;
  userId: string;
  userEmail: string;
  reason: Job["reason"];
  state: Job["state"];
  attempts: number;
  dueAt: string;
  endedAt?: string;
  error?: string;
}

export interface OverviewIncident {
  id: string;
  userId: string;
  userEmail: string;
  kind: string;
  severity: "bad" | "warn";
  /** The connected account's address, or the rule's id. */
  subject: string;
}

export interface OwnerOverview {
  version: string;
  generatedAt: string;
  store: {
    /** "file": a SQLite file (bytes known); "memory" and "remote" (KV Connect): not known. */
    kind: "file" | "memory" | "remote";
    bytes: number | null;
  };
  lastBackup: { at: string; entries: number } | null;
  limits: { requestsPerMinute: number; createsPerDay: number };
  users: OverviewUser[];
  /** Connections whose access died, oldest change first. */
  needReconnect: OverviewConnection[];
  /** Every connection with its budgets. */
  accounts: OverviewConnection[];
  jobs: {
    waiting: number;
    running: number;
    /** Failed for good in the last day, or waiting to be retried after a failure. */
    failing: OverviewJob[];
  };
  incidents: OverviewIncident[];
}

/** Gathers the overview; reads every user, rule, connection and job on record. */
export async function readOwnerOverview(deps: OverviewDeps): Promise<OwnerOverview> {
  const { kv } = deps;
  const now = deps.now();
  const [users, connections, jobs, paused, lastBackup, bytes] = await Promise.all([
    listUsers(kv),
    collect(listAllConnectionEntries(kv)),
    listRecentJobs(kv),
    listPausedUserIds(kv),
    getLastBackup(kv),
    kvFileBytes(deps.config.kvPath),
  ]);
  const emailOf = new Map(users.map((u) => [u.id, u.email]));
  const userEmail = (id: string) => emailOf.get(id) ?? "(deleted user)";
  const writePauses = await listWritePauses(kv, connections, now);

  const accounts: OverviewConnection[] = await Promise.all(connections.map(async (c) => {
    const pause = writePauses.find((p) => p.issuer === c.issuer && p.sub === c.sub);
    return {
      id: c.id,
      userId: c.userId,
      userEmail: userEmail(c.userId),
      email: c.email,
      status: c.status,
      ...(c.statusReason ? { statusReason: c.statusReason } : {}),
      updatedAt: c.updatedAt,
      requestsLastMinute: deps.requestsInLastMinute(c.id),
      createsToday: await createsUsed(kv, c, now),
      ...(pause ? { writesPausedUntil: pause.until } : {}),
    };
  }));

  const perUser = await Promise.all(users.map(async (user: User) => {
    const [rules, runs] = await Promise.all([
      listRulesAndGroups(kv, user.id),
      listRuns(kv, user.id, { limit: 1, match: (run) => !run.dryRun }),
    ]);
    const own = connections.filter((c) => c.userId === user.id);
    const byId = new Map(own.map((c) => [c.id, c]));
    const incidents = openIncidents(own, rules, writePauses)
      .map((incident): OverviewIncident => ({
        id: incident.id,
        userId: user.id,
        userEmail: user.email,
        kind: incident.kind,
        severity: incident.severity,
        subject: incident.connectionId
          ? byId.get(incident.connectionId)?.email ?? incident.connectionId
          : incident.ruleId ?? "",
      }));
    const last = runs.items[0];
    const overview: OverviewUser = {
      id: user.id,
      email: user.email,
      createdAt: user.createdAt,
      lastSignInAt: user.lastSignInAt,
      ...(last ? { lastSync: { at: last.endedAt, outcome: last.outcome } } : {}),
      rules: rules.length,
      enabledRules: rules.filter((o) => o.enabled).length,
      connections: own.length,
      jobsWaiting: jobs.filter((j) => j.userId === user.id && j.state === "waiting").length,
      paused: paused.has(user.id),
    };
    return { overview, incidents };
  }));

  const failing = jobs
    .filter((j) => j.state === "failed" || (j.state !== "done" && j.error !== undefined))
    .map((j): OverviewJob => ({
      id: j.id,
      userId: j.userId,
      userEmail: userEmail(j.userId),
      reason: j.reason,
      state: j.state,
      attempts: j.attempts,
      dueAt: j.dueAt,
      ...(j.endedAt ? { endedAt: j.endedAt } : {}),
      ...(j.error ? { error: j.error } : {}),
    }))
    .reverse();

  return {
    version: VERSION,
    generatedAt: now.toISOString(),
    store: { kind: storeKind(deps.config.kvPath), bytes },
    lastBackup: lastBackup && { at: lastBackup.at, entries: lastBackup.entries },
    limits: {
      requestsPerMinute: deps.config.googleRequestsPerMinute,
      createsPerDay: deps.config.googleAccountLimits.createsPerDay,
    },
    users: perUser.map((u) => u.overview),
    needReconnect: accounts
      .filter((a) => a.status === "needs_reconnect")
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt)),
    accounts,
    jobs: {
      waiting: jobs.filter((j) => j.state === "waiting").length,
      running: jobs.filter((j) => j.state === "running").length,
      failing,
    },
    incidents: perUser.flatMap((u) => u.incidents),
  };
}

function storeKind(path: string): OwnerOverview["store"]["kind"] {
  if (path === ":memory:") return "memory";
  return /^https?:\/\//.test(path) ? "remote" : "file";
}

async function collect(entries: AsyncIterable<{ connection: Connection }>): Promise<Connection[]> {
  const out: Connection[] = [];
  for await (const entry of entries) out.push(entry.connection);
  return out;
}
