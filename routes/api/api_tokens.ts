/**
 * The signed-in user's personal API tokens (mounted at `/api/me/tokens`): list them with their
 * last use, create one (shown once, in this answer only), revoke one. Creating needs a session:
 * a token cannot mint tokens. Listing and revoking work with a token too, so a script can retire
 * the token it runs with.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  API_TOKEN_EXPIRY_DAYS,
  API_TOKEN_LIMIT,
  ApiTokenLimitError,
  issueApiToken,
} from "../../lib/auth/api_tokens.ts";
import { type ApiToken, deleteApiToken, listApiTokens } from "../../lib/db/api_tokens.ts";
import { refuseApiTokens, requireUser, userOf } from "../../lib/http/auth_middleware.ts";
import { HttpError } from "../../lib/http/errors.ts";
import {
  createApiApp,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  SESSION_ONLY,
  SIGNED_IN,
} from "../../lib/http/openapi.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";

const tags = ["API tokens"];

const ApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable().openapi({
    description: "When it last authenticated a request (to the minute); null: never used.",
  }),
  current: z.boolean().openapi({ description: "The token this request is made with." }),
}).openapi("ApiToken");

const CreateBody = z.object({
  name: z.string().trim().min(1, "Give the token a name.").max(60, "At most 60 characters.")
    .openapi({ description: "What it is for, e.g. the script that uses it.", example: "backup" }),
  expiresInDays: z.union(API_TOKEN_EXPIRY_DAYS.map((d) => z.literal(d))).openapi({
    description: "How long it works: 30, 90 or 365 days.",
  }),
}).strict();

const TokenId = idParam("id", "The token's id.");

export function apiTokenRoutes(deps: AppDeps) {
  const app = createApiApp<AppEnv>();
  app.use("*", requireUser());

  const publicToken = (token: ApiToken, currentId: string | undefined) => ({
    id: token.id,
    name: token.name,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    current: token.id === currentId,
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      security: SIGNED_IN,
      summary: "Your API tokens, oldest first (never the tokens themselves)",
      responses: {
        200: jsonResponse(
          z.object({ items: z.array(ApiTokenSchema), limit: z.number().int() }),
          "The tokens, and how many one account may hold.",
        ),
        ...errorResponses(401),
      },
    }),
    async (c) => {
      const now = deps.now().getTime();
      const tokens = (await listApiTokens(deps.kv, userOf(c).id))
        // An expired token stays in the store until KV sweeps it; it is of no use to anyone.
        .filter((t) => Date.parse(t.expiresAt) > now);
      return c.json({
        items: tokens.map((t) => publicToken(t, c.var.apiTokenId)),
        limit: API_TOKEN_LIMIT,
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      security: SESSION_ONLY,
      summary: "Create an API token (the answer is the only time it is shown)",
      description: "Send it as `Authorization: Bearer bsy_…` to any /api route, except creating " +
        "tokens, deleting the account, refreshing or ending a session, adding or reconnecting an " +
        "account, and the owner's routes (403 " +
        "`token_not_allowed`). At most 20 tokens per account (409 `token_limit`).",
      middleware: [refuseApiTokens()] as const,
      request: { body: jsonBody(CreateBody) },
      responses: {
        201: jsonResponse(
          ApiTokenSchema.extend({
            token: z.string().openapi({ description: "The token: keep it now, it is not stored." }),
          }),
          "Created.",
        ),
        ...errorResponses(400, 401, 403, 409, 415),
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      try {
        const { secret, token } = await issueApiToken(deps, userOf(c).id, input);
        // The only answer that holds the secret: no cache along the way may keep it.
        c.header("cache-control", "no-store");
        return c.json({ ...publicToken(token, undefined), token: secret }, 201);
      } catch (err) {
        if (err instanceof ApiTokenLimitError) {
          throw new HttpError(409, "token_limit", err.message);
        }
        throw err;
      }
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      security: SIGNED_IN,
      summary: "Revoke an API token: it stops working at once",
      request: { params: TokenId },
      responses: { 204: { description: "Revoked." }, ...errorResponses(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!await deleteApiToken(deps.kv, userOf(c).id, id)) {
        throw new HttpError(404, "not_found", "No such API token.");
      }
      return c.body(null, 204);
    },
  );

  return app;
}
