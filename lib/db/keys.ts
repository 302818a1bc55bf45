/**
 * Every Deno KV key busysync writes is built here, so the layout can be read in one place.
 * Collections are plural; secondary indexes are `<collection>_by_<attribute>` and hold ids.
 */
export const keys = {
  /** Applied migration ids and the store's schema version. */
  migration: (id: string) => ["meta", "migrations", id] as const,
  migrations: () => ["meta", "migrations"] as const,
  schemaVersion: () => ["meta", "schema_version"] as const,
  /** Secrets the instance generates for itself when none is configured. */
  setting: (name: string) => ["meta", "settings", name] as const,
  /** Set while a backup runs: scheduler workers claim no jobs. */
  writersPaused: () => ["meta", "writers_paused"] as const,
  /** When `busysync backup` last wrote a complete dump, and how many entries it held. */
  lastBackup: () => ["meta", "last_backup"] as const,
  /** Written by schema version 0 on disconnect; migration 0001 removes them. */
  legacyConnectionRemovals: () => ["connection_removals"] as const,

  /** Never written: reading it tells whether the store answers (the readiness probe). */
  ping: () => ["meta", "ping"] as const,

  /** A busysync user (a person signed in with Google). */
  user: (userId: string) => ["users", userId] as const,
  allUsers: () => ["users"] as const,
  /** Users are keyed by the identity provider's stable subject, never by email. */
  userBySub: (issuer: string, sub: string) => ["users_by_sub", issuer, sub] as const,

  /**
   * An owner address of BUSYSYNC_ADMIN_EMAILS pinned to the Google account (issuer, sub) that
   * first proved it: afterwards only that account counts for the address.
   */
  ownerPin: (address: string) => ["owner_pins", address] as const,
  /** The instance owner paused this user's syncs (lib/db/sync_pauses.ts). */
  syncPause: (userId: string) => ["sync_pauses", userId] as const,
  syncPauses: () => ["sync_pauses"] as const,

  /** A sign-in session: one refresh-token family. */
  session: (sessionId: string) => ["sessions", sessionId] as const,
  /** The sessions of a user, so sign-out-everywhere and account deletion can find them. */
  sessionByUser: (userId: string, sessionId: string) =>
    ["sessions_by_user", userId, sessionId] as const,
  sessionsByUser: (userId: string) => ["sessions_by_user", userId] as const,

  /** A personal API token, keyed by the SHA-256 (hex) of the token: all the store keeps of it. */
  apiToken: (tokenHash: string) => ["api_tokens", tokenHash] as const,
  /** The API tokens of a user (the token's hash, by token id), for listing and revoking. */
  apiTokenByUser: (userId: string, tokenId: string) =>
    ["api_tokens_by_user", userId, tokenId] as const,
  apiTokensByUser: (userId: string) => ["api_tokens_by_user", userId] as const,
  /**
   * Bumped by every token a user creates and checked by the next, so two creations at once
   * cannot both pass the per-user limit.
   */
  apiTokenSet: (userId: string) => ["api_token_sets", userId] as const,

  /** A connected Google account of a user (encrypted tokens, status). */
  connection: (userId: string, connectionId: string) =>
    ["connections", userId, connectionId] as const,
  connections: (userId: string) => ["connections", userId] as const,
  /** Every user's connections: maintenance such as key rotation walks them all. */
  allConnections: () => ["connections"] as const,
  /** One connection per Google account per user: connecting the same account again updates it. */
  connectionBySub: (userId: string, issuer: string, sub: string) =>
    ["connections_by_sub", userId, issuer, sub] as const,
  /**
   * Every user's connection to one Google account, instance-wide: the connections sharing that
   * account's one grant to busysync's OAuth client, which revoking any token ends.
   */
  connectionByAccount: (issuer: string, sub: string, userId: string) =>
    ["connections_by_account", issuer, sub, userId] as const,
  connectionsByAccount: (issuer: string, sub: string) =>
    ["connections_by_account", issuer, sub] as const,
  /**
   * Event creations granted to one Google account on one UTC day (YYYY-MM-DD), instance-wide:
   * Google's Calendar usage limits count per account, whichever busysync user writes.
   */
  accountCreates: (issuer: string, sub: string, day: string) =>
    ["account_creates", issuer, sub, day] as const,
  /** Until when writes into one Google account's calendars wait (its usage limits were met). */
  accountWritePause: (issuer: string, sub: string) =>
    ["account_write_pauses", issuer, sub] as const,

  /** Cached calendar list entries of one connection. */
  calendar: (userId: string, connectionId: string, calendarId: string) =>
    ["calendars", userId, connectionId, calendarId] as const,
  calendarsOfConnection: (userId: string, connectionId: string) =>
    ["calendars", userId, connectionId] as const,
  calendars: (userId: string) => ["calendars", userId] as const,

  /** A pending OAuth redirect (sign-in or connect), expiring after ten minutes. */
  oauthState: (stateId: string) => ["oauth_states", stateId] as const,

  /** One fixed rate-limit window of one client for one kind of request. */
  rateLimit: (bucket: string, client: string, windowStart: number) =>
    ["rate_limits", bucket, client, windowStart] as const,

  /** A sync rule of a user. */
  rule: (userId: string, ruleId: string) => ["rules", userId, ruleId] as const,
  rules: (userId: string) => ["rules", userId] as const,
  /** Every user's rules: the cron finds the users to sync here. */
  allRules: () => ["rules"] as const,
  /**
   * Bumped by every rule create/update/delete and checked by the next one, so two concurrent
   * edits cannot together form a rule cycle that each alone passed.
   */
  ruleSet: (userId: string) => ["rule_sets", userId] as const,
  /** A sync group of a user (lib/db/groups.ts); changes share the rule set's `ruleSet` key. */
  group: (userId: string, groupId: string) => ["groups", userId, groupId] as const,
  groups: (userId: string) => ["groups", userId] as const,
  /** Every user's groups: the cron finds the users to sync here too. */
  allGroups: () => ["groups"] as const,
  /**
   * One edge of a group that went away (a member left): its mirrors wait for the engine to
   * remove them, in both directions, while the group's other edges go on.
   */
  edgeRemoval: (userId: string, ownerId: string, direction: string) =>
    ["edge_removals", userId, ownerId, direction] as const,
  edgeRemovals: (userId: string) => ["edge_removals", userId] as const,
  /** A rule deleted or disabled with "remove its mirrors", waiting for the engine to do it. */
  mirrorRemoval: (userId: string, ruleId: string) => ["mirror_removals", userId, ruleId] as const,
  mirrorRemovals: (userId: string) => ["mirror_removals", userId] as const,
  /** A removal that offered an undo and was carried out: a late undo says so (a day). */
  spentUndo: (userId: string, ownerId: string) => ["spent_undos", userId, ownerId] as const,
  /** A rule deleted with "keep its mirrors": a full reconcile must leave those mirrors alone. */
  releasedRule: (userId: string, ruleId: string) => ["released_rules", userId, ruleId] as const,
  releasedRules: (userId: string) => ["released_rules", userId] as const,

  /** Per (rule, direction, source event): the mirror busysync wrote (lib/db/ledger.ts). */
  ledgerEntry: (userId: string, ruleId: string, direction: string, sourceEventId: string) =>
    ["ledger", userId, ruleId, direction, sourceEventId] as const,
  ledgerOfEdge: (userId: string, ruleId: string, direction: string) =>
    ["ledger", userId, ruleId, direction] as const,
  ledgerOfRule: (userId: string, ruleId: string) => ["ledger", userId, ruleId] as const,
  ledger: (userId: string) => ["ledger", userId] as const,
  /**
   * Per (rule, direction, source event): a mirror insert about to be sent, until the ledger
   * confirms it (lib/db/write_intents.ts).
   */
  writeIntent: (userId: string, ruleId: string, direction: string, sourceEventId: string) =>
    ["write_intents", userId, ruleId, direction, sourceEventId] as const,
  writeIntentsOfEdge: (userId: string, ruleId: string, direction: string) =>
    ["write_intents", userId, ruleId, direction] as const,
  writeIntentsOfRule: (userId: string, ruleId: string) =>
    ["write_intents", userId, ruleId] as const,
  writeIntents: (userId: string) => ["write_intents", userId] as const,
  /** Per rule: how many runs in a row failed it, and why the last one did (lib/db/rule_failures.ts). */
  ruleFailures: (userId: string, ruleId: string) => ["rule_failures", userId, ruleId] as const,

  /** The change cursor (sync token) of one source calendar, shared by every edge reading it. */
  cursor: (userId: string, sourceKey: string) => ["cursors", userId, sourceKey] as const,
  cursors: (userId: string) => ["cursors", userId] as const,

  /** The per-user sync lease (expiring); every fenced write checks its versionstamp. */
  lease: (userId: string) => ["leases", userId] as const,
  leases: () => ["leases"] as const,
  /**
   * "Sync again when done", set by a trigger that found the lease held. Apart from the lease so
   * that setting it does not change the lease's versionstamp and fence the running sync out.
   */
  syncFollowUp: (userId: string) => ["sync_follow_ups", userId] as const,
  /**
   * How far the user's running sync has got (lib/db/sync_progress.ts): written while a long
   * first sync runs, so "Sync now" and the dashboard can show it and the time left.
   */
  syncProgress: (userId: string) => ["sync_progress", userId] as const,

  /**
   * The job table (lib/db/jobs.ts). A job's record; `jobs_due` points at every unfinished job
   * under the time someone should look at it next (a waiting job's due time, a running job's
   * claim expiry), so one ordered listing finds both due jobs and jobs of a dead worker.
   */
  job: (jobId: string) => ["jobs", jobId] as const,
  /** Every job on record: unfinished ones, and finished ones for a day. */
  allJobs: () => ["jobs"] as const,
  jobDue: (atMs: number, jobId: string) => ["jobs_due", atMs, jobId] as const,
  jobsDue: () => ["jobs_due"] as const,
  jobsDueBefore: (atMs: number) => ["jobs_due", atMs] as const,
  /** The user's jobs, finished ones too (until they expire). */
  jobByUser: (userId: string, jobId: string) => ["jobs_by_user", userId, jobId] as const,
  jobsByUser: (userId: string) => ["jobs_by_user", userId] as const,
  /**
   * The user's unfinished jobs, for the status a page shows: listing every job instead costs
   * a read per job of the last day, and push-triggered syncs make hundreds of those.
   */
  jobOpenByUser: (userId: string, jobId: string) => ["jobs_open_by_user", userId, jobId] as const,
  jobsOpenByUser: (userId: string) => ["jobs_open_by_user", userId] as const,
  /** The user's one waiting job per reason, which a new request of that reason joins. */
  waitingJob: (userId: string, reason: string) => ["jobs_waiting", userId, reason] as const,
  /** A cron tick's job for a user: created once per tick whichever instance's cron fires. */
  tick: (tickId: number, userId: string) => ["ticks", tickId, userId] as const,
  /** A CalDAV poll tick's job for a user, as `tick` (poll ticks are numbered on their own). */
  pollTick: (tickId: number, userId: string) => ["poll_ticks", tickId, userId] as const,
  /** An ICS feed poll tick's job for a user, as `pollTick` (on the feeds' own interval). */
  icsPollTick: (tickId: number, userId: string) => ["ics_poll_ticks", tickId, userId] as const,

  /** A push channel (open, or a stopped channel's tombstone until its expiry). */
  channel: (channelId: string) => ["channels", channelId] as const,
  channelByUser: (userId: string, channelId: string) =>
    ["channels_by_user", userId, channelId] as const,
  channelsByUser: (userId: string) => ["channels_by_user", userId] as const,
  /** Held while one instance reconciles the user's channels, so two never open duplicates. */
  channelLock: (userId: string) => ["channel_locks", userId] as const,
  /** When the channel's last notification arrived; apart so notifications never contend. */
  channelNotified: (channelId: string) => ["channel_notifications", channelId] as const,

  /**
   * An incident (lib/notify/incidents.ts) sent by one sender ("webhook", "email"); deleted
   * once the incident is over, so a new one is sent again.
   */
  notificationSent: (userId: string, incidentId: string, sender: string) =>
    ["notifications_sent", userId, incidentId, sender] as const,
  notificationsSent: (userId: string) => ["notifications_sent", userId] as const,

  /** One sync run's record, newest last (ULID ids), expiring after the retention period. */
  run: (userId: string, runId: string) => ["history", userId, runId] as const,
  runs: (userId: string) => ["history", userId] as const,
  /** A run's per-event actions (capped), apart so that listing runs stays light. */
  runActions: (userId: string, runId: string) => ["history_actions", userId, runId] as const,
  allRunActions: () => ["history_actions"] as const,
};

/**
 * The collections whose keys start with `[collection, userId]`. Deleting an account removes
 * every key under these prefixes, so a later collection keyed this way (rules, cursors, ledger,
 * history, leases ...) adds its name here and is deleted with the account.
 */
export const USER_SCOPED_COLLECTIONS = [
  "calendars",
  "connections_by_sub",
  "connections",
  "rules",
  "groups",
  "edge_removals",
  "rule_sets",
  "mirror_removals",
  "released_rules",
  "ledger",
  "write_intents",
  "rule_failures",
  "cursors",
  "leases",
  "sync_follow_ups",
  "sync_progress",
  "sync_pauses",
  "history",
  "history_actions",
  "jobs_by_user",
  "jobs_open_by_user",
  "jobs_waiting",
  "channels_by_user",
  "channel_locks",
  "notifications_sent",
  "api_token_sets",
] as const;
