/**
 * How islands call the JSON API: same-origin fetch (the browser adds the Origin header the CSRF
 * guard checks, and the session cookies), JSON in and out, and every failure, network ones
 * included, turned into the API's own error shape so an island has one thing to show.
 */

export interface ApiError {
  status: number;
  code: string;
  message: string;
  /** Per-field messages keyed by dotted path ("filters.workingHours.start"). */
  fields?: Record<string, string>;
  /** A 429's Retry-After in seconds: how long a button that sent it stays off. */
  retryAfterSeconds?: number;
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T; headers: Headers }
  | { ok: false; error: ApiError };

/** Calls `method path` with an optional JSON body; never throws except on abort. */
export async function callApi<T>(
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const { signal } = options;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      signal,
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...options.headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    return {
      ok: false,
      error: { status: 0, code: "network", message: "busysync could not be reached. Try again." },
    };
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page: fall through to the generic message below.
  }
  if (res.ok) return { ok: true, status: res.status, data: json as T, headers: res.headers };
  const error = (json as { error?: Omit<ApiError, "status"> } | undefined)?.error;
  if (res.status === 401) {
    return {
      ok: false,
      error: {
        status: 401,
        code: "unauthenticated",
        message: "You were signed out. Sign in again.",
      },
    };
  }
  const retryAfterSeconds = res.status === 429
    ? parseRetryAfter(res.headers.get("retry-after"), Date.now())
    : undefined;
  return {
    ok: false,
    error: {
      ...(error ? { status: res.status, ...error } : {
        status: res.status,
        code: "http",
        message: `busysync answered ${res.status}. Try again.`,
      }),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  };
}

/**
 * Retry-After in whole seconds from `now`: either delta-seconds or an HTTP date (RFC 9110
 * §10.2.3); undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
