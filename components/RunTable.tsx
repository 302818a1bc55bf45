import type { RunRecord } from "../lib/db/history.ts";
import type { SyncTrigger } from "../lib/model/sync_reasons.ts";
import { formatDuration, plural, runTotals } from "../lib/browser/format.ts";
import { LocalTime } from "./LocalTime.tsx";

export const TRIGGER_WORDS: Record<SyncTrigger, string> = {
  schedule: "Scheduled",
  poll: "CalDAV check",
  manual: "Sync now",
  push: "Calendar change",
  rule_created: "Rule created",
  rule_changed: "Rule changed",
  rule_turned_on: "Rule turned on",
  rule_turned_off: "Rule turned off",
  rule_deleted: "Rule deleted",
  group_created: "Group created",
  group_changed: "Group changed",
  group_turned_on: "Group turned on",
  group_turned_off: "Group turned off",
  group_deleted: "Group deleted",
  account_disconnected: "Account disconnected",
  rule_saved: "Rule saved",
  confirm: "Confirmed",
  follow_up: "Follow-up",
  remove_mirrors: "Busy blocks removed",
  purge: "Remove everything",
};

const OUTCOME_WORDS: Record<RunRecord["outcome"], string> = {
  ok: "OK",
  partial: "Partly failed",
  failed: "Failed",
};

export function OutcomePill({ outcome }: { outcome: RunRecord["outcome"] }) {
  const tone = outcome === "ok" ? "ok" : outcome === "partial" ? "warn" : "bad";
  return <span class={`pill pill-${tone}`}>{OUTCOME_WORDS[outcome]}</span>;
}

/**
 * "3 busy blocks created · 1 updated" or "No changes", over every owner line of the run, those
 * of rules and groups turned off or deleted included.
 */
export function ChangeSummary({ run }: { run: RunRecord }) {
  const t = runTotals(run);
  const parts = ([
    [t.created, "created"],
    [t.restored, "brought back"],
    [t.updated, "updated"],
    [t.deleted, "removed"],
  ] as const).filter(([n]) => n > 0)
    .map(([n, verb], i) => `${i === 0 ? plural(n, "busy block") : n} ${verb}`);
  return <span>{parts.length ? parts.join(" · ") : "No changes"}</span>;
}

export function runDuration(run: RunRecord): string {
  return formatDuration(Date.parse(run.endedAt) - Date.parse(run.startedAt));
}

/**
 * Runs as a table (a list of cards on a phone, through CSS): when, why, outcome, what changed,
 * errors. Each row links to the run's detail.
 */
export function RunTable(
  { runs, timeZone, now }: { runs: RunRecord[]; timeZone: string; now: Date },
) {
  return (
    <table class="runs">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Started by</th>
          <th scope="col">Outcome</th>
          <th scope="col">Busy blocks</th>
          <th scope="col">Errors</th>
          <th scope="col">Took</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => {
          const errors = run.errors.length + run.errorsDropped;
          return (
            <tr key={run.id} data-run={run.id}>
              <td data-label="When">
                <a href={`/history/${run.id}`}>
                  <LocalTime iso={run.startedAt} zone={timeZone} now={now} />
                </a>
                {run.dryRun && <span class="pill pill-muted">Preview</span>}
              </td>
              <td data-label="Started by">
                {TRIGGER_WORDS[run.trigger]}
                {run.full && <span class="muted">full check</span>}
              </td>
              <td data-label="Outcome">
                <OutcomePill outcome={run.outcome} />
              </td>
              <td data-label="Busy blocks">
                <ChangeSummary run={run} />
              </td>
              <td data-label="Errors">{errors ? plural(errors, "error") : "None"}</td>
              <td data-label="Took">{runDuration(run)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
