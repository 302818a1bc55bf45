/**
 * The signed-in user's sync groups: `/api/groups` and `/api/groups/{id}` (CRUD, the group's
 * versionstamp as its ETag and If-Match on every change), `/api/groups/validate`,
 * `/api/groups/preview` and `/api/groups/{id}/preview` (dry runs), `/api/groups/{id}/confirm`
 * (the delete guard), and `/api/groups/proposal` (the group a refused circle of rules means).
 * The same validation and error rules as rules; another user's group answers 404.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ConflictError } from "../../lib/db/commit.ts";
import { type GroupEntry, GroupNotFoundError, listGroups } from "../../lib/db/groups.ts";
import { RuleDuplicateError, RuleRejectedError } from "../../lib/db/rules.ts";
import { undoGroupRemoval } from "../../lib/db/undo_windows.ts";
import { NoProposalError, proposeGroup } from "../../lib/groups/proposal.ts";
import {
  addGroup,
  changeGroup,
  draftGroup,
  dryRunGroup,
  findGroup,
  GroupInvalidError,
  GroupUnacceptableError,
  removeGroup,
  validateGroupDraft,
} from "../../lib/groups/save.ts";
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
import {
  GroupInputSchema,
  type GroupPatch,
  GroupPatchSchema,
  GroupSchema,
} from "../../lib/model/group.ts";
import { replacementPatch, RuleInputSchema } from "../../lib/model/rule.ts";
import { RulePreviewSchema } from "../../lib/rules/preview.ts";
import { RuleNotFoundError } from "../../lib/db/rules.ts";
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

const GroupJson = named(GroupSchema, "Group");
const GroupInputJson = named(GroupInputSchema, "GroupInput");
const GroupCreateJson = GroupInputSchema.safeExtend({
  adoptRuleIds: z.array(z.string().min(1).max(128)).max(50).optional().openapi({
    description: "Rules the group takes over, busy blocks and all (each must mirror between " +
      "two of its members); they are deleted as the group is made. See `/api/groups/proposal`.",
  }),
}).openapi("GroupCreate");
/** Strict, as a rule's: in a partial update a misspelt field would silently change nothing. */
const GroupPatchJson = GroupPatchSchema.strict().openapi("GroupPatch");
const GroupDraftJson = GroupInputSchema.safeExtend({
  id: z.string().min(1).max(128).optional().openapi({
    description: "The stored group this draft would replace; absent for a new group.",
  }),
}).openapi("GroupDraft");
const RuleDraftJson = RuleInputSchema.safeExtend({
  id: z.string().min(1).max(128).optional().openapi({
    description: "The stored rule this draft would replace; absent for a new rule.",
  }),
}).openapi("GroupProposalRequest", { description: "The rule draft that closed a circle." });

const GroupListSchema = z.object({ items: z.array(GroupJson) }).openapi("GroupList");
const ValidationSchema = z.object({ valid: z.literal(true), group: GroupInputJson })
  .openapi("GroupValidation");
const DeletedSchema = z.object({
  group: GroupJson,
  mirrors: z.enum(["removing", "kept"]).openapi({
    description: "removing: a sync job removes its busy blocks; kept: they stay, untouched.",
  }),
  undo: UndoWindowSchema.optional(),
}).openapi("GroupDeleted");
/** A PATCH's answer: the group, and with `?undo=true` turning it off, its undo window. */
const GroupChangedJson = GroupSchema.safeExtend({ undo: UndoWindowSchema.optional() })
  .openapi("GroupChanged");
const ProposalSchema = z.object({
  group: GroupInputJson,
  adoptRuleIds: z.array(z.string()),
  settingsFrom: z.string().openapi({ description: "The rule whose settings the group takes." }),
  differences: z.array(z.string()).openapi({
    description: "One sentence per rule whose settings the group does not keep.",
  }),
}).openapi("GroupProposal");

const GroupId = idParam("id", "The group's id.");
const KeepMirrorsQuery = keepMirrorsQuery("group");
const tags = ["Groups"];

