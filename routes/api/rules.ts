/**
 * The signed-in user's sync rules: `/api/rules` and `/api/rules/{id}` (CRUD, with the rule's
 * versionstamp as its ETag and If-Match on every change), `/api/rules/validate` (check without
 * saving), `/api/rules/preview` and `/api/rules/{id}/preview` (dry runs), and
 * `/api/rules/{id}/confirm` (let a rule held by the delete guard go ahead) and
 * `/api/rules/{id}/undo` (take back turning it off or deleting it, within its undo window). Every lookup is
 * scoped to the signed-in user: another user's rule id answers 404 like one that never existed.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { listCalendars } from "../../lib/db/calendars.ts";
import { ConflictError } from "../../lib/db/commit.ts";
import { listConnections } from "../../lib/db/connections.ts";
import {
  getRule,
  listRules,
  RuleDuplicateError,
  type RuleEntry,
  RuleNotFoundError,
  RuleRejectedError,
} from "../../lib/db/rules.ts";
import { undoRuleRemoval } from "../../lib/db/undo_windows.ts";
import { requireUser, userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import {
  createApiApp,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  named,
  SIGNED_IN,
} from "../../lib/http/openapi.ts";
import { invalidRequest } from "../../lib/http/validate.ts";
import { propagationHints } from "../../lib/rules/check.ts";
import { RulePreviewSchema } from "../../lib/rules/preview.ts";
import {
  addRule,
  changeRule,
  draftRule,
  dryRunRule,
  removeRule,
  RuleInvalidError,
  RuleUnacceptableError,
  validateDraft,
} from "../../lib/rules/save.ts";
import {
  isSelfTargetIssue,
  replacementPatch,
  RuleInputSchema,
  type RulePatch,
  RulePatchSchema,
  RuleSchema,
} from "../../lib/model/rule.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import {
  confirmHeld,
  etagHeader,
  IfMatch,
  ifMatch,
  keepMirrorsQuery,
  RunSummarySchema,
  savedHeaders,
  setEtag,
  SYNC_RUN_HEADER,
  SyncAcceptedSchema,
  syncTriggerLimit,
  unacceptable,
  undoAnswer,
  undoErrors,
  UndoWindowSchema,
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
  undo: UndoWindowSchema.optional(),
}).openapi("RuleDeleted");

/** A PATCH's answer: the rule, and with `?undo=true` turning it off, its undo window. */
const RuleChangedJson = RuleSchema.safeExtend({ undo: UndoWindowSchema.optional() })
  .openapi("RuleChanged");

