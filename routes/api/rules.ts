/**
 * The signed-in user's sync rules: `/api/rules` and `/api/rules/{id}` (CRUD, with the rule's
 * versionstamp as its ETag and If-Match on every change), `/api/rules/validate` (check without
 * saving), `/api/rules/preview` and `/api/rules/{id}/preview` (dry runs), and
 * `/api/rules/{id}/confirm` (let a rule held by the delete guard go ahead). Every lookup is
 * scoped to the signed-in user: another user's rule id answers 404 like one that never existed.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ZodError } from "zod";
import { listCalendars } from "../../lib/db/calendars.ts";
import { ConflictError } from "../../lib/db/commit.ts";
import { listConnections } from "../../lib/db/connections.ts";
import {
  createRule,
  deleteRule,
  getRule,
  listRules,
  type RuleEntry,
  RuleNotFoundError,
  RuleRejectedError,
  updateRule,
} from "../../lib/db/rules.ts";
import { requireUser, userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import {
  createApiApp,
  errorResponses,
  flag,
  idParam,
  jsonBody,
  jsonResponse,
  named,
  SIGNED_IN,
} from "../../lib/http/openapi.ts";
import { invalidRequest } from "../../lib/http/validate.ts";
import { checkRule, propagationHints, type RuleCheck } from "../../lib/rules/check.ts";
import { previewRule, RulePreviewSchema } from "../../lib/rules/preview.ts";
import {
  applyRulePatch,
  buildRule,
  isSelfTargetIssue,
  type Rule,
  type RuleInput,
  RuleInputSchema,
  type RulePatch,
  RulePatchSchema,
  RuleSchema,
} from "../../lib/model/rule.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import {
  RunSummarySchema,
  SyncAcceptedSchema,
  syncTriggerLimit,
  triggerSync,
  WaitQuery,
} from "./schemas.ts";

const RuleJson = named(RuleSchema, "Rule");
const RuleInputJson = named(RuleInputSchema, "RuleInput");
/** Strict, unlike create: in a partial update a misspelt field would silently change nothing. */
const RulePatchJson = RulePatchSchema.strict().openapi("RulePatch");
/** The editor checks a draft of a stored rule with that rule's id, so it replaces it. */
const RuleDraftJson = RuleInputSchema.safeExtend({
  id: z.string().min(1).max(128).optional().openapi({
    description: "The stored rule this draft would replace; absent for a new rule.",
  }),
}).openapi("RuleDraft");

const HintSchema = z.object({
  from: z.string(),
  to: z.string(),
  via: z.array(z.string()),
  message: z.string(),
}).openapi("PropagationHint", {
  description: "A chain of rules that stops short: mirrors are never mirrored again.",
});

const RuleListSchema = z.object({
  items: z.array(RuleJson),
  hints: z.array(HintSchema),
}).openapi("RuleList");

const ValidationSchema = z.object({
  valid: z.literal(true),
  rule: RuleInputJson,
  hints: z.array(HintSchema),
}).openapi("RuleValidation");

const DeletedSchema = z.object({
  rule: RuleJson,
  mirrors: z.enum(["removing", "kept"]).openapi({
    description: "removing: a sync job removes its busy blocks; kept: they stay, untouched.",
  }),
}).openapi("RuleDeleted");

const RuleId = idParam("id", "The rule's id.");
const KeepMirrorsQuery = z.object({
  keepMirrors: flag("Leave the busy blocks the rule made where they are (default: remove them)."),
});
const IfMatch = z.object({
  "if-match": z.string().max(200).optional().openapi({
    description: "The ETag the rule was read with; a rule changed since answers 409.",
  }),
});
const etagHeader = {
  ETag: { description: "The rule's version, for If-Match.", schema: { type: "string" as const } },
};

const tags = ["Rules"];

