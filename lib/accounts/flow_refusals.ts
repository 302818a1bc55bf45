/**
 * What the person sees when a sign-in or connect flow is refused: what went wrong, in words,
 * and whether trying again can help. The technical reason goes to the log, not here.
 */
import type { IdTokenProblem } from "../google/oauth.ts";

/** A refused flow as the callback page shows it. */
export interface Refusal {
  status: 400 | 403 | 502;
  title: string;
  message: string;
}

const AGAIN = "Starting again can help.";
const NOT_AGAIN = "Trying again will not help";
const ASK_ADMIN = `${NOT_AGAIN}: whoever runs this busysync needs to check its Google settings.`;

/**
 * The flow's state is unknown, used, expired, or belongs to another browser. The browser's
 * binding cookie belongs to the host that set it, so a sign-in started at another address of
 * this server (127.0.0.1 for localhost) arrives without it: the message names the address.
 */
export function staleRefusal(publicUrl: string): Refusal {
  return {
    status: 400,
    title: "This sign-in link has expired",
    message: "It was already used, is older than ten minutes, or was started in another browser " +
      `or at another address than ${new URL(publicUrl).origin}. Open ` +
      `${new URL(publicUrl).origin} in this browser and start again from there.`,
  };
}

/** RFC 9207: the response's `iss` is not the configured issuer, or is missing. */
export const WRONG_RESPONSE_ISSUER: Refusal = {
  status: 400,
  title: "This answer did not come from Google",
  message: "The answer that brought you here names another sign-in service than the one this " +
    "busysync uses, or none, so it was not trusted. If a link you did not expect brought you " +
    `here, ignore it. ${AGAIN}`,
};

/** The authorization server redirected back with an error (RFC 6749 §4.1.2.1). */
export function authorizationRefusal(error: string | undefined): Refusal {
  const title = "Google did not grant access";
  switch (error) {
    case "access_denied":
      return {
        status: 400,
        title,
        message: "You cancelled on Google's page. Nothing was changed.",
      };
    case "temporarily_unavailable":
    case "server_error":
      return {
        status: 502,
        title,
        message: `Google had a problem of its own. Trying again in a few minutes can help.`,
      };
    case undefined:
      return { status: 400, title, message: `Google sent no authorization code. ${AGAIN}` };
    default:
      return {
        status: 400,
        title,
        message: `Google refused the request itself (${error}). ${ASK_ADMIN}`,
      };
  }
}

/** The token endpoint refused the code (RFC 6749 §5.2). */
export function codeExchangeRefusal(error: string): Refusal {
  const title = "Google refused the sign-in";
  if (error === "invalid_grant") {
    return {
      status: 400,
      title,
      message: "Google no longer accepted the one-time code from its page: it had been used or " +
        `had expired. ${AGAIN}`,
    };
  }
  return {
    status: 400,
    title,
    message: `Google did not accept this busysync as an application (${error}). ${ASK_ADMIN}`,
  };
}

const ID_TOKEN_MESSAGES: Record<IdTokenProblem, string> = {
  signature: "Its signature could not be checked against the keys Google publishes. This " +
    "happens for a moment while Google changes its keys: trying again in a minute can help; if " +
    "it keeps happening, whoever runs this busysync should check its Google settings.",
  issuer: `It names another sign-in service than the one this busysync uses. ${ASK_ADMIN}`,
  audience: "It was addressed to other applications as well, or issued on behalf of another " +
    `application, so it cannot be trusted as meant for this busysync alone. ${ASK_ADMIN}`,
  time: "It was dated outside its validity: this server's clock and Google's disagree. " +
    `${NOT_AGAIN} until whoever runs this busysync sets the server's clock right.`,
  nonce: "It belonged to another sign-in attempt (one started in another tab, perhaps). " + AGAIN,
  claims: `It did not say which Google account you are. ${ASK_ADMIN}`,
};

/** The id_token did not verify. */
export function idTokenRefusal(problem: IdTokenProblem): Refusal {
  return {
    status: 400,
    title: "Google's answer did not verify",
    message: ID_TOKEN_MESSAGES[problem],
  };
}

/**
 * An address with most of its name hidden, `a•••@work.example.com`: enough for its owner to
 * recognise, not enough to give away to whoever else sees the page.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "•••";
  return `${email[0]}•••${email.slice(at)}`;
}
