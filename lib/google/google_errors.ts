/**
 * What a failed Google call means: readers for the parts of a GaxiosError that matter (status,
 * reason, Retry-After), whether the failure is worth retrying, and which provider error it
 * becomes once nobody retries it any more.
 */
import {
  AccountWritesRefusedError,
  CalendarNotFoundError,
  ProviderUnavailableError,
  ReconnectRequiredError,
} from "../sync/provider.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";

/** A Google API failure with no more specific meaning for the engine (400, 403 forbidden, 412 ...). */
export class GoogleApiError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly reason: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "GoogleApiError";
  }
}

/** Thrown by the retry policy when it stops trying; `cause` is the last failure. */
export class RetriesExhaustedError extends Error {
  constructor(readonly attempts: number, readonly waitedMs: number, options: ErrorOptions) {
    super(`gave up after ${attempts} attempts and ${Math.round(waitedMs)} ms of backoff`, options);
    this.name = "RetriesExhaustedError";
  }
}

/** The fields of a GaxiosError this module reads (notes §4: there is no top-level `errors`). */
interface GaxiosLike {
  name?: unknown;
  cause?: unknown;
  code?: unknown;
  message?: unknown;
  response?: {
    status?: unknown;
    headers?: unknown;
    data?: unknown;
  };
}

function asGaxios(err: unknown): GaxiosLike | undefined {
  return typeof err === "object" && err !== null ? err as GaxiosLike : undefined;
}

/** The HTTP status of a failed call, or undefined when no response came back. */
export function statusOf(err: unknown): number | undefined {
  const status = asGaxios(err)?.response?.status;
  return typeof status === "number" ? status : undefined;
}

/**
 * Google's reason (`rateLimitExceeded`, `fullSyncRequired`, `duplicate` ...), read from
 * `err.response.data.error.errors[0].reason` (notes §4); for OAuth errors, where `error` is a
 * string such as `invalid_grant` (notes §7), that string.
 */
export function reasonOf(err: unknown): string | undefined {
  const data = asGaxios(err)?.response?.data as
    | { error?: string | { errors?: { reason?: unknown }[] } }
    | undefined;
  const error = data?.error;
  if (typeof error === "string") return error;
  const reason = error?.errors?.[0]?.reason;
  return typeof reason === "string" ? reason : undefined;
}

/**
 * What Deno's fetch (the client's fetch, provider.ts) throws for a request that got no HTTP
 * answer, as gaxios wraps it: a GaxiosError without a response whose cause is a TypeError with
 * one of these messages (Deno 2.9.6, tried against servers that refuse, close before the status
 * line, cut the body short, and an unknown host): "fetch failed" (its own cause says "error
 * sending request … connection closed before message completed", "… Connection refused", "…
 * dns error"), "error reading a body from connection" (dropped mid-body). Deno's fetch sets no
 * `code` (no ECONNRESET as node:http gave). Matched by message because fetch also throws
 * TypeError for requests that can never succeed ("Invalid URL", "Fetch failed: Requests to
 * port 1 are blocked"), which must not be retried.
 */
const FETCH_NETWORK_FAILURE =
  /^(fetch failed|error sending request.*|error reading a body from connection)$/i;

/**
 * Whether a call failed below HTTP: it may or may not have reached Google, which is safe to
 * retry because every busysync write is idempotent (deterministic ids, a second delete counts as
 * done). Besides fetch's own failures, the provider's per-attempt timeout: its abort reason is a
 * DOMException named TimeoutError, which gaxios copies into `code`.
 */
function isNetworkFailure(err: unknown): boolean {
  const e = asGaxios(err);
  if (!e || e.response !== undefined) return false;
  if (e.code === "TimeoutError") return true;
  return e.cause instanceof TypeError && FETCH_NETWORK_FAILURE.test(e.cause.message);
}

/** 403 reasons that are rate limits, not refusals (notes §4, [ERR]); `quotaExceeded` is daily. */
const RATE_LIMIT_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);

/** Statuses worth retrying: rate limited (429) and server trouble (notes §4, [ERR]). */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Whether trying the same call again later may succeed. */
export function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return isNetworkFailure(err);
  if (isDailyQuotaSpent(err)) return false;
  if (RETRYABLE_STATUSES.has(status)) return true;
  return isRateLimited(err);
}

/** A rate limit (429, 403 rateLimitExceeded/userRateLimitExceeded): refused before anything was done. */
export function isRateLimited(err: unknown): boolean {
  const status = statusOf(err);
  return status === 429 || (status === 403 && RATE_LIMIT_REASONS.has(reasonOf(err) ?? ""));
}

/**
 * The project's daily quota is spent: a 403 `rateLimitExceeded` like any rate limit, told apart
 * only by "Queries per day" in its message (notes §10). Backing off for seconds cannot help a
 * quota that resets the next day, so it is not retried.
 */
function isDailyQuotaSpent(err: unknown): boolean {
  if (statusOf(err) !== 403 || reasonOf(err) !== "rateLimitExceeded") return false;
  const data = asGaxios(err)?.response?.data as
    | { error?: { message?: unknown; errors?: { message?: unknown }[] } }
    | undefined;
  const messages = [data?.error?.message, ...(data?.error?.errors ?? []).map((e) => e.message)];
  return messages.some((m) => typeof m === "string" && /queries per day/i.test(m));
}

