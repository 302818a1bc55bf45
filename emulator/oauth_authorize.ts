/**
 * The browser-facing half of Google's OAuth: GET /o/oauth2/v2/auth and the account chooser's
 * POST. It checks the request the way Google does, shows the chooser (or skips it for a seeded
 * login_hint), and redirects back with a code or an error. "Notes §7" is
 * /work/shared/docs/google-calendar-api.md §7.
 */
import { type Context, Hono } from "hono";
import type { EmulatorClient, EmulatorUser } from "./oauth.ts";
import { APPROVE_PATH, renderConsentPage, renderErrorPage } from "./oauth_consent_page.ts";
import type { GrantStore } from "./oauth_grants.ts";
import {
  type ApproveForm,
  approveSchema,
  type AuthParams,
  authParamsSchema,
  type AuthRequest,
  authRequestSchema,
  normalizeScopes,
} from "./oauth_params.ts";

export const AUTH_PATH = "/o/oauth2/v2/auth";

/** The OAuthServer state the authorization endpoint reads, and the grants it writes. */
export interface AuthorizeDeps {
  issuer(): string;
  /** Whether responses carry `iss` (RFC 9207), as discovery says. */
  issParameter(): boolean;
  findClient(clientId: string): EmulatorClient | undefined;
  findUser(email: string): EmulatorUser | undefined;
  listUsers(): EmulatorUser[];
  grants: GrantStore;
}

type AuthCheck =
  | { ok: false; status: 400 | 401; error: string; description: string }
  | { ok: true; request: AuthRequest };

/** GET /o/oauth2/v2/auth and POST /o/oauth2/v2/auth/approve, relative to the issuer. */
export function authorizeRoutes(deps: AuthorizeDeps): Hono {
  const app = new Hono();

  app.get(AUTH_PATH, (c) => {
    const params = authParamsSchema.parse(c.req.query());
    const check = checkAuthRequest(deps, params);
    if (!check.ok) return errorPage(c, check);
    const { request } = check;
    // A login_hint naming a seeded user stands in for Google's signed-in browser session that
    // has already consented, so browserless tests get their code in one redirect.
    const hinted = request.login_hint ? deps.findUser(request.login_hint) : undefined;
    if (hinted) return c.redirect(grantCode(deps, request, hinted.email));
    // prompt=none forbids any page; with no session to reuse, OIDC Core §3.1.2.6 says
    // login_required.
    if (request.prompt?.includes("none")) {
      return c.redirect(respond(deps, request.redirect_uri, {
        error: "login_required",
        state: request.state,
      }));
    }
    const carried = Object.fromEntries(
      Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])),
    );
    return c.html(renderConsentPage({
      clientId: request.client_id,
      scopes: request.scope,
      users: deps.listUsers(),
      carried,
    }));
  });

  app.post(APPROVE_PATH, async (c) => {
    const form = approveSchema.safeParse(await c.req.parseBody());
    if (!form.success) {
      return errorPage(c, { status: 400, error: "invalid_request", description: "Bad form." });
    }
    return approve(c, deps, form.data);
  });

  return app;
}

/**
 * Google checks the client, then the redirect_uri, and shows its own error page for both rather
 * than redirecting to an address it cannot trust ("Error 401: invalid_client", "Error 400:
 * redirect_uri_mismatch" in the pages quoted by astrada/google-drive-ocamlfuse#484 and
 * debrouwere/google-analytics#33). Malformed requests get a page too.
 */
function checkAuthRequest(deps: AuthorizeDeps, params: AuthParams): AuthCheck {
  const client = deps.findClient(params.client_id);
  if (!client) {
    const description = "The OAuth client was not found.";
    return { ok: false, status: 401, error: "invalid_client", description };
  }
  if (!redirectAllowed(client, params.redirect_uri)) {
    const description = `The redirect URI in the request, ${params.redirect_uri}, ` +
      "does not match the ones authorized for the OAuth client.";
    return { ok: false, status: 400, error: "redirect_uri_mismatch", description };
  }
  const parsed = authRequestSchema.safeParse(params);
  if (!parsed.success) {
    const description = parsed.error.issues[0].message;
    return { ok: false, status: 400, error: "invalid_request", description };
  }
  return { ok: true, request: parsed.data };
}

function approve(c: Context, deps: AuthorizeDeps, form: ApproveForm) {
  const { email, cancel, ...params } = form;
  // The hidden fields came back from a browser, so they get the same checks as the GET.
  const check = checkAuthRequest(deps, params);
  if (!check.ok) return errorPage(c, check);
  const { request } = check;
  if (cancel) {
    return c.redirect(respond(deps, request.redirect_uri, {
      error: "access_denied",
      state: request.state,
    }));
  }
  const user = email ? deps.findUser(email) : undefined;
  if (!user) {
    const description = "Choose one of the listed accounts.";
    return errorPage(c, { status: 400, error: "invalid_request", description });
  }
  return c.redirect(grantCode(deps, request, user.email));
}

/** Records the user's consent as a code and returns the redirect that delivers it. */
function grantCode(deps: AuthorizeDeps, request: AuthRequest, email: string): string {
  const { grants } = deps;
  const clientId = request.client_id;
  const earlier = request.include_granted_scopes === "true"
    ? grants.grantedScopes(email, clientId)
    : [];
  const scopes = normalizeScopes([...earlier, ...request.scope]);
  // Google returns a refresh token only when it showed consent: on the first grant of these
  // scopes, or with prompt=consent (notes §7, access_type=offline).
  const withRefreshToken = request.access_type === "offline" &&
    (Boolean(request.prompt?.includes("consent")) ||
      !grants.hasRefreshTokenCovering(email, clientId, scopes));
  const code = grants.createCode({
    email,
    clientId,
    scopes,
    redirectUri: request.redirect_uri,
    nonce: request.nonce,
    // RFC 7636 §4.3 and notes §7: plain is the default method.
    challenge: request.code_challenge
      ? { value: request.code_challenge, method: request.code_challenge_method ?? "plain" }
      : undefined,
    withRefreshToken,
  });
  // Google echoes the granted scopes next to code and state.
  return respond(deps, request.redirect_uri, {
    code,
    scope: scopes.join(" "),
    state: request.state,
  });
}

/**
 * The redirect of an authorization response, success or error; RFC 9207 §2 puts `iss` on both.
 */
function respond(
  deps: AuthorizeDeps,
  redirectUri: string,
  params: Record<string, string | undefined>,
): string {
  return withParams(redirectUri, {
    ...params,
    iss: deps.issParameter() ? deps.issuer() : undefined,
  });
}

function errorPage(
  c: Context,
  e: { status: 400 | 401; error: string; description: string },
) {
  return c.html(renderErrorPage(e.status, e.error, e.description), e.status);
}

/** Google requires an exact match with one of the client's registered redirect URIs. */
function redirectAllowed(client: EmulatorClient, uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  return client.redirectUris?.includes(uri) ?? true;
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.href;
}