export function ruleRoutes(deps: AppDeps) {
  const app = createApiApp<AppEnv>(validationError);
  app.use("*", requireUser());
  const triggerLimit = syncTriggerLimit(deps);

  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      security: SIGNED_IN,
      summary: "List the rules, oldest first, with chains that stop short",
      responses: {
        200: jsonResponse(RuleListSchema, "The user's rules."),
        ...errorResponses(401),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const [entries, connections, calendars] = await Promise.all([
        listRules(deps.kv, userId),
        listConnections(deps.kv, userId),
        listCalendars(deps.kv, userId),
      ]);
      const rules = entries.map((e) => e.rule);
      return c.json({ items: rules, hints: propagationHints(rules, connections, calendars) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      security: SIGNED_IN,
      summary: "Create a rule (and sync it)",
      request: { body: jsonBody(RuleInputJson) },
      responses: {
        201: {
          ...jsonResponse(RuleJson, "The rule as stored; a sync of it is queued."),
          headers: etagHeader,
        },
        ...errorResponses(400, 401, 415, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const input = c.req.valid("json");
      const candidate = buildRule(input, { id: UNSAVED_ID, now: deps.now() });
      assertAcceptable(await checkRule(deps.kv, userId, candidate));
      const entry = await ruleErrors(() => createRule(deps.kv, userId, input, { now: deps.now() }));
      if (entry.rule.enabled) await syncRule(userId, entry.rule.id);
      c.header("Location", `/api/rules/${entry.rule.id}`);
      return withEtag(c, entry, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/validate",
      tags,
      security: SIGNED_IN,
      summary: "Check a rule without saving it",
      description: "Field errors answer 400 (`fields`); a cycle, a self-target, an unknown or " +
        "unwritable calendar, or one shared as free/busy only (its events cannot be read) " +
        "answers 422 naming the calendars.",
      request: { body: jsonBody(RuleDraftJson) },
      responses: {
        200: jsonResponse(ValidationSchema, "The rule can be saved."),
        ...errorResponses(400, 401, 404, 415, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { id, ...input } = c.req.valid("json");
      const candidate = await draftRule(userId, input, id);
      const check = await checkRule(deps.kv, userId, candidate);
      assertAcceptable(check);
      return c.json({ valid: true as const, rule: input, hints: check.hints }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/preview",
      tags,
      security: SIGNED_IN,
      summary: "Dry-run a draft rule",
      description: "The busy blocks the rule would create, change or remove if it ran now " +
        "(with the id of a stored rule: as it would after saving this draft). Nothing is written.",
      request: { body: jsonBody(RuleDraftJson) },
      responses: {
        200: jsonResponse(RulePreviewSchema, "What the rule would do."),
        ...errorResponses(400, 401, 404, 415, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { id, ...input } = c.req.valid("json");
      return c.json(await preview(userId, await draftRule(userId, input, id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      security: SIGNED_IN,
      summary: "Read a rule",
      request: { params: RuleId },
      responses: {
        200: { ...jsonResponse(RuleJson, "The rule."), headers: etagHeader },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => withEtag(c, await findRule(userOf(c).id, c.req.valid("param").id), 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/{id}",
      tags,
      security: SIGNED_IN,
      summary: "Replace a rule",
      description: "Fields left out take their defaults. Fields only the server sets (id, " +
        "status, timestamps) are ignored, so a rule read with GET can be sent back edited.",
      request: { params: RuleId, headers: IfMatch, body: jsonBody(RuleInputJson) },
      responses: {
        200: { ...jsonResponse(RuleJson, "The rule as stored."), headers: etagHeader },
        ...errorResponses(400, 401, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      // Optional filters left out of a replacement are removed, not kept.
      const patch: RulePatch = {
        ...input,
        filters: {
          ...input.filters,
          workingHours: input.filters.workingHours ?? null,
          excludeSummaryRegex: input.filters.excludeSummaryRegex ?? null,
        },
      };
      return await change(c, c.req.valid("param").id, patch, false);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      security: SIGNED_IN,
      summary: "Change some fields of a rule",
      description: 'A partial rule, e.g. `{ "enabled": false }`; `filters` and `window` merge ' +
        "field by field and `null` removes an optional filter. Turning a rule off removes the " +
        "busy blocks it made unless `keepMirrors=true`.",
      request: {
        params: RuleId,
        query: KeepMirrorsQuery,
        headers: IfMatch,
        body: jsonBody(RulePatchJson),
      },
      responses: {
        200: { ...jsonResponse(RuleJson, "The rule as stored."), headers: etagHeader },
        ...errorResponses(400, 401, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const { keepMirrors } = c.req.valid("query");
      return await change(c, c.req.valid("param").id, c.req.valid("json"), keepMirrors);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      security: SIGNED_IN,
      summary: "Delete a rule",
      description: "Its busy blocks are removed by a sync job unless `keepMirrors=true`; kept " +
        "blocks are never touched again.",
      request: { params: RuleId, query: KeepMirrorsQuery, headers: IfMatch },
      responses: {
        200: jsonResponse(DeletedSchema, "The rule is gone."),
        ...errorResponses(400, 401, 404, 409),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { id } = c.req.valid("param");
      const { keepMirrors } = c.req.valid("query");
      const rule = await ruleErrors(() =>
        deleteRule(deps.kv, userId, id, {
          now: deps.now(),
          removeMirrors: !keepMirrors,
          ifVersionstamp: ifMatch(c),
        })
      );
      // The engine removes pending rules' mirrors at the start of any run: one job suffices.
      if (!keepMirrors) await syncRule(userId, id);
      return c.json({ rule, mirrors: keepMirrors ? "kept" as const : "removing" as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/preview",
      tags,
      security: SIGNED_IN,
      summary: "Dry-run a stored rule",
      description: "What the rule would do if it ran now (as if it were on), without writing.",
      request: { params: RuleId },
      responses: {
        200: jsonResponse(RulePreviewSchema, "What the rule would do."),
        ...errorResponses(401, 404, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { rule } = await findRule(userId, c.req.valid("param").id);
      return c.json(await preview(userId, rule), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/confirm",
      tags,
      security: SIGNED_IN,
      summary: "Let a rule held by the delete guard go ahead",
      description: "Queues a sync that applies the removals the guard stopped, once. Counts " +
        "against the per-user sync rate limit.",
      middleware: [triggerLimit] as const,
      request: { params: RuleId, query: WaitQuery },
      responses: {
        200: jsonResponse(RunSummarySchema, "With `wait=true`: the run that applied them."),
        202: jsonResponse(SyncAcceptedSchema, "The sync is queued; poll its runId."),
        ...errorResponses(400, 401, 404, 409, 429),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { rule } = await findRule(userId, c.req.valid("param").id);
      if (rule.status !== "needs_confirmation") {
        throw new HttpError(409, "not_held", `“${rule.name}” is not waiting for a confirmation.`);
      }
      const request = { reason: "confirm" as const, ruleIds: [rule.id], confirmRuleIds: [rule.id] };
      const answer = await triggerSync(deps, userId, request, c.req.valid("query").wait);
      return answer.status === 200 ? c.json(answer.body, 200) : c.json(answer.body, 202);
    },
  );

  /** The user's rule, or 404. */
  async function findRule(userId: string, ruleId: string): Promise<RuleEntry> {
    const entry = await getRule(deps.kv, userId, ruleId);
    if (!entry) throw notFound();
    return entry;
  }

  /** A rule built from a draft: replacing the stored rule `id` (404 when the user has none). */
  async function draftRule(userId: string, input: RuleInput, id?: string): Promise<Rule> {
    const stored = id === undefined ? undefined : (await findRule(userId, id)).rule;
    const rule = buildRule(input, { id: stored?.id ?? UNSAVED_ID, now: deps.now() });
    return stored ? { ...rule, createdAt: stored.createdAt } : rule;
  }

  async function preview(userId: string, rule: Rule) {
    assertAcceptable(await checkRule(deps.kv, userId, rule, { graph: false }));
    return await previewRule(deps.syncDeps(userId), rule);
  }

  /** PUT and PATCH: check the rule as it would be, then store it (If-Match honoured). */
  async function change(c: Context<AppEnv>, ruleId: string, patch: RulePatch, keep: boolean) {
    const userId = userOf(c).id;
    const { rule } = await findRule(userId, ruleId);
    const next = await ruleErrors(() => Promise.resolve(applyRulePatch(rule, patch, deps.now())));
    assertAcceptable(await checkRule(deps.kv, userId, next));
    const entry = await ruleErrors(() =>
      updateRule(deps.kv, userId, ruleId, patch, {
        now: deps.now(),
        ifVersionstamp: ifMatch(c),
        removeMirrors: !keep,
      })
    );
    // An enabled rule syncs its changes; a rule turned off syncs to have its mirrors removed.
    if (entry.rule.enabled || (rule.enabled && !keep)) await syncRule(userId, ruleId);
    return withEtag(c, entry, 200);
  }

  async function syncRule(userId: string, ruleId: string): Promise<void> {
    await deps.syncRequests.request(userId, { reason: "rule_saved", ruleIds: [ruleId] });
  }

  return app;
}

const notFound = () => new HttpError(404, "not_found", "No such rule.");

/** The id a rule has before it is saved (stored ids are ULIDs, so it never names one). */
const UNSAVED_ID = "draft";

/** Answers the rule with its versionstamp as a strong ETag. */
function withEtag<S extends 200 | 201>(c: Context<AppEnv>, entry: RuleEntry, status: S) {
  c.header("ETag", `"${entry.versionstamp}"`);
  return c.json(entry.rule, status);
}

/** The versionstamp an If-Match header names; `*` (any version) and no header name none. */
function ifMatch(c: Context): string | undefined {
  const header = c.req.header("if-match")?.trim();
  if (!header || header === "*") return undefined;
  const match = /^(?:W\/)?"([^"]*)"$/.exec(header);
  // An unquoted value is taken as it is: curl users type it that way.
  return match ? match[1] : header;
}

/** Throws the 422 for the first problem of a check (each problem's field in `fields`). */
function assertAcceptable({ problems }: RuleCheck): void {
  if (problems.length === 0) return;
  const fields: Record<string, string> = {};
  for (const p of problems) if (p.field) fields[p.field] ??= p.message;
  throw new HttpError(
    422,
    problems[0].code,
    problems.map((p) => p.message).join(" "),
    Object.keys(fields).length ? fields : undefined,
  );
}

/**
 * A rule's failed validation: 422 for the self-target refusal (the only issue left once every
 * field is valid), else 400 naming each field.
 */
function validationError(issues: readonly z.core.$ZodIssue[]): HttpError {
  const self = issues.find(isSelfTargetIssue);
  if (self && issues.length === 1) {
    return new HttpError(422, "self_target", "A calendar cannot be its own target.", {
      target: self.message,
    });
  }
  return invalidRequest(issues);
}

/** Maps the rule store's domain errors to HTTP: 404, 409, 422, and 400/422 for a bad merge. */
async function ruleErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RuleNotFoundError) throw notFound();
    if (err instanceof ConflictError) {
      throw new HttpError(409, "conflict", "The rule was changed meanwhile; reload it and retry.");
    }
    if (err instanceof RuleRejectedError) {
      throw new HttpError(422, err.problems[0].code, `This rule cannot be saved: ${err.message}.`);
    }
    if (err instanceof ZodError) throw validationError(err.issues);
    throw err;
  }
}
