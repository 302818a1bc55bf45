/**
 * How far a running sync has got, for a long first sync above all: against Google the request
 * budget paces it (lib/sync/progress.ts). The server reports it (`GET /api/status`,
 * `GET /api/sync/{runId}`) and the browser words it (lib/browser/format.ts).
 */
export interface RunProgress {
  startedAt: string;
  /** "nearest": the next days are being mirrored first; "all": the whole window. */
  stage: "nearest" | "all";
  listed: number;
  planned: number;
  written: number;
  /** Until when the next days' busy blocks are in place, once the first pass is done. */
  nearestUntil?: string;
  /** Seconds the planned writes still left should take. */
  remainingSeconds?: number;
}