const RuleId = idParam("id", "The rule's id.");
const KeepMirrorsQuery = keepMirrorsQuery("rule");

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
      description: "An enabled rule whose source → target pair an enabled rule already covers " +
        "(a both-ways rule covers both directions) answers 422 `duplicate` naming that rule: " +
        "edit it instead. A disabled duplicate may be stored.",
      request: { body: jsonBody(RuleInputJson) },
      responses: {
        201: {
          ...jsonResponse(RuleJson, "The rule as stored; a sync of it is queued."),
          headers: savedHeaders,
        },
        ...errorResponses(400, 401, 415, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const input = c.req.valid("json");
      const entry = await ruleErrors(() => addRule(deps, userId, input));
      c.header("Location", `/api/rules/${entry.rule.id}`);
      if (entry.syncJobId) c.header(SYNC_RUN_HEADER, entry.syncJobId);
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
        "unwritable calendar, one shared as free/busy only (its events cannot be read), or a " +
        "duplicate (`duplicate`: an enabled rule already mirrors one of its source → target " +
        "pairs; edit that rule instead) answers 422 naming the calendars.",
      request: { body: jsonBody(RuleDraftJson) },
      responses: {
        200: jsonResponse(ValidationSchema, "The rule can be saved."),
        ...errorResponses(400, 401, 404, 415, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { id, ...input } = c.req.valid("json");
      const { hints } = await ruleErrors(() => validateDraft(deps, userId, input, id));
      return c.json({ valid: true as const, rule: input, hints }, 200);
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
      const preview = await ruleErrors(async () =>
        dryRunRule(deps, userId, await draftRule(deps, userId, input, id))
      );
      return c.json(preview, 200);
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
        "status, timestamps) are ignored, so a rule read with GET can be sent back edited. " +
        "A change of calendars or direction, or turning the rule on, that would mirror a " +
        "pair an enabled rule already covers answers 422 `duplicate`.",
      request: { params: RuleId, headers: IfMatch, body: jsonBody(RuleInputJson) },
      responses: {
        200: { ...jsonResponse(RuleJson, "The rule as stored."), headers: etagHeader },
        ...errorResponses(400, 401, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const patch = replacementPatch(c.req.valid("json"));
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
        "busy blocks it made unless `keepMirrors=true`. Like PUT, a change that would " +
        "duplicate an enabled rule's source → target pair answers 422 `duplicate`.",
      request: {
        params: RuleId,
        query: KeepMirrorsQuery,
        headers: IfMatch,
        body: jsonBody(RulePatchJson),
      },
      responses: {
        200: { ...jsonResponse(RuleChangedJson, "The rule as stored."), headers: etagHeader },
        ...errorResponses(400, 401, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const { keepMirrors, undo } = c.req.valid("query");
      return await change(c, c.req.valid("param").id, c.req.valid("json"), keepMirrors, undo);
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
      const { keepMirrors, undo } = c.req.valid("query");
      const removed = await ruleErrors(() =>
        removeRule(deps, userId, id, { keepMirrors, undo, ifVersionstamp: ifMatch(c) })
      );
      return c.json({
        rule: removed.rule,
        mirrors: keepMirrors ? "kept" as const : "removing" as const,
        ...undoAnswer("rules", id, removed.undo),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/undo",
      tags,
      security: SIGNED_IN,
      summary: "Take back turning a rule off or deleting it (`?undo=true`)",
      description: "Within the undo window the same rule (id, settings, busy blocks) is on " +
        "again or back, and its blocks are never removed. 404: nothing to undo; 410 " +
        "`undo_expired`: the window passed and the blocks are being or were removed; 422: the " +
        "rule set no longer accepts the rule (e.g. another rule mirrors its pair now).",
      request: { params: RuleId },
      responses: {
        200: { ...jsonResponse(RuleJson, "The rule as stored again."), headers: etagHeader },
        ...errorResponses(401, 404, 410, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { id } = c.req.valid("param");
      const entry = await ruleErrors(() =>
        undoErrors("rule", () => undoRuleRemoval(deps.kv, userId, id, deps.now()))
      );
      return withEtag(c, entry, 200);
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
      return c.json(await ruleErrors(() => dryRunRule(deps, userId, rule)), 200);
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
      const answer = await confirmHeld(deps, userId, rule, c.req.valid("query").wait);
      return answer.status === 200 ? c.json(answer.body, 200) : c.json(answer.body, 202);
    },
  );

  /** The user's rule, or 404. */
  async function findRule(userId: string, ruleId: string): Promise<RuleEntry> {
    const entry = await getRule(deps.kv, userId, ruleId);
    if (!entry) throw notFound();
    return entry;
  }

  /** PUT and PATCH: the rule use case, with the If-Match header's version. */
  async function change(
    c: Context<AppEnv>,
    ruleId: string,
    patch: RulePatch,
    keep: boolean,
    undo = false,
  ) {
    const userId = userOf(c).id;
    const entry = await ruleErrors(() =>
      changeRule(deps, userId, ruleId, patch, {
        keepMirrors: keep,
        undo,
        ifVersionstamp: ifMatch(c),
      })
    );
    if (entry.syncJobId) c.header(SYNC_RUN_HEADER, entry.syncJobId);
    setEtag(c, entry.versionstamp);
    return c.json({ ...entry.rule, ...undoAnswer("rules", ruleId, entry.undo) }, 200);
  }

  return app;
}

const notFound = () => new HttpError(404, "not_found", "No such rule.");

/** Answers the rule with its versionstamp as a strong ETag. */
function withEtag<S extends 200 | 201>(c: Context<AppEnv>, entry: RuleEntry, status: S) {
  setEtag(c, entry.versionstamp);
  return c.json(entry.rule, status);
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

/**
 * Maps the rule use cases' domain errors to HTTP: 404, 409, 422 (naming each problem's field in
 * `fields`), and 400/422 for a rule invalid as a whole.
 */
async function ruleErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RuleNotFoundError) throw notFound();
    if (err instanceof ConflictError) {
      throw new HttpError(409, "conflict", "The rule was changed meanwhile; reload it and retry.");
    }
    if (err instanceof RuleUnacceptableError) throw unacceptable(err.problems);
    if (err instanceof RuleRejectedError) {
      throw new HttpError(422, err.problems[0].code, `This rule cannot be saved: ${err.message}.`);
    }
    if (err instanceof RuleDuplicateError) {
      throw new HttpError(422, "duplicate", `This rule cannot be saved: ${err.message}.`, {
        target: `${err.message}.`,
      });
    }
    if (err instanceof RuleInvalidError) throw validationError(err.zodError.issues);
    throw err;
  }
}
