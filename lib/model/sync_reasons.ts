/**
 * Why a sync runs. A reason is what asks for a sync (and is stored with its job); a trigger is
 * what a run's history record says started it: every reason, and the runs busysync starts on
 * its own. One list, so a new reason is a trigger too without anyone mapping it.
 *
 * The reasons a person's change of a rule or group queues say what they did, so a run reads
 * "Rule turned off", not "Rule saved". A waiting job is joined only by a request of the same
 * reason (lib/db/jobs.ts), so no reason ever wins over another: turning one rule off and
 * deleting another queue two jobs, and each run is named by its own cause. Whichever runs first
 * also carries out the other's pending removals; its per-owner lines say which owner was turned
 * off or deleted, so its counts stay true.
 */

/** What a person did to a rule or a group, in the reasons it queues. */
export const OWNER_CHANGES = ["created", "changed", "turned_on", "turned_off", "deleted"] as const;
export type OwnerChange = (typeof OWNER_CHANGES)[number];

/** What asks for a sync. */
export const SYNC_REASONS = [
  /** "Sync now" in the dashboard. */
  "manual",
  /**
   * Rules: created (on), changed, turned on (its mirrors come), turned off (its mirrors go),
   * deleted (its mirrors go).
   */
  "rule_created",
  "rule_changed",
  "rule_turned_on",
  "rule_turned_off",
  "rule_deleted",
  /** Groups, as rules. */
  "group_created",
  "group_changed",
  "group_turned_on",
  "group_turned_off",
  "group_deleted",
  /** An account was disconnected; the blocks of its rules and groups go. */
  "account_disconnected",
  /** Older versions' reason for any rule save; jobs and runs stored then still read. */
  "rule_saved",
  /** A push notification from the calendar service. */
  "push",
  /** The periodic timer (cron). */
  "schedule",
  /**
   * The CalDAV poll (BUSYSYNC_CALDAV_POLL_MINUTES) or the ICS feed poll
   * (BUSYSYNC_ICS_POLL_MINUTES): neither has push, so the rules and groups reading a CalDAV
   * calendar or a feed are synced this often.
   */
  "poll",
  /** The user confirmed deletes the guard stopped. */
  "confirm",
] as const;
export type SyncReason = (typeof SYNC_REASONS)[number];

/** The reason a change of a rule or a group queues. */
export function ownerChangeReason(kind: "rule" | "group", change: OwnerChange): SyncReason {
  return `${kind}_${change}`;
}

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
