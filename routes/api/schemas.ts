/**
 * The request and response shapes more than one route module uses: how runs and sync jobs look
 * in the API's JSON (history, sync, status and rules), asking for a sync and its answers (sync
 * and a rule's confirm), and the queries, bodies and headers the plain sign-in, account and
 * webhook handlers parse, which the OpenAPI entries of those routes describe. Route modules
 * import one another only through here (routes/mount.ts aside); it imports no route module.
 */
import { CALDAV_PRESETS, PRESET_INFO } from "../../lib/model/caldav_presets.ts";
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { type RunRecord, RunRecordSchema } from "../../lib/db/history.ts";
import { getSyncPause } from "../../lib/db/sync_pauses.ts";
import { NothingToUndoError, UndoTooLateError } from "../../lib/db/undo_windows.ts";
import type { UndoWindow } from "../../lib/rules/save.ts";
import { userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { flag } from "../../lib/http/openapi.ts";
import { rateLimit } from "../../lib/http/rate_limit.ts";
import { SYNC_REASONS } from "../../lib/model/sync_reasons.ts";
import { type SyncRequest, SyncWaitTimeoutError } from "../../lib/sync/requests.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";

// Saving a rule or a group.

/** `?keepMirrors=true`: what turning off or deleting a rule or group does with its blocks. */
export const keepMirrorsQuery = (what: "rule" | "group") =>
  z.object({
    keepMirrors: flag(
      `Leave the busy blocks the ${what} made where they are (default: remove them).`,
    ),
    undo: flag(
      `Turning the ${what} off or deleting it takes effect at once, but its busy blocks are ` +
        "removed only after an undo window (10 s): the answer's `undo` says until when and " +
        `how many, and \`POST /api/${what}s/{id}/undo\` takes the change back meanwhile.`,
    ),
  });

/** The undo window a change opened (`?undo=true`). */
export const UndoWindowSchema = z.object({
  expiresAt: z.iso.datetime().openapi({ description: "Undo works until then." }),
  blocks: z.number().int().min(0).openapi({
    description: "The busy blocks that will be removed unless undone.",
  }),
  url: z.string().openapi({ description: "Where to POST to undo." }),
}).openapi("UndoWindow");

/** The JSON answer of an undo window, or nothing when the change opened none. */
export function undoAnswer(what: "rules" | "groups", id: string, window?: UndoWindow) {
  return window ? { undo: { ...window, url: `/api/${what}/${id}/undo` } } : {};
}

/**
 * Maps an undo's refusals: 404 when there is nothing to undo, 410 when it is too late (the
 * window passed, or the blocks are being or were removed).
 */
export async function undoErrors<T>(what: "rule" | "group", run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof NothingToUndoError) {
      throw new HttpError(404, "not_found", `Nothing to undo for this ${what}.`);
    }
    if (err instanceof UndoTooLateError) {
      throw new HttpError(
        410,
        "undo_expired",
        err.state === "removed"
          ? `Too late to undo: the ${what}'s busy blocks were removed.`
          : `Too late to undo: the ${what}'s busy blocks are being removed.`,
      );
    }
    throw err;
  }
}

export const IfMatch = z.object({
  "if-match": z.string().max(200).optional().openapi({
    description: "The ETag it was read with; one changed since answers 409.",
  }),
});

export const etagHeader = {
  ETag: { description: "Its version, for If-Match.", schema: { type: "string" as const } },
};

/** Names the sync a save queued, so a client can follow it (`GET /api/sync/{runId}`). */
export const SYNC_RUN_HEADER = "Busysync-Sync-Run";

export const savedHeaders = {
  ...etagHeader,
  [SYNC_RUN_HEADER]: {
    description: "The runId of the sync this save queued (absent when none was due).",
    schema: { type: "string" as const },
  },
};

/** The versionstamp an If-Match header names; `*` (any version) and no header name none. */
export function ifMatch(c: Context): string | undefined {
  const header = c.req.header("if-match")?.trim();
  if (!header || header === "*") return undefined;
  const match = /^(?:W\/)?"([^"]*)"$/.exec(header);
  // An unquoted value is taken as it is: curl users type it that way.
  return match ? match[1] : header;
}

/** A stored rule's or group's versionstamp as its strong ETag. */
export function setEtag(c: Context, versionstamp: string): void {
  c.header("ETag", `"${versionstamp}"`);
}

/** The 422 for the first problem of a rule's or group's check (each problem's field in `fields`). */
export function unacceptable(
  problems: readonly { code: string; message: string; field?: string }[],
): HttpError {
  const fields: Record<string, string> = {};
  for (const p of problems) if (p.field) fields[p.field] ??= p.message;
  return new HttpError(
    422,
    problems[0].code,
    problems.map((p) => p.message).join(" "),
    Object.keys(fields).length ? fields : undefined,
  );
}