/** 403 quotaExceeded: the account's calendars are read-only for hours (notes §4, §10). */
function isUsageLimitMet(err: unknown): boolean {
  return statusOf(err) === 403 && reasonOf(err) === "quotaExceeded";
}

/**
 * A call that got no answer it can trust (the connection dropped, it timed out, a 5xx): it may
 * or may not have been carried out. Thrown by the retry policy, in place of retrying, for calls
 * that must not simply be sent again (see RunOptions.resendUnanswered).
 */
export class UnansweredError extends Error {
  constructor(options: ErrorOptions) {
    super("the call got no answer, so whether it was carried out is unknown", options);
    this.name = "UnansweredError";
  }
}

/**
 * 403 reasons that say nothing about the event itself: rate limits, quotas and missing
 * permissions ([ERR]); any other 403 on an event write (`forbidden`, as an update of an event
 * its owner deleted in the web UI answers: notes §10) is about that event.
 */
const NOT_ABOUT_THE_EVENT_403 = new Set([
  ...RATE_LIMIT_REASONS,
  "quotaExceeded",
  "dailyLimitExceeded",
  "usageLimits",
  "insufficientPermissions",
  "requiredAccessLevel",
  "forbiddenForNonOrganizer",
  "accessNotConfigured",
]);

/**
 * Why a write to an existing event id means that id is dead, or undefined when it does not:
 * 404 (purged), 410 `deleted`, or a 403 about the event itself.
 */
export function retiredIdReason(err: unknown): string | undefined {
  const status = statusOf(err);
  const reason = reasonOf(err);
  if (status === 404) return "Google no longer has the event behind it (404)";
  if (status === 410 && reason === "deleted") return "Google answered 410 deleted";
  if (status === 403 && !NOT_ABOUT_THE_EVENT_403.has(reason ?? "")) {
    return `Google refuses writes to it (403 ${reason ?? "forbidden"})`;
  }
  return undefined;
}

/**
 * The wait a response asks for in `Retry-After` (delta seconds or an HTTP date, RFC 9110
 * §10.2.3), in ms from `now`; undefined when absent or unreadable. gaxios hands back the
 * fetch Response's Headers; read through `get` rather than instanceof, so a plain header record
 * (and another fetch's Headers class) is read too.
 */
export function retryAfterMs(err: unknown, now: number): number | undefined {
  const headers = asGaxios(err)?.response?.headers as
    | { get?: unknown; [name: string]: unknown }
    | undefined;
  let value: unknown;
  if (typeof headers?.get === "function") value = headers.get("retry-after");
  else if (typeof headers === "object" && headers !== null) {
    value = headers["retry-after"] ?? headers["Retry-After"];
  }
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Whether the failure means the connection's authorization is gone: 401 after the auth client's
 * own handling, `invalid_grant` from a refresh (revoked, expired refresh token: notes §7), a
 * token missing a granted scope, or the auth library having no refresh token to try.
 */
function isAuthorizationLost(err: unknown): boolean {
  const status = statusOf(err);
  const reason = reasonOf(err);
  if (status === 401 || reason === "invalid_grant") return true;
  if (status === 403 && reason === "insufficientPermissions") return true;
  // google-auth-library throws a plain Error when it must refresh but holds no refresh token
  // (oauth2client.js "No refresh token is set." / "No refresh token or refresh handler ...").
  return err instanceof Error && err.message.startsWith("No refresh token");
}

/**
 * The provider error a failure becomes once the policy has given up or declined to retry:
 * ProviderUnavailableError after exhausted retries or for a spent daily quota,
 * ReconnectRequiredError for lost authorization, AccountWritesRefusedError for the Calendar usage
 * limits, CalendarNotFoundError for a 404 on `cal` (Google answers 404 both for unknown
 * calendars and for calendars the account can no longer see: notes §3), GoogleApiError for any
 * other HTTP failure. Errors that are not Google's pass through unchanged.
 */
export function toProviderError(
  err: unknown,
  ctx: { connectionId: string; cal?: CalendarRef },
): unknown {
  if (err instanceof RetriesExhaustedError) {
    const last = err.cause;
    const detail = last instanceof Error ? last.message : String(last);
    return new ProviderUnavailableError(
      `Google Calendar kept failing: ${detail} (${err.message})`,
      {
        cause: err,
      },
    );
  }
  if (isAuthorizationLost(err)) {
    const reason = reasonOf(err) ?? (err instanceof Error ? err.message : String(err));
    return new ReconnectRequiredError(
      ctx.connectionId,
      `Google no longer accepts busysync's access to this account (${reason})`,
    );
  }
  if (isDailyQuotaSpent(err)) {
    return new ProviderUnavailableError(
      "Google's daily request quota of busysync's Google Cloud project is used up (403 " +
        "rateLimitExceeded, Queries per day); calls work again once Google resets it",
      { cause: err },
    );
  }
  if (isUsageLimitMet(err)) {
    return new AccountWritesRefusedError(
      ctx.connectionId,
      "Google put this account's calendars in read-only mode for a few hours: too many events " +
        "were created in a short time (403 quotaExceeded, Calendar usage limits exceeded)",
      { cause: err },
    );
  }
  const status = statusOf(err);
  if (status === 404 && ctx.cal) return new CalendarNotFoundError(ctx.cal);
  if (status !== undefined) {
    const message = err instanceof Error ? err.message : `HTTP ${status}`;
    return new GoogleApiError(status, reasonOf(err), message, { cause: err });
  }
  return err;
}
