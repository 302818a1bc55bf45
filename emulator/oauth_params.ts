/**
 * What the OAuth endpoints accept, as zod schemas over Google's parameter names, and the scope
 * rules shared by codes, tokens and claims.
 */
import { z } from "zod";

export const EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email";
export const PROFILE_SCOPE = "https://www.googleapis.com/auth/userinfo.profile";
/** Google grants the short OIDC scopes under their long names, and reports those in `scope`. */
const SCOPE_ALIASES: Record<string, string> = { email: EMAIL_SCOPE, profile: PROFILE_SCOPE };

/** Scope tokens long-named and without duplicates, in request order. */
export function normalizeScopes(scopes: string[]): string[] {
  return [...new Set(scopes.filter(Boolean).map((s) => SCOPE_ALIASES[s] ?? s))];
}

/**
 * An authorization request as sent. Only client_id and redirect_uri matter at this stage: until
 * both are known good, Google shows an error page instead of redirecting.
 */
export const authParamsSchema = z.object({
  client_id: z.string().default(""),
  redirect_uri: z.string().default(""),
  response_type: z.string().optional(),
  scope: z.string().optional(),
  state: z.string().optional(),
  nonce: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  access_type: z.string().optional(),
  prompt: z.string().optional(),
  include_granted_scopes: z.string().optional(),
  login_hint: z.string().optional(),
});
export type AuthParams = z.infer<typeof authParamsSchema>;

const MISSING_SCOPE = "Missing required parameter: scope";

/**
 * The rest of the authorization request (notes §7, "Authorization URL parameters"). Issue
 * messages are shown on the error page.
 */
export const authRequestSchema = authParamsSchema.extend({
  response_type: z.literal("code", { error: "Unsupported response_type: only code is supported" }),
  scope: z.string({ error: MISSING_SCOPE }).trim().min(1, MISSING_SCOPE)
    .transform((s) => normalizeScopes(s.split(" "))),
  // RFC 7636 §4.2: 43-128 characters from the unreserved set.
  code_challenge: z.string().regex(/^[\w.~-]{43,128}$/, "Invalid code_challenge").optional(),
  code_challenge_method: z.enum(["S256", "plain"], { error: "Invalid code_challenge_method" })
    .optional(),
  access_type: z.enum(["online", "offline"], { error: "Invalid access_type" }).default("online"),
  prompt: z.string().transform((s) => s.split(" ").filter(Boolean))
    .pipe(z.array(z.enum(["none", "consent", "select_account"], { error: "Invalid prompt" })))
    .optional(),
  include_granted_scopes: z.enum(["true", "false"], { error: "Invalid include_granted_scopes" })
    .optional(),
}).refine((r) => r.code_challenge || !r.code_challenge_method, {
  message: "Missing required parameter: code_challenge",
});
export type AuthRequest = z.infer<typeof authRequestSchema>;

/** The account chooser's form: the carried request plus the button that was pressed. */
export const approveSchema = authParamsSchema.extend({
  email: z.string().optional(),
  cancel: z.string().optional(),
});
export type ApproveForm = z.infer<typeof approveSchema>;

/** Both grants' fields (notes §7, "Code exchange" and "Refresh"); each grant checks its own. */
export const tokenRequestSchema = z.object({
  grant_type: z.string().default(""),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
});
export type TokenRequest = z.infer<typeof tokenRequestSchema>;

export const revokeSchema = z.object({ token: z.string().min(1) });

/** An `Authorization: Bearer <token>` header, parsed to the token. */
export const bearerSchema = z.string().regex(/^Bearer\s+\S+$/i)
  .transform((h) => h.replace(/^Bearer\s+/i, ""));
