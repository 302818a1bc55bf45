import { useEffect, useRef, useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import { refreshLiveRegions } from "../lib/browser/live_regions.ts";
import {
  describeProgress,
  formatDuration,
  formatElapsed,
  plural,
  runTotals,
} from "../lib/browser/format.ts";
import { useHydrated, useRetryCountdown } from "../lib/browser/hooks.ts";
import type { RunProgress } from "../lib/model/run_progress.ts";

export interface SyncNowProps {
  /** No rule is on: there is nothing to sync. */
  disabled: boolean;
  /** A sync was already running when the page was rendered. */
  running?: boolean;
  /** How far that sync had got (a long first sync), kept up to date from `GET /api/status`. */
  progress?: RunProgress;
  /** The body of `POST /api/sync`; absent: an incremental sync of every rule. */
  request?: { ruleId?: string; groupId?: string; full?: boolean };
  /** What the button and its progress say, for a sync other than the dashboard's. */
  words?: SyncWords;
}

export interface SyncWords {
  button: string;
  busy: string;
  /** Before the click, while `disabled`, and otherwise. */
  disabled: string;
  idle: string;
  /** While the worker runs it. */
  working: string;
  /** The result when nothing had to change. */
  nothingToDo: string;
}

const SYNC_NOW: SyncWords = {
  button: "Sync now",
  busy: "Syncing…",
  disabled: "Turn a rule on to sync.",
  idle: "Runs by itself; sync now to catch up at once.",
  working: "Syncing your calendars…",
  nothingToDo: "everything was already in sync",
};

interface RunView {
  id: string;
  outcome: "ok" | "partial" | "failed";
  startedAt: string;
  endedAt: string;
  rules: { created: number; restored?: number; updated: number; deleted: number }[];
  errors: { message: string }[];
}

type Phase =
  | { phase: "idle" }
  | { phase: "starting" }
  | { phase: "queued" | "running"; runId: string; since: number; progress?: RunProgress }
  | { phase: "done"; run: RunView }
  | { phase: "failed"; message: string }
  /** Asked too often (429): the button counts down its Retry-After. */
  | { phase: "rate_limited" };

const POLL_MS = 700;
/** How often a sync found running at page load is looked at again (`GET /api/status`). */
const STATUS_POLL_MS = 2_000;

/**
 * "Sync now" (or, with other `request` and `words`, a rule page's "Check and repair"): asks for
 * a run (`POST /api/sync`, 202 with its id), then polls `GET /api/sync/{runId}` for where it
 * stands (queued, running, with the seconds it has taken) and, once done, reads `GET
 * /api/history/{runId}` to show what it did: busy blocks created, changed, removed, or the
 * first error, with a link to the run's detail.
 */
export default function SyncNow(
  { disabled, running = false, progress, request = {}, words = SYNC_NOW }: SyncNowProps,
) {
  const hydrated = useHydrated();
  const [phase, setPhase] = useState<Phase>({ phase: "idle" });
  // A sync someone else started (a saved rule, the timer): followed while it runs.
  const [background, setBackground] = useState({ running, progress });
  const [now, setNow] = useState(Date.now());
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  const retry = useRetryCountdown();

  const runId = phase.phase === "queued" || phase.phase === "running" ? phase.runId : undefined;
  useEffect(() => {
    if (!runId) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const job = await callApi<{ state: string; error?: string; progress?: RunProgress }>(
        "GET",
        `/api/sync/${runId}`,
      );
      if (!alive.current) return;
      setNow(Date.now());
      if (!job.ok) return setPhase({ phase: "failed", message: job.error.message });
      if (job.data.state === "failed") {
        await refreshLiveRegions();
        return setPhase({ phase: "failed", message: `The sync failed: ${job.data.error ?? ""}` });
      }
      if (job.data.state === "done") {
        // The page's last sync and recent runs (when it shows them) then show this run.
        const [record] = await Promise.all([
          callApi<{ run: RunView }>("GET", `/api/history/${runId}`),
          refreshLiveRegions(),
        ]);
        if (!alive.current) return;
        return setPhase(
          record.ok
            ? { phase: "done", run: record.data.run }
            : { phase: "failed", message: record.error.message },
        );
      }
      if (job.data.state === "running") {
        const progress = job.data.progress;
        setPhase((p) =>
          p.phase === "queued" || p.phase === "running"
            ? { ...p, phase: "running", ...(progress ? { progress } : {}) }
            : p
        );
      }
      timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    return () => clearTimeout(timer);
  }, [runId]);

  const watching = phase.phase === "idle" && background.running;
  useEffect(() => {
    if (!watching) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const status = await callApi<{ sync: { running: boolean; progress?: RunProgress } }>(
        "GET",
        "/api/status",
      );
      if (!alive.current) return;
      if (status.ok) {
        setBackground({ running: status.data.sync.running, progress: status.data.sync.progress });
        if (!status.data.sync.running) return;
      }
      timer = setTimeout(poll, STATUS_POLL_MS);
    };
    timer = setTimeout(poll, STATUS_POLL_MS);
    return () => clearTimeout(timer);
  }, [watching]);

  const start = async () => {
    setPhase({ phase: "starting" });
    const res = await callApi<{ runId: string }>("POST", "/api/sync", request);
    if (!alive.current) return;
    if (!res.ok && res.error.retryAfterSeconds !== undefined) {
      // The button stays off, counting down, rather than offering a click that fails again.
      retry.start(res.error.retryAfterSeconds);
      return setPhase({ phase: "rate_limited" });
    }
    setPhase(
      res.ok
        ? { phase: "queued", runId: res.data.runId, since: Date.now() }
        : { phase: "failed", message: res.error.message },
    );
  };
  const waiting = phase.phase === "rate_limited" && retry.secondsLeft > 0;
  useEffect(() => {
    if (phase.phase === "rate_limited" && retry.secondsLeft === 0) setPhase({ phase: "idle" });
  }, [phase.phase, retry.secondsLeft]);

  const busy = phase.phase === "starting" || phase.phase === "queued" ||
    phase.phase === "running";
  return (
    <div class="sync-now" data-phase={phase.phase}>
      <button
        type="button"
        class="button"
        data-testid="sync-now"
        disabled={!hydrated || disabled || busy || waiting}
        onClick={start}
      >
        <span class={busy ? "spinner" : "spinner spinner-idle"} aria-hidden="true" />
        {busy ? words.busy : waiting ? `Try again in ${retry.secondsLeft} s` : words.button}
      </button>
      <div class="sync-progress" role="status" aria-live="polite" data-testid="sync-progress">
        <Progress
          phase={phase}
          now={now}
          disabled={disabled}
          background={background}
          words={words}
        />
      </div>
    </div>
  );
}

