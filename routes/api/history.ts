/**
 * Sync history of the signed-in user: `GET /api/history` (newest first, paged with a cursor,
 * filterable by rule and outcome) and `GET /api/history/{runId}` (one run with what happened
 * to each event). A runId from `POST /api/sync` (a job id) answers with the run it produced
 * once it ran, so a client polls one URL.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { openTitles } from "../../lib/db/history_titles.ts";
import { ActionSchema, getRun, listRuns, type RunRecord } from "../../lib/db/history.ts";
import { requireUser, userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import {
  createApiApp,
  errorResponses,
  idParam,
  jsonResponse,
  named,
  SIGNED_IN,
} from "../../lib/http/openapi.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { publicRun, RunSchema, syncFailed } from "./schemas.ts";

const HistoryQuery = z.object({
  cursor: z.string().max(1000).optional().openapi({ description: "From the previous page." }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  ruleId: z.string().max(128).optional().openapi({
    description: "Only runs that synced this rule or recorded an error of it.",
  }),
  groupId: z.string().max(128).optional().openapi({
    description: "Only runs that synced this group or recorded an error of it.",
  }),
  outcome: z.enum(["ok", "partial", "failed"]).optional(),
});

const HistoryPageSchema = z.object({
  items: z.array(RunSchema),
  cursor: z.string().optional().openapi({ description: "Absent on the last page." }),
}).openapi("HistoryPage");

const RunDetailSchema = z.object({
  run: RunSchema,
  actions: z.array(named(
    ActionSchema.extend({
      title: z.string().optional().openapi({
        description: "The source event's title as the run read it. Stored encrypted; decrypted " +
          "only in this answer to the run's signed-in owner, and never logged.",
      }),
    }),
    "RunAction",
  )).openapi({
    description: "What happened to each event (the first 200 writes; `run.actionsDropped` " +
      "more), then up to 50 events left out (`kind: skip`, `reason` says why).",
  }),
}).openapi("RunDetail");

const tags = ["History"];

export function historyRoutes(deps: AppDeps) {
  const app = createApiApp<AppEnv>();
  app.use("*", requireUser());

  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      security: SIGNED_IN,
      summary: "List sync runs, newest first",
      request: { query: HistoryQuery },
      responses: {
        200: jsonResponse(HistoryPageSchema, "A page of runs."),
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const { cursor, limit, ruleId, groupId, outcome } = c.req.valid("query");
      if (ruleId !== undefined && groupId !== undefined) {
        throw new HttpError(
          400,
          "invalid_request",
          "Ask for a rule's runs or a group's, not both.",
        );
      }
      // Rules and groups share one id space (ULIDs) and one place in a run's record.
      const ownerId = ruleId ?? groupId;
      const kind = groupId === undefined ? "rule" : "group";
      const match = ownerId === undefined && outcome === undefined
        ? undefined
        : (run: RunRecord) =>
          (outcome === undefined || run.outcome === outcome) &&
          (ownerId === undefined ||
            run.rules.some((r) => r.ruleId === ownerId && (r.kind ?? "rule") === kind) ||
            run.errors.some((e) => e.ruleId === ownerId));
      let page;
      try {
        page = await listRuns(deps.kv, userOf(c).id, { cursor, limit, match });
      } catch (err) {
        // KV rejects a cursor it did not make with a TypeError: the client's input, not ours.
        if (cursor !== undefined && err instanceof TypeError) {
          throw new HttpError(400, "invalid_request", "Some fields are not valid.", {
            cursor: "not a cursor from this list",
          });
        }
        throw err;
      }
      return c.json({ items: page.items.map(publicRun), cursor: page.cursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/{runId}",
      tags,
      security: SIGNED_IN,
      summary: "One run with its per-event actions",
      description: "`runId` may also be the id `POST /api/sync` answered: until that sync has " +
        "run this answers 404 `run_pending`.",
      request: { params: idParam("runId", "A run id, or the runId of a requested sync.") },
      responses: {
        200: jsonResponse(RunDetailSchema, "The run."),
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { runId } = c.req.valid("param");
      let found = await getRun(deps.kv, userId, runId);
      if (!found) {
        const job = await deps.syncRequests.job(userId, runId);
        if (!job) throw new HttpError(404, "not_found", "No such run.");
        if (!job.runId && job.state === "failed") throw syncFailed(job.error);
        if (!job.runId) {
          throw new HttpError(404, "run_pending", `This sync has not run yet (${job.state}).`);
        }
        found = await getRun(deps.kv, userId, job.runId);
        if (!found) throw new HttpError(404, "not_found", "This run is past its retention.");
      }
      const actions = await openTitles(deps.keyring, userId, found.run.id, found.actions);
      return c.json({ run: publicRun(found.run), actions }, 200);
    },
  );

  return app;
}
