/**
 * The owner's API (mounted at `/api/admin`): the instance overview and what the owner does to a
 * user (pause or resume their syncs, delete them). Only an instance owner passes the guard;
 * anyone else, signed in or not, gets the answer of an unknown path (lib/http/owner_guard.ts).
 * Unsafe methods pass the same CSRF checks as every API call (app.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { readOwnerOverview } from "../../lib/admin/overview.ts";
import { deleteUserAsOwner, pauseSyncsOf, resumeSyncsOf } from "../../lib/admin/user_actions.ts";
import { MirrorRemovalError } from "../../lib/accounts/lifecycle.ts";
import { CONNECTION_STATUSES } from "../../lib/db/connections.ts";
import { refuseApiTokens, userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import {
  createApiApp,
  errorResponses,
  ErrorSchema,
  idParam,
  jsonResponse,
  SESSION_ONLY,
} from "../../lib/http/openapi.ts";
import { requireOwner } from "../../lib/http/owner_guard.ts";
import { SYNC_REASONS } from "../../lib/model/sync_reasons.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { overviewDeps } from "./schemas.ts";

const tags = ["Owner"];

const OWNERS_ONLY = "Only for an owner of the instance (BUSYSYNC_ADMIN_EMAILS, signed in with " +
  "the Google account the address is pinned to); anyone else gets 404, as for an unknown path.";

const ConnectionSchema = z.object({
  id: z.string(),
  userId: z.string(),
  userEmail: z.string(),
  email: z.string().openapi({ description: "The connected Google account's address." }),
  status: z.enum(CONNECTION_STATUSES),
  statusReason: z.string().optional(),
  updatedAt: z.string(),
  requestsLastMinute: z.number().int().openapi({
    description: "Google requests in the last 60 s, as counted by the process that answered " +
      "(the request budget is kept in memory, per process).",
  }),
  createsToday: z.number().int().openapi({
    description: "Events created in the account today (UTC), whichever user wrote them.",
  }),
  writesPausedUntil: z.string().optional().openapi({
    description: "Google made the account's calendars read-only; writes wait until then.",
  }),
}).openapi("OwnerConnection");

const OverviewSchema = z.object({
  version: z.string(),
  generatedAt: z.string(),
  store: z.object({
    kind: z.enum(["file", "memory", "remote"]),
    bytes: z.number().int().nullable().openapi({
      description: "The SQLite file and its log; null when not known (`:memory:`, KV Connect).",
    }),
  }),
  lastBackup: z.object({ at: z.string(), entries: z.number().int() }).nullable().openapi({
    description: "The last complete `busysync backup`; null when none was recorded.",
  }),
  limits: z.object({ requestsPerMinute: z.number().int(), createsPerDay: z.number().int() }),
  users: z.array(z.object({
    id: z.string(),
    email: z.string().openapi({ description: "The address the person signs in with." }),
    createdAt: z.string(),
    lastSignInAt: z.string(),
    lastSync: z.object({ at: z.string(), outcome: z.enum(["ok", "partial", "failed"]) })
      .optional(),
    rules: z.number().int(),
    enabledRules: z.number().int(),
    connections: z.number().int(),
    jobsWaiting: z.number().int(),
    paused: z.boolean(),
  })),
  needReconnect: z.array(ConnectionSchema),
  accounts: z.array(ConnectionSchema),
  jobs: z.object({
    waiting: z.number().int(),
    running: z.number().int(),
    failing: z.array(z.object({
      id: z.string(),
      userId: z.string(),
      userEmail: z.string(),
      reason: z.enum(SYNC_REASONS),
      state: z.enum(["waiting", "running", "done", "failed"]),
      attempts: z.number().int(),
      dueAt: z.string(),
      endedAt: z.string().optional(),
      error: z.string().optional(),
    })),
  }),
  incidents: z.array(z.object({
    id: z.string(),
    userId: z.string(),
    userEmail: z.string(),
    kind: z.string(),
    severity: z.enum(["bad", "warn"]),
    subject: z.string().openapi({ description: "The account's address, or the rule's id." }),
  })),
}).openapi("OwnerOverview");

const PausedSchema = z.object({
  userId: z.string(),
  paused: z.boolean(),
  jobId: z.string().optional().openapi({ description: "Resuming: the sync queued at once." }),
}).openapi("OwnerSyncPause");

const UserId = idParam("userId", "The user's id.");

const DeleteQuery = z.object({
  removeMirrors: z.enum(["true", "false"]).openapi({
    description: "true: remove the user's busy blocks from their calendars first; false: " +
      "leave them where they are (nobody manages them afterwards). No default: the owner says.",
  }),
});

const noSuchUser = () => new HttpError(404, "not_found", "No such user.");

export function adminRoutes(deps: AppDeps) {
  const app = createApiApp<AppEnv>();
  // An owner's powers over other people need the owner signed in, never a script's token.
  app.use("*", refuseApiTokens());
  app.use("*", requireOwner({ kv: deps.kv, adminEmails: deps.config.adminEmails }));

  app.openapi(
    createRoute({
      method: "get",
      path: "/overview",
      tags,
      security: SESSION_ONLY,
      summary: "The instance at a glance",
      description: "Users and their last sync, connections needing a reconnect, each " +
        "account's request and creation budget in use, jobs waiting and failing, open " +
        "incidents, version, store size, last backup. Never an event or its title. " +
        OWNERS_ONLY,
      responses: {
        200: jsonResponse(OverviewSchema, "The overview."),
        ...errorResponses(404),
      },
    }),
    async (c) => c.json(await readOwnerOverview(overviewDeps(deps)), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/users/{userId}/pause",
      tags,
      security: SESSION_ONLY,
      summary: "Pause a user's syncs",
      description: "None of the user's jobs runs, the cron queues none, push notifications are " +
        'acknowledged without a sync and the user\'s "Sync now" answers 409 `sync_paused`. ' +
        OWNERS_ONLY,
      request: { params: UserId },
      responses: {
        200: jsonResponse(PausedSchema, "Paused."),
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid("param");
      if (!(await pauseSyncsOf(deps, userId))) throw noSuchUser();
      return c.json({ userId, paused: true }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/users/{userId}/resume",
      tags,
      security: SESSION_ONLY,
      summary: "Resume a user's syncs",
      description: "Lifts the pause and, when the user has an enabled rule, queues a sync at " +
        "once. " + OWNERS_ONLY,
      request: { params: UserId },
      responses: {
        200: jsonResponse(PausedSchema, "Resumed."),
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid("param");
      const resumed = await resumeSyncsOf(deps, userId);
      if (!resumed) throw noSuchUser();
      return c.json({ userId, paused: false, ...resumed }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/users/{userId}",
      tags,
      security: SESSION_ONLY,
      summary: "Delete a user",
      description: "Deletes the account as the person could themselves: their grants are " +
        "revoked at Google and all their data removed; with `removeMirrors=true` their busy " +
        "blocks are removed from their calendars first (502 when that fails, and nothing is " +
        "deleted). An owner's own account is deleted from their account page, not here (409). " +
        OWNERS_ONLY,
      request: { params: UserId, query: DeleteQuery },
      responses: {
        204: { description: "Deleted." },
        ...errorResponses(400, 404, 409),
        502: {
          description: "Some busy blocks could not be removed; nothing was deleted.",
          content: { "application/json": { schema: ErrorSchema } },
        },
      },
    }),
    async (c) => {
      const { userId } = c.req.valid("param");
      const removeMirrors = c.req.valid("query").removeMirrors === "true";
      if (userId === userOf(c).id) {
        throw new HttpError(
          409,
          "own_account",
          "This is your own account: delete it from your account page instead.",
        );
      }
      try {
        if (!(await deleteUserAsOwner(deps, userId, { removeMirrors }))) throw noSuchUser();
      } catch (err) {
        if (!(err instanceof MirrorRemovalError)) throw err;
        throw new HttpError(
          502,
          "mirror_removal_failed",
          `${err.message} Nothing was deleted; try again, or delete and leave them in place.`,
        );
      }
      return c.body(null, 204);
    },
  );

  return app;
}
