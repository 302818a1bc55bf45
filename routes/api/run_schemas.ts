/**
 * How sync runs and sync jobs look in the API's JSON, shared by the history, sync and status
 * routes.
 */
import { z } from "@hono/zod-openapi";
import { type RunRecord, RunRecordSchema } from "../../lib/db/history.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { SYNC_REASONS } from "../../lib/model/sync_reasons.ts";

/** A run as the API shows it: the stored record without its schema version and owner. */
export const RunSchema = RunRecordSchema.omit({ v: true, userId: true }).openapi("Run");

/** Drops what only storage needs. */
export function publicRun(record: RunRecord): z.infer<typeof RunSchema> {
  const { v: _v, userId: _u, ...run } = record;
  return run;
}

export const JobSchema = z.object({
  id: z.string(),
  reason: z.enum(SYNC_REASONS),
  state: z.enum(["waiting", "running", "done", "failed"]),
  full: z.boolean().openapi({ description: "A full reconcile rather than an incremental sync." }),
  dueAt: z.string().openapi({ description: "When it may run; later than now while backing off." }),
  attempts: z.number().int(),
  runId: z.string().optional().openapi({ description: "The history record, once it ran." }),
  error: z.string().optional(),
}).openapi("SyncJob");

/** A job given up before it produced a run (its run, when there is one, says why instead). */
export function syncFailed(error: string | undefined): HttpError {
  return new HttpError(502, "sync_failed", `The sync failed: ${error ?? "unknown error"}.`);
}
