/**
 * Why a sync runs. A reason is what asks for a sync (and is stored with its job); a trigger is
 * what a run's history record says started it: every reason, and the runs busysync starts on
 * its own. One list, so a new reason is a trigger too without anyone mapping it.
 */

/** What asks for a sync. */
export const SYNC_REASONS = [
  /** "Sync now" in the dashboard. */
  "manual",
  /** A rule was created or saved with changes. */
  "rule_saved",
  /** A push notification from the calendar service. */
  "push",
  /** The periodic timer (cron). */
  "schedule",
  /** The user confirmed deletes the guard stopped. */
  "confirm",
] as const;
export type SyncReason = (typeof SYNC_REASONS)[number];

/** What starts a sync run. */
export const SYNC_TRIGGERS = [
  ...SYNC_REASONS,
  /** A trigger arrived while a run was going; coalesced into one more run. */
  "follow_up",
  /** Removing a deleted or disabled rule's mirrors. */
  "remove_mirrors",
  /** Removing every busysync event of the user. */
  "purge",
] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];