// Runs and jobs.

/** A run as the API shows it: the stored record without its schema version and owner. */
export const RunSchema = RunRecordSchema.omit({ v: true, userId: true }).openapi("Run");

/** Drops what only storage needs. */
export function publicRun(record: RunRecord): z.infer<typeof RunSchema> {
  const { v: _v, userId: _u, ...run } = record;
  return run;
}

/** How far a running sync has got (lib/sync/progress.ts); shared by the job and the status. */
export const RunProgressSchema = z.object({
  startedAt: z.string(),
  updatedAt: z.string(),
  stage: z.enum(["nearest", "all"]).openapi({
    description: "`nearest`: the next days are mirrored first; `all`: the whole window.",
  }),
  listed: z.number().int().openapi({ description: "Source events listed so far." }),
  planned: z.number().int().openapi({ description: "Busy-block writes planned so far." }),
  written: z.number().int().openapi({ description: "Of those, done." }),
  nearestUntil: z.string().optional().openapi({
    description: "Busy blocks up to this time are in place (the first pass is done).",
  }),
  remainingSeconds: z.number().optional().openapi({
    description: "Estimated seconds the planned writes still need, from the request budget.",
  }),
}).openapi("SyncRunProgress");

export const JobSchema = z.object({
  id: z.string(),
  reason: z.enum(SYNC_REASONS),
  state: z.enum(["waiting", "running", "done", "failed"]),
  full: z.boolean().openapi({ description: "A full reconcile rather than an incremental sync." }),
  dueAt: z.string().openapi({ description: "When it may run; later than now while backing off." }),
  attempts: z.number().int(),
  runId: z.string().optional().openapi({ description: "The history record, once it ran." }),
  error: z.string().optional(),
  progress: RunProgressSchema.optional().openapi({
    description: "While it runs with busy blocks to write: how far it has got.",
  }),
}).openapi("SyncJob");

/** A job given up before it produced a run (its run, when there is one, says why instead). */
export function syncFailed(error: string | undefined): HttpError {
  return new HttpError(502, "sync_failed", `The sync failed: ${error ?? "unknown error"}.`);
}

// Asking for a sync (`POST /api/sync`, `POST /api/rules/{id}/confirm`).

/** How long `?wait=true` waits before answering 202 after all (below common proxy timeouts). */
const WAIT_MS = 55_000;

export const SyncAcceptedSchema = z.object({
  runId: z.string().openapi({
    description: "The queued sync's id: `GET /api/sync/{runId}` says where it stands and " +
      "`GET /api/history/{runId}` answers its run once it ran.",
  }),
}).openapi("SyncAccepted");

export const RunSummarySchema = z.object({
  runId: z.string(),
  run: RunSchema,
}).openapi("SyncResult");

export const WaitQuery = z.object({
  wait: flag("Answer 200 with the run once it finished (up to 55 s) instead of 202 at once."),
});

export type SyncAnswer =
  | { status: 202; body: z.infer<typeof SyncAcceptedSchema> }
  | { status: 200; body: z.infer<typeof RunSummarySchema> };

/**
 * Queues `request` for the user and answers 202 with the job's id; with `wait`, the run once
 * it finished (a wait that times out still answers 202: the job goes on and can be polled).
 */
/**
 * A rule's or group's confirm: a sync that applies the removals the delete guard held, once;
 * 409 `not_held` when it is not held.
 */
export async function confirmHeld(
  deps: AppDeps,
  userId: string,
  owner: { id: string; name: string; status: string },
  wait: boolean,
): Promise<SyncAnswer> {
  if (owner.status !== "needs_confirmation") {
    throw new HttpError(409, "not_held", `“${owner.name}” is not waiting for a confirmation.`);
  }
  const request = { reason: "confirm" as const, ruleIds: [owner.id], confirmRuleIds: [owner.id] };
  return await triggerSync(deps, userId, request, wait);
}

export async function triggerSync(
  deps: AppDeps,
  userId: string,
  request: SyncRequest,
  wait: boolean,
): Promise<SyncAnswer> {
  if (await getSyncPause(deps.kv, userId)) {
    throw new HttpError(
      409,
      "sync_paused",
      "Syncs of your account are paused by the owner of this busysync; nothing syncs until " +
        "they resume them.",
    );
  }
  const { jobId } = await deps.syncRequests.request(userId, request);
  if (!wait) return { status: 202, body: { runId: jobId } };
  try {
    const run = await deps.syncRequests.wait(userId, jobId, WAIT_MS);
    return { status: 200, body: { runId: jobId, run: publicRun(run) } };
  } catch (err) {
    if (err instanceof SyncWaitTimeoutError) return { status: 202, body: { runId: jobId } };
    const job = await deps.syncRequests.job(userId, jobId);
    if (job?.state === "failed") throw syncFailed(job.error);
    throw err;
  }
}

