/**
 * The two OAuth flows busysync runs through one redirect URI: sign-in (who is this person?) and
 * connect (give busysync calendar access to one Google account). The state record says which
 * flow a callback belongs to.
 */
import { ulid } from "ulid";
import { isEmailAllowed } from "../auth/allow_list.ts";
import { provenOwnerAddress } from "../auth/owners.ts";
import { type OAuthFlow, startFlow, takeFlow } from "../auth/oauth_state.ts";
import { ConflictError } from "../db/commit.ts";
import {
  type Connection,
  connectionIdFor,
  listConnectionsToAccount,
  saveConnectionGrant,
} from "../db/connections.ts";
import { pinOwner } from "../db/owners.ts";
import { findUserBySub, getUser, upsertUserBySub, type User } from "../db/users.ts";
import { CALENDAR_SCOPES, type CodeTokens, IdTokenError } from "../google/oauth.ts";
import { OAuthEndpointError } from "../google/oauth_errors.ts";
import { KeySetUnavailableError } from "../google/signing_keys.ts";
import { sealTokens } from "../auth/connection_secrets.ts";
import {
  authorizationRefusal,
  codeExchangeRefusal,
  idTokenRefusal,
  maskEmail,
  type Refusal,
  staleRefusal,
  WRONG_RESPONSE_ISSUER,
} from "./flow_refusals.ts";
import { refreshConnectionCalendars } from "./calendars.ts";
import type { AccountDeps } from "./deps.ts";

export interface BeginFlowInput {
  flow: OAuthFlow;
  /** Required for connect: the signed-in user the account is added to. */
  userId?: string;
  /** Same-origin path to land on afterwards (already checked by the caller). */
  next: string;
  /** The browser's binding value (its cookie). */
  binding: string;
  loginHint?: string;
  /** Sign-in only: also connect the account's calendars (a first sign-in in this browser). */
  calendars?: boolean;
}

/** Records a new flow and returns Google's authorization URL to send the browser to. */
export async function beginFlow(deps: AccountDeps, input: BeginFlowInput): Promise<string> {
  const started = await startFlow(deps.kv, { ...input, now: deps.now() });
  return await deps.google.authorizationUrl({
    flow: input.flow,
    ...started,
    loginHint: input.loginHint,
    calendars: input.flow === "signin" && input.calendars === true,
  });
}

/** What the callback query may carry (RFC 6749 §4.1.2 and §4.1.2.1). */
export interface CallbackQuery {
  code?: string;
  state?: string;
  error?: string;
  /** The issuer that answered (RFC 9207), on success and error responses alike. */
  iss?: string;
}

export type CallbackResult =
  /** `connected`: the sign-in also connected the account's calendars (a first sign-in). */
  | { kind: "signed_in"; user: User; next: string; connected: boolean }
  | { kind: "connected"; connection: Connection; next: string }
  /** A verified person the allow-list does not admit. */
  | { kind: "refused"; email: string }
  /**
   * A Google account that never signed in but is connected under other busysync users
   * (`holders`, masked addresses they sign in with): no new, empty busysync account is opened.
   */
  | { kind: "held"; email: string; holders: string[] }
  | ({ kind: "failed" } & Refusal);

const fail = (
  status: 400 | 403 | 502,
  title: string,
  message: string,
): CallbackResult => ({ kind: "failed", status, title, message });

const refused = (refusal: Refusal): CallbackResult => ({ kind: "failed", ...refusal });

const UNREACHABLE = fail(502, "Google could not be reached", "Please try again in a moment.");

/**
 * Completes the flow a callback belongs to: checks state and browser binding and the
 * response's issuer (RFC 9207), exchanges the code with the PKCE verifier, verifies the
 * id_token (signature, issuer, audience, expiry, nonce), then signs the person in or stores the
 * connection. Every refusal is a result with a message for the person, never an exception; its
 * technical reason is logged.
 */
