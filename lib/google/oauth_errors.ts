/**
 * Failures of Google's OAuth endpoints (token, revoke) as a typed error. google-auth-library
 * throws GaxiosError; the OAuth error body (RFC 6749 §5.2) is read with zod here, so callers
 * branch on `error` ("invalid_grant" ...), not on messages. Calendar API failures are read by
 * google_errors.ts.
 */
import { z } from "zod";

/** The OAuth token or revoke endpoint answered with an OAuth error (RFC 6749 §5.2). */
export class OAuthEndpointError extends Error {
  constructor(
    readonly status: number,
    /** e.g. "invalid_grant", "invalid_client", "unauthorized_client", "invalid_token". */
    readonly error: string,
    readonly description: string | undefined,
  ) {
    super(description ? `${error}: ${description}` : error);
    this.name = "OAuthEndpointError";
  }
}

const ResponseSchema = z.object({
  response: z.object({ status: z.number(), data: z.unknown() }),
});

const OAuthBodySchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

/** The OAuth error an endpoint answered with, or undefined when `err` is something else. */
export function asOAuthEndpointError(err: unknown): OAuthEndpointError | undefined {
  const res = ResponseSchema.safeParse(err);
  if (!res.success) return undefined;
  const body = OAuthBodySchema.safeParse(res.data.response.data);
  if (!body.success) return undefined;
  return new OAuthEndpointError(
    res.data.response.status,
    body.data.error,
    body.data.error_description,
  );
}
