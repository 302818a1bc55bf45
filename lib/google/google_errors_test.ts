import assert from "node:assert/strict";
import {
  CalendarNotFoundError,
  ProviderUnavailableError,
  ReconnectRequiredError,
} from "../sync/provider.ts";
import {
  GoogleApiError,
  isRetryable,
  reasonOf,
  RetriesExhaustedError,
  retryAfterMs,
  toProviderError,
} from "./google_errors.ts";

const cal = { connectionId: "conn1", calendarId: "work@example.com" };

/** Shaped like a GaxiosError: the body in `response.data` (notes §4). */
function failure(status: number, data: unknown, headers?: unknown) {
  return Object.assign(new Error("failed"), { status, response: { status, data, headers } });
}
const googleBody = (reason: string) => ({ error: { errors: [{ reason }], code: 0 } });

Deno.test("google errors: the reason is read from the body, or from an OAuth error string", () => {
  assert.equal(reasonOf(failure(410, googleBody("fullSyncRequired"))), "fullSyncRequired");
  assert.equal(reasonOf(failure(400, { error: "invalid_grant" })), "invalid_grant");
  assert.equal(reasonOf(failure(502, "<html>Bad Gateway</html>")), undefined);
  assert.equal(reasonOf(new Error("no response")), undefined);
});

Deno.test("google errors: Retry-After is read from fetch Headers and from plain header objects", () => {
  assert.equal(retryAfterMs(failure(429, {}, new Headers({ "retry-after": "3" })), 0), 3_000);
  assert.equal(retryAfterMs(failure(429, {}, { "retry-after": "2" }), 0), 2_000);
  assert.equal(retryAfterMs(failure(429, {}, { "retry-after": "soon" }), 0), undefined);
  const now = Date.parse("2030-01-01T00:00:00Z");
  assert.equal(
    retryAfterMs(failure(503, {}, { "retry-after": "Tue, 01 Jan 2030 00:00:05 GMT" }), now),
    5_000,
  );
  assert.equal(
    retryAfterMs(failure(503, {}, { "retry-after": "Mon, 31 Dec 2029 00:00:00 GMT" }), now),
    0,
  );
});

Deno.test("google errors: a 502 with an HTML body is still retryable", () => {
  assert.equal(isRetryable(failure(502, "<html>Bad Gateway</html>")), true);
});

Deno.test("google errors: failures become the provider errors the engine acts on", () => {
  const ctx = { connectionId: cal.connectionId, cal };
  assert.ok(
    toProviderError(failure(404, googleBody("notFound")), ctx) instanceof CalendarNotFoundError,
  );
  for (
    const lost of [
      failure(401, googleBody("authError")),
      failure(400, {
        error: "invalid_grant",
        error_description: "Token has been expired or revoked.",
      }),
      failure(403, googleBody("insufficientPermissions")),
      new Error("No refresh token is set."),
    ]
  ) {
    const mapped = toProviderError(lost, ctx);
    assert.ok(mapped instanceof ReconnectRequiredError, String(lost));
    assert.equal(mapped.connectionId, "conn1");
  }
  const last = failure(503, googleBody("backendError"));
  const unavailable = toProviderError(new RetriesExhaustedError(8, 90_000, { cause: last }), ctx);
  assert.ok(unavailable instanceof ProviderUnavailableError);
  assert.ok(unavailable.cause instanceof RetriesExhaustedError);
  assert.equal(unavailable.cause.cause, last);
  const other = toProviderError(failure(403, googleBody("requiredAccessLevel")), ctx);
  assert.ok(other instanceof GoogleApiError);
  assert.deepEqual([other.status, other.reason], [403, "requiredAccessLevel"]);
  const bug = new TypeError("x is undefined");
  assert.equal(toProviderError(bug, ctx), bug);
});

Deno.test("google errors: Deno fetch's failures below HTTP are retried, a request it will never send is not", () => {
  // Shaped as gaxios wraps a rejected fetch: the fetch TypeError as `cause`, no response.
  const viaFetch = (message: string) =>
    Object.assign(new Error(message, { cause: new TypeError(message) }), { response: undefined });
  for (const message of ["fetch failed", "error reading a body from connection"]) {
    assert.equal(isRetryable(viaFetch(message)), true, message);
  }
  const timedOut = Object.assign(new Error("request timed out"), { code: "TimeoutError" });
  assert.equal(isRetryable(timedOut), true);
  assert.equal(isRetryable(viaFetch("Fetch failed: Requests to port 1 are blocked")), false);
  assert.equal(isRetryable(viaFetch("Invalid URL: 'nowhere'")), false);
  assert.equal(isRetryable(new TypeError("fetch failed")), false, "a TypeError gaxios never saw");
});
