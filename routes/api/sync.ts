/**
 * Asking for a sync: `POST /api/sync` queues a job for the signed-in user, incremental or a full
 * reconcile (202 with its id, or with `?wait=true` 200 with the run once done) and `GET /api/sync/{runId}` says where the job
 * stands. Triggers are rate limited per user. The job system itself is lib/scheduler/; routes
 * only talk to it through SyncRequests.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { getGroup } from "../../lib/db/groups.ts";
import { getRule } from "../../lib/db/rules.ts";
import { requireUser, userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import {
  createApiApp,
  errorResponses,
  idParam,
  jsonResponse,
  SIGNED_IN,
} from "../../lib/http/openapi.ts";
import type { SyncRequest } from "../../lib/sync/requests.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import {
  JobSchema,
  RunSummarySchema,
  SyncAcceptedSchema,
  syncTriggerLimit,
  triggerSync,
  WaitQuery,
} from "./schemas.ts";

const SyncBody = z.object({
  ruleId: z.string().min(1).max(128).optional().openapi({
    description: "Sync only the calendars this rule reads; all rules when absent.",
  }),
  groupId: z.string().min(1).max(128).optional().openapi({
    description: "Sync only this group's calendars (with `ruleId`: both).",
  }),
  full: z.boolean().optional().openapi({
    description: 'A full reconcile ("Check and repair") instead of an incremental sync: ' +
      "re-reads the whole window of every source and target and repairs missing, duplicate " +
      "and stale busy blocks (puts back those deleted or edited by hand, removes leftovers of " +
      "vanished events and deleted rules) and retries broken rules. Costs more API calls: " +
      "every calendar is listed in full rather than just its changes.",
  }),
}).strict().openapi("SyncRequest");

const tags = ["Sync"];

export function syncRoutes(deps: AppDeps) {
  const app = createApiApp<AppEnv>();
  app.use("*", requireUser());
  const triggerLimit = syncTriggerLimit(deps);

  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      security: SIGNED_IN,
      summary: "Sync now, or check and repair",
      description: "Queues a sync of the user's rules (or of one rule's calendars), incremental " +
        "or with `full` a full reconcile. A request while one waits joins it: their rules are " +
        "combined, and the job is full if either asked for it, so a repair is never lost in a " +
        "waiting plain sync. Rate limited per user (429 with Retry-After).",
      middleware: [triggerLimit] as const,
      request: {
        query: WaitQuery,
        body: { required: false, content: { "application/json": { schema: SyncBody } } },
      },
      responses: {
        200: jsonResponse(RunSummarySchema, "With `wait=true`: the finished run."),
        202: jsonResponse(SyncAcceptedSchema, "Queued; poll the runId."),
        ...errorResponses(400, 401, 404, 409, 415, 429),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { ruleId, groupId, full } = c.req.valid("json");
      if (ruleId !== undefined && !await getRule(deps.kv, userId, ruleId)) {
        throw new HttpError(404, "not_found", "No such rule.");
      }
      if (groupId !== undefined && !await getGroup(deps.kv, userId, groupId)) {
        throw new HttpError(404, "not_found", "No such group.");
      }
      const ownerIds = [ruleId, groupId].filter((id) => id !== undefined);
      const request: SyncRequest = {
        reason: "manual",
        ...(ownerIds.length ? { ruleIds: ownerIds } : {}),
        ...(full ? { full } : {}),
      };
      const answer = await triggerSync(deps, userId, request, c.req.valid("query").wait);
      if (answer.status === 200) return c.json(answer.body, 200);
      c.header("Location", `/api/sync/${answer.body.runId}`);
      return c.json(answer.body, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/{runId}",
      tags,
      security: SIGNED_IN,
      summary: "Where a requested sync stands",
      request: { params: idParam("runId", "The runId `POST /api/sync` answered.") },
      responses: {
        200: jsonResponse(JobSchema, "The job."),
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const job = await deps.syncRequests.job(userOf(c).id, c.req.valid("param").runId);
      if (!job) throw new HttpError(404, "not_found", "No such sync.");
      return c.json(job, 200);
    },
  );

  return app;
}
