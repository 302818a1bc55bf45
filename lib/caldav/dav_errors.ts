/**
 * What a failed CalDAV request means, as typed errors the provider can branch on: the servers
 * answer the same situation with different statuses (shared/docs/caldav.md §2), and these
 * errors are where the differences end. Messages are written for the person connecting.
 */

/** A CalDAV answer with no more specific meaning (an unexpected status, an unreadable body). */
export class CalDavError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly url: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CalDavError";
  }
}

/** The server refused the user name or password (401). */
export class CalDavAuthError extends CalDavError {
  constructor(url: string) {
    super(
      401,
      url,
      `The server at ${new URL(url).host} refused the user name or password. iCloud and ` +
        "Fastmail need an app password, not the account's own password.",
    );
    this.name = "CalDavAuthError";
  }
}

/** No HTTP answer at all: the name does not resolve, nothing listens, or the connection broke. */
export class CalDavUnreachableError extends CalDavError {
  constructor(url: string, options: ErrorOptions) {
    super(
      undefined,
      url,
      `Could not reach ${new URL(url).host}: check the server address and that it is online.`,
      options,
    );
    this.name = "CalDavUnreachableError";
  }
}

/** The server answers, but no CalDAV service (principal, calendar home) was found there. */
export class CalDavNotFoundError extends CalDavError {
  constructor(url: string, detail: string) {
    super(
      undefined,
      url,
      `No CalDAV calendars were found at ${url} (${detail}). Check the server address; ` +
        "for Nextcloud it ends in /remote.php/dav/.",
    );
    this.name = "CalDavNotFoundError";
  }
}

/** The user may not do this here (403 `need-privileges`): a calendar shared read-only. */
export class CalDavForbiddenError extends CalDavError {
  constructor(url: string, body: string) {
    super(403, url, `The server does not allow this change to ${url} (read-only?): ${body}`);
    this.name = "CalDavForbiddenError";
  }
}

/**
 * The sync token is no longer usable, so a full listing is needed: 403 `valid-sync-token`
 * (RFC 6578 §3.2), a token made for another collection, or the 500 Xandikos 0.2.8 gives for a
 * token it cannot look up (see dav_sync.ts).
 */
export class SyncTokenInvalidError extends CalDavError {
  constructor(
    url: string,
    readonly reason: "valid-sync-token" | "server_error" | "other_collection",
    status?: number,
  ) {
    super(status, url, `the sync token for ${url} is no longer valid (${reason})`);
    this.name = "SyncTokenInvalidError";
  }
}

/** A create with `If-None-Match: *` found the resource name taken (412). */
export class AlreadyExistsError extends CalDavError {
  constructor(url: string) {
    super(412, url, `${url} exists already`);
    this.name = "AlreadyExistsError";
  }
}

/**
 * An update or delete with `If-Match` found the resource changed or gone (412): read it again
 * and decide anew, never overwrite.
 */
export class PreconditionFailedError extends CalDavError {
  constructor(url: string) {
    super(412, url, `${url} changed or is gone since its ETag was read`);
    this.name = "PreconditionFailedError";
  }
}

/**
 * Another resource of the calendar holds the same UID: Radicale says 409 `no-uid-conflict`,
 * Xandikos a 207 holding 412 `no-uid-conflict`, Cyrus 403 `unique-scheduling-object-resource`
 * (shared/docs/caldav.md §2). `existingHref` is the other resource when the server names it.
 */
export class UidConflictError extends CalDavError {
  constructor(url: string, status: number, readonly existingHref: string | undefined) {
    super(
      status,
      url,
      `another resource of the calendar has the UID of ${url}` +
        (existingHref ? ` (${existingHref})` : ""),
    );
    this.name = "UidConflictError";
  }
}
