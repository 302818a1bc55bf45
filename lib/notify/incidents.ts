/**
 * Incidents: the problems only the person can solve, derived from what is stored: a connected
 * account whose access died (Google's testing-mode refresh tokens die after 7 days), a
 * connected account whose calendars Google made read-only for hours (it ends by itself), a rule
 * that broke, a rule whose syncs keep failing, a rule the delete guard holds. An incident lasts while its condition does; its
 * id names the condition and its subject, so a rule that breaks, recovers and breaks again is
 * two incidents, while one that stays broken over many runs is one. The dashboard shows every
 * open incident as a banner; lib/notify/notify.ts sends each one once.
 */
import type { AccountWritePause } from "../db/account_limits.ts";
import type { Connection } from "../db/connections.ts";
import type { Group } from "../model/group.ts";
import type { Rule } from "../model/rule.ts";

export type IncidentKind =
  | "connection_needs_reconnect"
  | "account_write_paused"
  | "rule_broken"
  | "rule_failing"
  | "rule_held";

export interface Incident {
  /** `<kind>:<connection or rule id>`: stable while the condition lasts. */
  id: string;
  kind: IncidentKind;
  /** "bad" needs action before anything syncs again; "warn" waits for a decision. */
  severity: "bad" | "warn";
  title: string;
  message: string;
  connectionId?: string;
  ruleId?: string;
  /** Where on the dashboard the person acts on it (a path of this app). */
  actionPath: string;
}

/**
 * Every open incident of a user, connections first, then rules in their order. `pauses` are the
 * write pauses in force (lib/db/account_limits.ts listWritePauses), matched to connections by
 * Google account.
 */
export function openIncidents(
  connections: readonly Connection[],
  rules: readonly (Rule | Group)[],
  pauses: readonly AccountWritePause[],
): Incident[] {
  const out: Incident[] = [];
  for (const c of connections) {
    const pause = pauses.find((p) => p.issuer === c.issuer && p.sub === c.sub);
    if (pause && c.status === "active") {
      out.push({
        id: `account_write_paused:${c.id}`,
        kind: "account_write_paused",
        severity: "warn",
        title: `Busy blocks in ${c.email} wait until ${
          pause.until.slice(0, 16).replace("T", " ")
        } UTC`,
        message: `Google made this account's calendars read-only for a few hours: too many ` +
          `events were created in it in a short time (Google's Calendar usage limits). ` +
          `busysync writes nothing there until then, and catches up by itself afterwards; ` +
          `nothing needs doing.`,
        connectionId: c.id,
        actionPath: "/connections",
      });
    }
    if (c.status !== "needs_reconnect") continue;
    out.push({
      id: `connection_needs_reconnect:${c.id}`,
      kind: "connection_needs_reconnect",
      severity: "bad",
      title: `Reconnect ${c.email}`,
      message:
        `${c.statusReason ?? "Google no longer accepts busysync's access to this account."} ` +
        "Rules that use its calendars wait until you connect it again.",
      connectionId: c.id,
      actionPath: "/connections",
    });
  }
  for (const r of rules) {
    if (!r.enabled) continue;
    // A group's incidents are a rule's, in its own words and on its own page.
    const what = "members" in r ? "Group" : "Rule";
    const actionPath = "members" in r ? `/groups/${r.id}` : `/rules/${r.id}`;
    if (r.status === "broken") {
      out.push({
        id: `rule_broken:${r.id}`,
        kind: "rule_broken",
        severity: "bad",
        title: `${what} “${r.name}” stopped working`,
        message: r.statusReason ?? `The last sync could not apply this ${what.toLowerCase()}.`,
        ruleId: r.id,
        actionPath,
      });
    } else if (r.status === "failing") {
      out.push({
        id: `rule_failing:${r.id}`,
        kind: "rule_failing",
        severity: "bad",
        title: `${what} “${r.name}” keeps failing`,
        message: r.statusReason ??
          `Several syncs in a row could not apply this ${what.toLowerCase()}.`,
        ruleId: r.id,
        actionPath,
      });
    } else if (r.status === "needs_confirmation") {
      out.push({
        id: `rule_held:${r.id}`,
        kind: "rule_held",
        severity: "warn",
        title: `${what} “${r.name}” is waiting for you`,
        // The guard's own reason is in the engine's words: it follows the plain one.
        message: "A sync would remove an unusually large number of busy blocks, so busysync " +
          "stopped before removing any. Confirm if that is what you want." +
          (r.statusReason ? ` (${r.statusReason})` : ""),
        ruleId: r.id,
        actionPath,
      });
    }
  }
  return out;
}
