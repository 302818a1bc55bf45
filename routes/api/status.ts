/**
 * `GET /api/status`: everything the dashboard shows at a glance for the signed-in user: each
 * connection and its health, each rule and its status, the last run, where a sync stands now
 * (running, queued, next scheduled run, push channels) and the open incidents (the banners).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { listCalendars } from "../../lib/db/calendars.ts";
import { CONNECTION_STATUSES, listConnections } from "../../lib/db/connections.ts";
import { listRuns } from "../../lib/db/history.ts";
import { listGroups } from "../../lib/db/groups.ts";
import { listRules } from "../../lib/db/rules.ts";
import { requireUser, userOf } from "../../lib/http/auth_middleware.ts";
import { createApiApp, errorResponses, jsonResponse, SIGNED_IN } from "../../lib/http/openapi.ts";
import { listWritePauses } from "../../lib/db/account_limits.ts";
import { openIncidents } from "../../lib/notify/incidents.ts";
import { type Rule, RULE_STATUSES } from "../../lib/model/rule.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { JobSchema, publicRun, RunProgressSchema, RunSchema } from "./schemas.ts";

const IncidentSchema = z.object({
  id: z.string(),
  kind: z.enum([
    "connection_needs_reconnect",
    "account_write_paused",
    "rule_broken",
    "rule_failing",
    "rule_held",
  ]),
  severity: z.enum(["bad", "warn"]),
  title: z.string(),
  message: z.string(),
  connectionId: z.string().optional(),
  ruleId: z.string().optional(),
  actionPath: z.string().openapi({ description: "The page where the person acts on it." }),
}).openapi("Incident");

const OwnerStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  status: z.enum(RULE_STATUSES),
  statusReason: z.string().optional(),
});

const StatusSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  connections: z.array(z.object({
    id: z.string(),
    email: z.string(),
    status: z.enum(CONNECTION_STATUSES),
    statusReason: z.string().optional(),
    healthy: z.boolean().openapi({ description: "false: reconnect the account." }),
    calendars: z.number().int().openapi({ description: "Calendars in the cached list." }),
  })),
  rules: z.array(OwnerStatusSchema),
  groups: z.array(OwnerStatusSchema),
  lastRun: RunSchema.nullable(),
  sync: z.object({
    running: z.boolean(),
    current: JobSchema.optional(),
    waiting: z.array(JobSchema),
    progress: RunProgressSchema.optional().openapi({
      description: "How far the running sync has got, when it has busy blocks to write.",
    }),
    nextScheduledRun: z.string().optional(),
    push: z.object({
      enabled: z.boolean(),
      reason: z.string().optional(),
      channels: z.array(z.object({
        connectionId: z.string(),
        calendarId: z.string(),
        state: z.enum(["active", "expired", "failed"]),
        expiresAt: z.string().optional(),
        lastNotificationAt: z.string().optional(),
      })),
    }),
  }).openapi("SyncProgress"),
  incidents: z.array(IncidentSchema).openapi({
    description: "Problems only the person can solve; each is a dashboard banner.",
  }),
}).openapi("Status");

export function statusRoutes(deps: AppDeps) {
  const app = createApiApp<AppEnv>();
  app.use("/", requireUser()); // the one path: below it, unknown paths answer 404 signed out too

  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Status"],
      security: SIGNED_IN,
      summary: "Connections, rules, the last run, the sync in progress and open incidents",
      responses: {
        200: jsonResponse(StatusSchema, "The user's status."),
        ...errorResponses(401),
      },
    }),
    async (c) => {
      const user = userOf(c);
      const [connections, calendars, rules, groups, runs, sync] = await Promise.all([
        listConnections(deps.kv, user.id),
        listCalendars(deps.kv, user.id),
        listRules(deps.kv, user.id).then((entries) => entries.map((e) => e.rule)),
        listGroups(deps.kv, user.id).then((entries) => entries.map((e) => e.group)),
        listRuns(deps.kv, user.id, { limit: 1 }),
        deps.syncRequests.progress(user.id),
      ]);
      return c.json({
        user: { id: user.id, email: user.email, name: user.name },
        connections: connections.map((conn) => ({
          id: conn.id,
          email: conn.email,
          status: conn.status,
          ...(conn.statusReason ? { statusReason: conn.statusReason } : {}),
          healthy: conn.status === "active",
          calendars: calendars.filter((cal) => cal.connectionId === conn.id).length,
        })),
        rules: rules.map(ownerStatus),
        groups: groups.map(ownerStatus),
        lastRun: runs.items[0] ? publicRun(runs.items[0]) : null,
        sync,
        incidents: openIncidents(
          connections,
          [...rules, ...groups],
          await listWritePauses(deps.kv, connections, deps.now()),
        ),
      }, 200);
    },
  );

  return app;
}

/** A rule's or group's line in the status. */
function ownerStatus(o: Pick<Rule, "id" | "name" | "enabled" | "status" | "statusReason">) {
  return {
    id: o.id,
    name: o.name,
    enabled: o.enabled,
    status: o.status,
    ...(o.statusReason ? { statusReason: o.statusReason } : {}),
  };
}