export async function completeFlow(
  deps: AccountDeps,
  input: { query: CallbackQuery; binding: string | undefined; currentUserId?: string },
): Promise<CallbackResult> {
  const { query } = input;
  const STALE = staleRefusal(deps.config.publicUrl);
  if (!query.state) return refused(STALE);
  const flow = await takeFlow(deps.kv, {
    state: query.state,
    binding: input.binding,
    now: deps.now(),
  });
  if (!flow) return refused(STALE);
  // Before reading code or error: a response another issuer sent to this redirect URI (a mix-up
  // attack) must not be acted on, not even as an error.
  if (!(await deps.google.responseIssuerMatches(query.iss))) {
    deps.log.warn("authorization response refused: wrong iss", { iss: query.iss ?? null });
    return refused(WRONG_RESPONSE_ISSUER);
  }
  if (query.error || !query.code) {
    if (query.error !== "access_denied") {
      deps.log.warn("authorization response carried an error", { error: query.error ?? null });
    }
    return refused(authorizationRefusal(query.error));
  }

  let tokens: CodeTokens;
  try {
    tokens = await deps.google.exchangeCode(query.code, flow.codeVerifier);
  } catch (err) {
    if (err instanceof OAuthEndpointError) {
      deps.log.warn("OAuth code exchange refused", { err });
      return refused(codeExchangeRefusal(err.error));
    }
    deps.log.warn("OAuth code exchange failed", { err });
    return UNREACHABLE;
  }
  if (!tokens.idToken) {
    return fail(502, "Google's answer was incomplete", "It carried no id_token. Please try again.");
  }
  let claims;
  try {
    claims = await deps.google.verifyIdToken(tokens.idToken, flow.nonce);
  } catch (err) {
    if (err instanceof KeySetUnavailableError) {
      deps.log.warn("Google's signing keys could not be fetched", { err });
      return UNREACHABLE;
    }
    if (!(err instanceof IdTokenError)) throw err;
    deps.log.warn("id_token refused", { problem: err.problem, reason: err.message });
    return refused(idTokenRefusal(err.problem));
  }
  const issuer = deps.config.google.issuer;

  if (flow.flow === "signin") {
    if (!claims.email || !claims.emailVerified) {
      return fail(
        403,
        "This Google account has no verified email",
        "busysync needs a verified email address to sign you in.",
      );
    }
    if (!isEmailAllowed(deps.config.allowedEmails, { email: claims.email, hd: claims.hd })) {
      return { kind: "refused", email: claims.email };
    }
    // A connected account is not a second person: someone who knows a shared family account's
    // password must not get a busysync of their own beside the one it is connected to, and its
    // owner must not end up with two. (A check, then a create: two sign-ins racing a connect can
    // slip past it, which leaves an ordinary account, nothing unsafe.)
    if (!(await findUserBySub(deps.kv, issuer, claims.sub))) {
      const holders = await listConnectionsToAccount(deps.kv, issuer, claims.sub);
      if (holders.length) {
        const owners = await Promise.all(holders.map((h) => getUser(deps.kv, h.userId)));
        const masked = [
          ...new Set(owners.flatMap((u) => (u ? [maskEmail(u.email)] : []))),
        ];
        if (masked.length) return { kind: "held", email: claims.email, holders: masked };
      }
    }
    const { user } = await upsertUserBySub(deps.kv, {
      issuer,
      sub: claims.sub,
      email: claims.email,
      name: claims.name ?? claims.email,
    }, deps.now());
    const ownerAddress = provenOwnerAddress(deps.config.adminEmails, {
      email: claims.email,
      emailVerified: claims.emailVerified,
      hd: claims.hd,
    });
    if (ownerAddress) {
      const { owner } = await pinOwner(deps.kv, {
        address: ownerAddress,
        issuer,
        sub: claims.sub,
        now: deps.now(),
      });
      // Signed in all the same, as an ordinary user: the address moved to another account.
      if (!owner) {
        deps.log.warn("an owner address is pinned to another Google account; no owner's page", {
          address: maskEmail(ownerAddress),
        });
      }
    }
    // A first sign-in asked for the calendars too: with both scopes granted (Google's page lets
    // a person untick them) and a refresh token, the account is the person's first connection.
    const calendarsGranted = flow.calendars === true && !!tokens.refreshToken &&
      CALENDAR_SCOPES.every((s) => tokens.scopes.includes(s));
    if (calendarsGranted) {
      await connectAccount(deps, user.id, {
        issuer,
        sub: claims.sub,
        email: claims.email,
        tokens: { ...tokens, refreshToken: tokens.refreshToken! },
      });
    }
    return { kind: "signed_in", user, next: flow.next, connected: calendarsGranted };
  }

  // Refused grants below are dropped, not revoked: revoking at Google can end every token the
  // account granted this client (the app leaves the account's third-party access list), which
  // would also cut a connection the account already has.
  if (!flow.userId || flow.userId !== input.currentUserId) {
    return fail(
      403,
      "You are signed in as someone else now",
      "The account was not connected. Sign in again and connect it from your connections page.",
    );
  }
  const missing = CALENDAR_SCOPES.filter((s) => !tokens.scopes.includes(s));
  if (missing.length) {
    return fail(
      403,
      "busysync needs both calendar permissions",
      "Google's page lets you untick permissions; busysync needs to see your calendar list and " +
        "to read and write events. Please connect again and leave both ticked.",
    );
  }
  if (!tokens.refreshToken) {
    return fail(502, "Google sent no refresh token", "Please connect the account again.");
  }
  const connection = await connectAccount(deps, flow.userId, {
    issuer,
    sub: claims.sub,
    email: claims.email ?? claims.sub,
    tokens: { ...tokens, refreshToken: tokens.refreshToken },
  });
  return { kind: "connected", connection, next: flow.next };
}

/** Stores the connection and fetches its calendar list (a failed fetch can be repeated later). */
async function connectAccount(
  deps: AccountDeps,
  userId: string,
  account: Parameters<typeof storeConnection>[2],
): Promise<Connection> {
  const connection = await storeConnection(deps, userId, account);
  try {
    await refreshConnectionCalendars(deps, userId, connection.id);
  } catch (err) {
    // The connection is stored; its calendars can be fetched again from the dashboard.
    deps.log.warn("calendar list after connecting failed", { connectionId: connection.id, err });
  }
  return connection;
}

async function storeConnection(
  deps: AccountDeps,
  userId: string,
  account: {
    issuer: string;
    sub: string;
    email: string;
    tokens: CodeTokens & { refreshToken: string };
  },
): Promise<Connection> {
  // Two connect flows for one account may race: the loser re-reads the id the winner created.
  for (let attempt = 0;; attempt++) {
    const connectionId = await connectionIdFor(deps.kv, userId, account.issuer, account.sub) ??
      ulid(deps.now().getTime());
    const now = deps.now();
    const tokens = await sealTokens(deps.keyring, { userId, connectionId }, {
      ...account.tokens,
      now,
    });
    try {
      return await saveConnectionGrant(deps.kv, {
        userId,
        connectionId,
        issuer: account.issuer,
        sub: account.sub,
        email: account.email,
        scopes: account.tokens.scopes,
        tokens,
        now,
      });
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 2) throw err;
    }
  }
}