/** The per-user limit on asking for syncs ("Sync now", confirming a held rule). */
export function syncTriggerLimit(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return rateLimit({
    kv: deps.kv,
    now: deps.now,
    trustProxy: deps.config.trustProxy,
    bucket: "syncTrigger",
    key: (c: Context<AppEnv>) => `user:${userOf(c).id}`,
  });
}

// Sign-in (routes/api/auth.tsx).

export const LoginQuery = z.object({ next: z.string().max(2000).optional() });

export const CallbackQuery = z.object({
  code: z.string().max(4096).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(256).optional(),
  iss: z.string().max(2000).optional(),
});

// The account (routes/api/user.ts).

export const ConnectBody = z.object({ next: z.string().max(2000).optional() });
/** POST /api/user/connections/ics: a feed's address and the name it goes by in the app. */
export const IcsConnectBody = z.object({
  url: z.string().trim().min(1, "Paste the feed's address.").max(4000).describe(
    "The feed's address: https://…, or webcal://… (read as https).",
  ),
  name: z.string().trim().max(200).optional().describe(
    "How the feed is named in busysync; the feed's own name (or its host) when left out.",
  ),
}).strict();

/**
 * Connecting a CalDAV account: a preset (iCloud, Fastmail) supplies the address; Nextcloud and
 * "other" need the server's. The password is an app password where the service has them.
 */
export const CalDavConnectBody = z.object({
  preset: z.enum(CALDAV_PRESETS).default("other"),
  serverUrl: z.string().trim().max(2000).optional().describe(
    "The server's address (https://…); required for nextcloud and other, ignored for icloud " +
      "and fastmail.",
  ),
  username: z.string().trim().min(1, "Enter your user name.").max(320),
  password: z.string().min(1, "Enter the app password.").max(1000),
  address: z.union([z.literal(""), z.email("Enter an email address, or leave it empty.")])
    .optional().transform((a) => a || undefined).describe(
      "The address invitations reach you at on this account, when the user name is none and " +
        "the server does not say it (a declined invitation then blocks no time).",
    ),
}).transform((body, ctx) => {
  const serverUrl = PRESET_INFO[body.preset].serverUrl ?? body.serverUrl;
  if (!serverUrl) {
    ctx.addIssue({ code: "custom", path: ["serverUrl"], message: "Enter the server's address." });
    return z.NEVER;
  }
  const url = URL.parse(
    /^[a-z][a-z0-9+.-]*:/i.test(serverUrl) ? serverUrl : `https://${serverUrl}`,
  );
  if (!url || !/^https?:$/.test(url.protocol)) {
    ctx.addIssue({
      code: "custom",
      path: ["serverUrl"],
      message: "Enter the server's address, like https://cloud.example.com.",
    });
    return z.NEVER;
  }
  return { ...body, serverUrl: url.href };
});
const Flag = z.enum(["true", "false"]).default("false").transform((v) => v === "true");
/** Removing busysync's mirrors is the default: busy blocks nobody manages any more are worse. */
export const RemoveMirrorsQuery = z.object({
  removeMirrors: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
});
/** Disconnecting: `keepRules=true` pauses the account's rules instead of deleting them. */
export const DisconnectQuery = RemoveMirrorsQuery.extend({ keepRules: Flag });
export const CalendarsQuery = z.object({ refresh: Flag });

// Google's push notifications (routes/api/webhooks.ts).

/** The headers read (notes §6); the others (message number, expiry, URI) are not needed. */
export const NotificationHeaders = z.object({
  "x-goog-channel-id": z.string().min(1).max(64),
  "x-goog-channel-token": z.string().min(1).max(256).optional(),
  "x-goog-resource-state": z.enum(["sync", "exists", "not_exists"]),
  "x-goog-resource-id": z.string().min(1).max(256),
});

// The owner's page and API (routes/api/admin.ts, routes/pages/admin.tsx).

/** What the owner's overview needs of the app: the store, the limits, the request budget. */
export function overviewDeps(deps: AppDeps) {
  return {
    kv: deps.kv,
    config: deps.config,
    now: deps.now,
    requestsInLastMinute: (connectionId: string) =>
      deps.services.policy.requestsInLastMinute(connectionId),
  };
}