export function groupRoutes(deps: AppDeps) {
  const app = createApiApp<AppEnv>(invalidRequest);
  app.use("*", requireUser());
  const triggerLimit = syncTriggerLimit(deps);

  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      security: SIGNED_IN,
      summary: "List the groups, oldest first",
      responses: {
        200: jsonResponse(GroupListSchema, "The user's groups."),
        ...errorResponses(401),
      },
    }),
    async (c) => {
      const entries = await listGroups(deps.kv, userOf(c).id);
      return c.json({ items: entries.map((e) => e.group) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      security: SIGNED_IN,
      summary: "Create a group (and sync it)",
      description: "2 to 10 calendars that all block each other. A calendar the account may " +
        "only read takes part as a source only. A pair an enabled rule or group already " +
        "mirrors answers 422 `duplicate` (take the rule over with `adoptRuleIds`); plain " +
        "rules that would circle through the group answer 422 `cycle`.",
      request: { body: jsonBody(GroupCreateJson) },
      responses: {
        201: {
          ...jsonResponse(GroupJson, "The group as stored; a sync of it is queued."),
          headers: savedHeaders,
        },
        ...errorResponses(400, 401, 409, 415, 422),
      },
    }),
    async (c) => {
      const { adoptRuleIds, ...input } = c.req.valid("json");
      const entry = await groupErrors(() => addGroup(deps, userOf(c).id, input, adoptRuleIds));
      c.header("Location", `/api/groups/${entry.group.id}`);
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
      summary: "Check a group without saving it",
      description: "Field errors answer 400 (`fields`, e.g. `members.1.calendar`); an unknown " +
        "or free/busy-only member, no member busysync may write to, a cycle or a duplicate " +
        "answers 422 naming the calendars.",
      request: { body: jsonBody(GroupDraftJson) },
      responses: {
        200: jsonResponse(ValidationSchema, "The group can be saved."),
        ...errorResponses(400, 401, 404, 415, 422),
      },
    }),
    async (c) => {
      const { id, ...input } = c.req.valid("json");
      await groupErrors(() => validateGroupDraft(deps, userOf(c).id, input, id));
      return c.json({ valid: true as const, group: input }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/preview",
      tags,
      security: SIGNED_IN,
      summary: "Dry-run a draft group",
      description: "The busy blocks the group would create, change or remove if it ran now " +
        "(`direction` is the pair's key). Nothing is written.",
      request: { body: jsonBody(GroupDraftJson) },
      responses: {
        200: jsonResponse(RulePreviewSchema, "What the group would do."),
        ...errorResponses(400, 401, 404, 415, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { id, ...input } = c.req.valid("json");
      const preview = await groupErrors(async () =>
        dryRunGroup(deps, userId, await draftGroup(deps, userId, input, id))
      );
      return c.json(preview, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/proposal",
      tags,
      security: SIGNED_IN,
      summary: "The group a rule that closes a circle means",
      description: "For a rule draft refused with 422 `cycle`: the group of the circle's " +
        "calendars, the rules it would take over (their busy blocks stay) and which settings " +
        "it takes. Send `{ ...group, adoptRuleIds }` to `POST /api/groups` to make it. A " +
        "draft that closes no circle of plain rules answers 422 `no_proposal`.",
      request: { body: jsonBody(RuleDraftJson) },
      responses: {
        200: jsonResponse(ProposalSchema, "The group to make."),
        ...errorResponses(400, 401, 404, 415, 422),
      },
    }),
    async (c) => {
      const { id, ...input } = c.req.valid("json");
      return c.json(await groupErrors(() => proposeGroup(deps, userOf(c).id, input, id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      security: SIGNED_IN,
      summary: "Read a group",
      request: { params: GroupId },
      responses: {
        200: { ...jsonResponse(GroupJson, "The group."), headers: etagHeader },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const entry = await groupErrors(() =>
        findGroup(deps.kv, userOf(c).id, c.req.valid("param").id)
      );
      return withEtag(c, entry, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/{id}",
      tags,
      security: SIGNED_IN,
      summary: "Replace a group",
      description: "Fields left out take their defaults; fields only the server sets are " +
        "ignored. A member left out has its busy blocks removed, in both directions.",
      request: { params: GroupId, headers: IfMatch, body: jsonBody(GroupInputJson) },
      responses: {
        200: { ...jsonResponse(GroupJson, "The group as stored."), headers: etagHeader },
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
      summary: "Change some fields of a group",
      description: 'A partial group, e.g. `{ "enabled": false }`; `members` is replaced whole, ' +
        "`filters` and `window` merge field by field. Turning a group off removes its busy " +
        "blocks unless `keepMirrors=true`.",
      request: {
        params: GroupId,
        query: KeepMirrorsQuery,
        headers: IfMatch,
        body: jsonBody(GroupPatchJson),
      },
      responses: {
        200: { ...jsonResponse(GroupChangedJson, "The group as stored."), headers: etagHeader },
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
      summary: "Delete a group",
      description: "Its busy blocks are removed by a sync job unless `keepMirrors=true`; kept " +
        "blocks are never touched again.",
      request: { params: GroupId, query: KeepMirrorsQuery, headers: IfMatch },
      responses: {
        200: jsonResponse(DeletedSchema, "The group is gone."),
        ...errorResponses(400, 401, 404, 409),
      },
    }),
    async (c) => {
      const { keepMirrors, undo } = c.req.valid("query");
      const { id } = c.req.valid("param");
      const removed = await groupErrors(() =>
        removeGroup(deps, userOf(c).id, id, { keepMirrors, undo, ifVersionstamp: ifMatch(c) })
      );
      return c.json({
        group: removed.group,
        mirrors: keepMirrors ? "kept" as const : "removing" as const,
        ...undoAnswer("groups", id, removed.undo),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/undo",
      tags,
      security: SIGNED_IN,
      summary: "Take back turning a group off or deleting it (`?undo=true`)",
      description: "Within the undo window the same group (id, members, busy blocks) is on " +
        "again or back, and its blocks are never removed. 404: nothing to undo; 410 " +
        "`undo_expired`: too late; 422: the rule set no longer accepts the group.",
      request: { params: GroupId },
      responses: {
        200: { ...jsonResponse(GroupJson, "The group as stored again."), headers: etagHeader },
        ...errorResponses(401, 404, 410, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { id } = c.req.valid("param");
      const entry = await groupErrors(() =>
        undoErrors("group", () => undoGroupRemoval(deps.kv, userId, id, deps.now()))
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
      summary: "Dry-run a stored group",
      description: "What the group would do if it ran now (as if it were on), without writing.",
      request: { params: GroupId },
      responses: {
        200: jsonResponse(RulePreviewSchema, "What the group would do."),
        ...errorResponses(401, 404, 422),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const preview = await groupErrors(async () => {
        const { group } = await findGroup(deps.kv, userId, c.req.valid("param").id);
        return await dryRunGroup(deps, userId, group);
      });
      return c.json(preview, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/{id}/confirm",
      tags,
      security: SIGNED_IN,
      summary: "Let a group held by the delete guard go ahead",
      description: "Queues a sync that applies the removals the guard stopped, once. Counts " +
        "against the per-user sync rate limit.",
      middleware: [triggerLimit] as const,
      request: { params: GroupId, query: WaitQuery },
      responses: {
        200: jsonResponse(RunSummarySchema, "With `wait=true`: the run that applied them."),
        202: jsonResponse(SyncAcceptedSchema, "The sync is queued; poll its runId."),
        ...errorResponses(400, 401, 404, 409, 429),
      },
    }),
    async (c) => {
      const userId = userOf(c).id;
      const { group } = await groupErrors(() =>
        findGroup(deps.kv, userId, c.req.valid("param").id)
      );
      const answer = await confirmHeld(deps, userId, group, c.req.valid("query").wait);
      return answer.status === 200 ? c.json(answer.body, 200) : c.json(answer.body, 202);
    },
  );

  async function change(
    c: Context<AppEnv>,
    groupId: string,
    patch: GroupPatch,
    keep: boolean,
    undo = false,
  ) {
    const entry = await groupErrors(() =>
      changeGroup(deps, userOf(c).id, groupId, patch, {
        keepMirrors: keep,
        undo,
        ifVersionstamp: ifMatch(c),
      })
    );
    if (entry.syncJobId) c.header(SYNC_RUN_HEADER, entry.syncJobId);
    setEtag(c, entry.versionstamp);
    return c.json({ ...entry.group, ...undoAnswer("groups", groupId, entry.undo) }, 200);
  }

  return app;
}

function withEtag<S extends 200 | 201>(c: Context<AppEnv>, entry: GroupEntry, status: S) {
  setEtag(c, entry.versionstamp);
  return c.json(entry.group, status);
}

/** Maps the group use cases' domain errors to HTTP, as the rules' routes do. */
async function groupErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof GroupNotFoundError) {
      throw new HttpError(404, "not_found", "No such group.");
    }
    if (err instanceof RuleNotFoundError) throw new HttpError(404, "not_found", "No such rule.");
    if (err instanceof ConflictError) {
      throw new HttpError(409, "conflict", "The group was changed meanwhile; reload it and retry.");
    }
    if (err instanceof GroupUnacceptableError) throw unacceptable(err.problems);
    if (err instanceof RuleRejectedError) {
      throw new HttpError(422, err.problems[0].code, `This group cannot be saved: ${err.message}`);
    }
    if (err instanceof RuleDuplicateError) {
      throw new HttpError(422, "duplicate", `This group cannot be saved: ${err.message}.`, {
        members: `${err.message}.`,
      });
    }
    if (err instanceof NoProposalError) throw new HttpError(422, "no_proposal", err.message);
    if (err instanceof GroupInvalidError) throw invalidRequest(err.zodError.issues);
    throw err;
  }
}
