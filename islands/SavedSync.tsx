import { useEffect, useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import { plural, runTotals } from "../lib/browser/format.ts";

export interface SavedSyncProps {
  /** The saved rule's name. */
  ruleName: string;
  /** The save made it: "Created" rather than "Saved". */
  created?: boolean;
  /** The sync the save queued (`Busysync-Sync-Run`); absent when none was due (a rule off). */
  runId?: string;
  /** The calendar(s) the rule writes into, named for a sentence. */
  into: string;
}

interface RunView {
  id: string;
  outcome: "ok" | "partial" | "failed";
  rules: { created: number; restored?: number; updated: number; deleted: number }[];
  errors: { message: string }[];
}

type Phase =
  | { phase: "syncing" }
  | { phase: "done"; run: RunView }
  | { phase: "failed"; message: string };

const POLL_MS = 500;

/**
 * What a person sees right after saving a rule: "Saved — syncing" while the sync the save
 * queued waits and runs (`GET /api/sync/{runId}`), then what it did (`GET /api/history/{runId}`):
 * how many busy blocks went into which calendar, or why it failed, with a link to the run.
 */
export default function SavedSync({ ruleName, runId, into, created }: SavedSyncProps) {
  const done = created ? "Created" : "Saved";
  const [phase, setPhase] = useState<Phase>({ phase: "syncing" });
  useEffect(() => {
    if (!runId) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const job = await callApi<{ state: string; error?: string }>("GET", `/api/sync/${runId}`);
      if (!alive) return;
      if (!job.ok) return setPhase({ phase: "failed", message: job.error.message });
      if (job.data.state === "failed") {
        return setPhase({ phase: "failed", message: `The sync failed: ${job.data.error ?? ""}` });
      }
      if (job.data.state === "done") {
        const record = await callApi<{ run: RunView }>("GET", `/api/history/${runId}`);
        if (!alive) return;
        return setPhase(
          record.ok
            ? { phase: "done", run: record.data.run }
            : { phase: "failed", message: record.error.message },
        );
      }
      timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [runId]);

  return (
    <div class="callout saved-sync" role="status" aria-live="polite" data-phase={phase.phase}>
      <strong>{runId && phase.phase === "syncing" ? `${done} — syncing` : done}</strong>{" "}
      <span data-testid="saved-sync">
        {!runId
          ? `“${ruleName}” is off, so nothing syncs until you turn it on.`
          : phase.phase === "syncing"
          ? <>“{ruleName}” is putting busy blocks into {into}…</>
          : phase.phase === "failed"
          ? phase.message
          : <Result run={phase.run} into={into} />}
      </span>
    </div>
  );
}

function Result({ run, into }: { run: RunView; into: string }) {
  const t = runTotals(run);
  const changes = [
    t.created && `${plural(t.created, "busy block")} added`,
    t.restored && `${t.restored} brought back`,
    t.updated && `${t.updated} updated`,
    t.deleted && `${t.deleted} removed`,
  ].filter(Boolean).join(", ");
  return (
    <>
      {run.outcome === "failed"
        ? `The sync failed: ${run.errors[0]?.message ?? "see the run"}. `
        : `Synced: ${changes || "nothing to add yet"} in ${into}. `}
      {run.outcome === "partial" && `${plural(run.errors.length, "problem")}. `}
      <a href={`/history/${run.id}`}>See what it did</a>
    </>
  );
}
