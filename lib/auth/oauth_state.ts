/**
 * The per-redirect secrets of an OAuth flow: `state` (names the KV record), the PKCE verifier,
 * the id_token nonce, and the browser binding. The binding is a random value in a cookie of the
 * browser that started the flow; the record keeps its hash, so a callback URL carried to another
 * browser (login CSRF: signing a victim into the attacker's account) does not complete.
 */
import { type OAuthState, saveOAuthState, takeOAuthState } from "../db/oauth_states.ts";
import { randomToken, sha256Base64Url, sha256Hex } from "./tokens.ts";

/** Google's codes are short-lived; ten minutes is ample to pick an account and consent. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

export type OAuthFlow = OAuthState["flow"];

/** What goes into the authorization URL for a started flow. */
export interface StartedFlow {
  state: string;
  codeChallenge: string;
  nonce: string;
}

/** A new random binding value for a browser that has none yet. */
export function newBinding(): string {
  return randomToken();
}

/** Records a new flow and returns the values the authorization URL carries. */
export async function startFlow(
  kv: Deno.Kv,
  input: {
    flow: OAuthFlow;
    userId?: string;
    next: string;
    binding: string;
    now: Date;
    calendars?: boolean;
  },
): Promise<StartedFlow> {
  const codeVerifier = randomToken();
  const nonce = randomToken(16);
  const state = randomToken();
  await saveOAuthState(kv, {
    v: 1,
    id: state,
    flow: input.flow,
    ...(input.calendars ? { calendars: true } : {}),
    userId: input.userId,
    codeVerifier,
    nonce,
    bindingHash: await sha256Hex(input.binding),
    next: input.next,
    expiresAt: new Date(input.now.getTime() + OAUTH_STATE_TTL_MS).toISOString(),
  }, input.now);
  return { state, codeChallenge: await sha256Base64Url(codeVerifier), nonce };
}

/**
 * Takes the flow named by `state` if it is live and was started by this browser (`binding`
 * from its cookie). Null otherwise; a taken state never works again, whatever the outcome.
 */
export async function takeFlow(
  kv: Deno.Kv,
  input: { state: string; binding: string | undefined; now: Date },
): Promise<OAuthState | null> {
  const record = await takeOAuthState(kv, input.state, input.now);
  if (!record || !input.binding) return null;
  return record.bindingHash === await sha256Hex(input.binding) ? record : null;
}