function Progress(
  { phase, now, disabled, background, words }: {
    phase: Phase;
    now: number;
    disabled: boolean;
    background: { running: boolean; progress?: RunProgress };
    words: SyncWords;
  },
) {
  switch (phase.phase) {
    case "idle":
      if (!disabled && background.running && background.progress) {
        return <Bar label={describeProgress(background.progress)} testId="progress-text" />;
      }
      return (
        <span class="muted-text">
          {disabled
            ? words.disabled
            : background.running
            ? "A sync is running right now."
            : words.idle}
        </span>
      );
    case "starting":
      return <Bar label="Asking for a sync…" />;
    case "queued":
      return (
        <Bar
          label={`Waiting for a free worker… ${formatElapsed(now - phase.since)}`.trim()}
        />
      );
    case "running":
      return phase.progress
        ? <Bar label={describeProgress(phase.progress)} testId="progress-text" />
        : <Bar label={`${words.working} ${formatElapsed(now - phase.since)}`.trim()} />;
    case "failed":
      return <span class="field-error">{phase.message}</span>;
    case "rate_limited":
      // Said once; the countdown is on the button, so a screen reader is not read every tick.
      return (
        <span class="muted-text" data-testid="rate-limited">
          Too many syncs asked for in one minute; the button comes back by itself.
        </span>
      );
    case "done": {
      const { run } = phase;
      const t = runTotals(run);
      // The noun goes with the first count there is: "1 busy block updated", not "1 updated".
      const changes = ([
        [t.created, "created"],
        [t.restored, "brought back"],
        [t.updated, "updated"],
        [t.deleted, "removed"],
      ] as const)
        .filter(([n]) => n > 0)
        .map(([n, done], i) => `${i === 0 ? plural(n, "busy block") : n} ${done}`);
      const took = formatDuration(Date.parse(run.endedAt) - Date.parse(run.startedAt));
      return (
        <span class={`sync-result sync-${run.outcome}`} data-testid="sync-result">
          <strong>
            {run.outcome === "ok" ? "Done" : run.outcome === "partial" ? "Partly done" : "Failed"}
          </strong>{" "}
          in {took}: {changes.length ? changes.join(", ") : words.nothingToDo}.
          {run.errors[0] && <span class="field-error">{run.errors[0].message}</span>}{" "}
          <a href={`/history/${run.id}`}>Details</a>
        </span>
      );
    }
  }
}

function Bar({ label, testId }: { label: string; testId?: string }) {
  return (
    <span class="progress-line" data-testid={testId}>
      <span class="progress" aria-hidden="true">
        <span class="progress-fill" />
      </span>
      {label}
    </span>
  );
}
