/**
 * What can go wrong with a feed, in words a person acts on. Every message names the feed's host
 * only: its path and query hold the feed's secret, and these messages are stored in the run
 * history and shown in the app.
 */
import { CalendarNotFoundError } from "../sync/provider.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";

/** The host did not answer (no connection, a reset, a body cut off). */
export class FeedUnreachableError extends Error {
  constructor(readonly host: string, options?: ErrorOptions) {
    super(`${host} did not answer; check the feed's address, or try again later.`, options);
    this.name = "FeedUnreachableError";
  }
}

/** The host answered with an HTTP error status. */
export class FeedHttpError extends Error {
  constructor(readonly host: string, readonly status: number) {
    super(
      status === 401 || status === 403
        ? `${host} refused the feed (${status}): its address may have been reset; copy the new one.`
        : status === 404 || status === 410
        ? `${host} has no feed at that address (${status}): it was removed or its address changed.`
        : `${host} answered ${status} instead of the feed.`,
    );
    this.name = "FeedHttpError";
  }
}

/** The answer is no calendar (a login page, an error in JSON, a body cut short). */
export class FeedNotCalendarError extends Error {
  constructor(readonly host: string, why: string) {
    super(
      `${host} did not answer with a calendar (${why}); check that this is the feed's address.`,
    );
    this.name = "FeedNotCalendarError";
  }
}

/**
 * The feed's address answers 401, 403, 404 or 410 during a sync: a calendar the connection can
 * no longer read, as the engine knows it, with the host and the way out in its message.
 */
export class FeedGoneError extends CalendarNotFoundError {
  constructor(cal: CalendarRef, cause: FeedHttpError) {
    super(cal);
    // The same address added again renews this feed; a new address is a feed of its own.
    this.message = `${cause.message} If the feed moved, add it with its new address and ` +
      "choose it in this rule or group instead.";
    this.name = "FeedGoneError";
  }
}

/** A feed is read only: busysync never writes busy blocks into one. */
export class ReadOnlyFeedError extends Error {
  constructor() {
    super("an ICS feed is read only; it can be a source, never a target");
    this.name = "ReadOnlyFeedError";
  }
}
