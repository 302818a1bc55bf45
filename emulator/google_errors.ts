/**
 * Google's JSON error envelope, as the Calendar API sends it (google-calendar-api.md §1, §3, §4):
 * `{"error":{"errors":[{domain,reason,message,...}],"code","message"}}`. Every emulator error that
 * a Calendar client can see is built here so the shape cannot drift between routes.
 */

export interface ErrorItem {
  domain: string;
  reason: string;
  message: string;
  locationType?: string;
  location?: string;
}

export interface GoogleErrorBody {
  error: {
    errors: ErrorItem[];
    code: number;
    message: string;
    status?: string;
    details?: unknown[];
  };
}

/** A Calendar API failure; the API's onError turns it into Google's JSON body and status. */
export class GoogleApiError extends Error {
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly item: ErrorItem,
    readonly extra: {
      /** Top-level message, when Google's differs from the item's. */
      message?: string;
      status?: string;
      details?: unknown[];
      headers?: Record<string, string>;
    } = {},
  ) {
    super(extra.message ?? item.message);
    this.headers = extra.headers ?? {};
  }

  get body(): GoogleErrorBody {
    return {
      error: {
        errors: [this.item],
        code: this.status,
        message: this.message,
        ...(this.extra.status ? { status: this.extra.status } : {}),
        ...(this.extra.details ? { details: this.extra.details } : {}),
      },
    };
  }
}

/** 400 with a reason such as `invalid`, `required`, `timeRangeEmpty` (notes §3, [ERR]). */
export function badRequest(
  reason: string,
  message: string,
  location?: { type: string; name: string },
): GoogleApiError {
  return new GoogleApiError(400, {
    domain: "global",
    reason,
    message,
    ...(location ? { locationType: location.type, location: location.name } : {}),
  });
}

/** A malformed or out-of-range query parameter. */
export function invalidParameter(name: string, message: string): GoogleApiError {
  return badRequest("invalid", message, { type: "parameter", name });
}

/** 404 notFound: both unknown ids and calendars the caller cannot see (notes §3). */
export function notFound(): GoogleApiError {
  return new GoogleApiError(404, { domain: "global", reason: "notFound", message: "Not Found" });
}

/** 409 duplicate, also for ids of deleted events (notes §2). */
export function duplicate(): GoogleApiError {
  return new GoogleApiError(409, {
    domain: "global",
    reason: "duplicate",
    message: "The requested identifier already exists.",
  });
}

/**
 * 403 forbidden: an API write to an event its owner deleted in the Calendar web UI (notes §10,
 * google-api-ruby-client #1811). The body is Google's generic 403; that this call gets exactly it
 * is a guess.
 */
export function forbidden(): GoogleApiError {
  return new GoogleApiError(403, { domain: "global", reason: "forbidden", message: "Forbidden" });
}

/**
 * 403 quotaExceeded: the user's calendars are in read-only mode after too many creations (notes
 * §4 [ERR], §10: support.google.com/a/answer/2905486).
 */
export function usageLimitsExceeded(): GoogleApiError {
  return new GoogleApiError(403, {
    domain: "usageLimits",
    reason: "quotaExceeded",
    message: "Calendar usage limits exceeded.",
  });
}

/** 410 deleted: deleting an event that is already cancelled (notes §3). */
export function alreadyDeleted(): GoogleApiError {
  return new GoogleApiError(410, {
    domain: "global",
    reason: "deleted",
    message: "Resource has been deleted",
  });
}

/** 410 fullSyncRequired: an unknown, expired or invalidated sync token (notes §1, exact body). */
export function fullSyncRequired(): GoogleApiError {
  return new GoogleApiError(410, {
    domain: "calendar",
    reason: "fullSyncRequired",
    message: "Sync token is no longer valid, a full sync is required.",
    locationType: "parameter",
    location: "syncToken",
  });
}

/** 412 conditionNotMet: a stale If-Match etag (notes §3, exact body). */
export function conditionNotMet(): GoogleApiError {
  return new GoogleApiError(412, {
    domain: "global",
    reason: "conditionNotMet",
    message: "Precondition Failed",
    locationType: "header",
    location: "If-Match",
  });
}

/** 401 authError: a missing, unknown, expired or revoked access token (notes §3). */
export function authError(): GoogleApiError {
  return new GoogleApiError(401, {
    domain: "global",
    reason: "authError",
    message: "Invalid Credentials",
    locationType: "header",
    location: "Authorization",
  }, {
    message: "Request had invalid authentication credentials. Expected OAuth 2 access token, " +
      "login cookie or other valid authentication credential.",
    status: "UNAUTHENTICATED",
    headers: { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"' },
  });
}

/**
 * 403 insufficientPermissions with the status and ErrorInfo detail real responses carry
 * (notes §3); `method` is the API method name, e.g. `events.list`.
 */
export function insufficientScopes(method: string): GoogleApiError {
  const rpcName = method.split(".").map((p) => p[0].toUpperCase() + p.slice(1)).join(".");
  return new GoogleApiError(403, {
    domain: "global",
    reason: "insufficientPermissions",
    message: "Insufficient Permission",
  }, {
    message: "Request had insufficient authentication scopes.",
    status: "PERMISSION_DENIED",
    details: [{
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
      domain: "googleapis.com",
      metadata: { service: "calendar-json.googleapis.com", method: `calendar.v3.${rpcName}` },
    }],
  });
}

/** 403 requiredAccessLevel: writing to a calendar where the caller is only a reader. */
export function writeAccessRequired(): GoogleApiError {
  return new GoogleApiError(403, {
    domain: "calendar",
    reason: "requiredAccessLevel",
    message: "You need to have writer access to this calendar.",
  });
}

/** Google's JSON 404 for a path no route serves. */
export function unknownRoute(path: string): GoogleApiError {
  return new GoogleApiError(404, {
    domain: "global",
    reason: "notFound",
    message: `Not Found: ${path}`,
  });
}

/**
 * 400 for an events.watch whose channel id the project already uses (ids are unique per project:
 * notes §6). The reason and message are guesses; the notes do not quote Google's body.
 */
export function channelIdNotUnique(id: string): GoogleApiError {
  return new GoogleApiError(400, {
    domain: "global",
    reason: "channelIdNotUnique",
    message: `Channel id ${id} not unique`,
  });
}

/**
 * 404 from channels.stop for a channel this project does not have (or a wrong resourceId). The
 * message is the one Google's client libraries report ("Channel 'x' not found for project 'n'",
 * googleapis/google-api-nodejs-client#627); the emulator's project is the OAuth client.
 */
export function channelNotFound(id: string, project: string): GoogleApiError {
  return new GoogleApiError(404, {
    domain: "global",
    reason: "notFound",
    message: `Channel '${id}' not found for project '${project}'`,
  });
}

/**
 * 403 from channels.stop when another user of the same project tries to stop a channel: only
 * the user who opened it may (notes §6). Status, reason and message are guesses.
 */
export function channelOwnedByOtherUser(): GoogleApiError {
  return new GoogleApiError(403, {
    domain: "global",
    reason: "forbidden",
    message: "Only the user who created the channel can stop it.",
  });
}
