/**
 * Google Calendar as a CalendarProvider (lib/sync/provider.ts), through the real
 * `@googleapis/calendar` client. Every call goes through the one retry policy; the client's
 * own retries are off so that policy and its request budget see every request (notes §4).
 */
import { calendar, type calendar_v3 } from "@googleapis/calendar";
import {
  type ApiMeter,
  type CalendarInfo,
  type CalendarProvider,
  type ChangeListing,
  type ChangePage,
  type MarkedEvent,
  MirrorConflictError,
  MirrorIdRetiredError,
  ProviderUnavailableError,
  type WatchedChannel,
  type Written,
} from "../sync/provider.ts";
import { MARKER_KEYS } from "../sync/marker.ts";
import type { TimeWindow } from "../model/time_window.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { SourceEvent } from "../model/events.ts";
import {
  mirrorInsertBody,
  mirrorPatchBody,
  readGoogleEvent,
  readMarkedEvent,
} from "./event_mapping.ts";
import {
  reasonOf,
  retiredIdReason,
  statusOf,
  toProviderError,
  UnansweredError,
} from "./google_errors.ts";
import type { RetryPolicy, RunOptions } from "./retry_policy.ts";
import { noTracing, type Tracing } from "../telemetry/tracing.ts";

/** Whatever the googleapis client accepts as `auth`, typically an OAuth2Client with credentials. */
export type GoogleAuth = NonNullable<calendar_v3.Options["auth"]>;

export interface GoogleProviderOptions {
  /** Where the API lives: "https://www.googleapis.com" or the emulator's base URL. */
  apiUrl: string;
  /**
   * The authorised client of a connection. An OAuth2Client must carry an `expiry_date` with its
   * credentials: without one, google-auth-library refreshes on every 403, and a 403 rate limit
   * would then also cost a token refresh (notes §4, [GAL]).
   */
  authFor: (connectionId: string) => GoogleAuth | Promise<GoogleAuth>;
  /**
   * Called once when Google answers 401 to a token the auth client still thought valid
   * (revoked early, clock skew): it should make the next request use a fresh token. The call
   * is then replayed once; a second 401 means the authorization is gone.
   */
  onUnauthorized?: (connectionId: string) => Promise<void>;
  policy: RetryPolicy;
  /** Items per events.list page; default 2500, Google's maximum (notes §1). */
  pageSize?: number;
  /** Per-request timeout; a timed-out request is retried like a dropped connection. */
  timeoutMs?: number;
  /** Hears of every HTTP request by API method, retries included (a run's history). */
  meter?: ApiMeter;
  /** Hears how every HTTP request ended, retries included (the process's metrics). */
  onAnswer?: (answer: RequestAnswer) => void;
  /** Makes a span of every HTTP request, retries included; default none. */
  tracing?: Tracing;
}

/** How one HTTP request to Google ended. */
export interface RequestAnswer {
  /** The API method, "events.list". */
  method: string;
  /** The HTTP status, or "none" when no answer came (a dropped connection, a timeout). */
  status: string;
  seconds: number;
}

/**
 * How often an insert whose answer was lost is looked up and sent again before giving up; each
 * lookup is itself retried by the policy, which paces the rounds.
 */
const UNANSWERED_INSERT_ROUNDS = 4;

/** calendarList.list allows at most 250 entries per page (notes §5). */
const CALENDAR_LIST_PAGE = 250;

/**
 * Creates the Google provider. Errors it throws: CalendarNotFoundError (404 on the calendar),
 * ReconnectRequiredError (authorization lost), ProviderUnavailableError (retries exhausted),
 * MirrorConflictError (putMirror onto a user's event), MirrorIdRetiredError (putMirror onto an
 * id Google keeps reserved), GoogleApiError (any other API failure).
 */
export function createGoogleProvider(opts: GoogleProviderOptions): CalendarProvider {
  const { policy, pageSize = 2500, timeoutMs = 30_000 } = opts;
  // Only scheme, host and port of a service-level rootUrl are used (notes §8).
  const rootUrl = new URL(opts.apiUrl).origin + "/";

  async function clientFor(connectionId: string): Promise<calendar_v3.Calendar> {
    const auth = await opts.authFor(connectionId);
    // Deno's own fetch: without it gaxios picks node-fetch (it looks for `window`, which Deno
    // does not have), and node-fetch over Deno's node:http layer was about half the app's CPU
    // in an initial sync. The auth client's own transporter is given the same (token_source.ts).
    return calendar({ version: "v3", rootUrl, auth, retry: false, fetchImplementation: fetch });
  }

  /**
   * One attempt of a request, aborted after `timeoutMs` by a timer cleared as soon as the
   * attempt settles, so no timer outlives its call (gaxios' own `timeout` is an
   * AbortSignal.timeout per request; under node-fetch its listener kept a one-off
   * `busysync sync` alive for the whole timeout after a dropped connection, and a cleared timer
   * keeps that true whatever fetch the client uses). Deno's fetch rejects with the abort reason,
   * a DOMException named TimeoutError, which gaxios copies into the code `TimeoutError` that
   * google_errors.ts retries like a dropped connection.
   */
  function timed<T>(request: (options: { signal: AbortSignal }) => Promise<T>): () => Promise<T> {
    return async () => {
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new DOMException("request timed out", "TimeoutError")),
        timeoutMs,
      );
      try {
        return await request({ signal: controller.signal });
      } finally {
        clearTimeout(timer);
      }
    };
  }

  /**
   * One API call of `method` under the policy, each attempt with its own timeout (pass the
   * options on to the googleapis method) and counted by the meter; failures come back raw, for
   * the caller to interpret.
   */
  async function call<T>(
    connectionId: string,
    method: string,
    request: (options: { signal: AbortSignal }) => Promise<{ data: T; status?: number }>,
    runOptions?: RunOptions,
  ): Promise<T> {
    const timedAttempt = timed(request);
    const { onAnswer, tracing = noTracing } = opts;
    let attempts = 0;
    // One span per HTTP request: the method and how it ended, never the URL (it holds the
    // calendar id) nor an error's message (it can too).
    const attempt = () =>
      tracing.callSpan(`google.${method}`, async (span) => {
        opts.meter?.count(method);
        attempts++;
        const started = performance.now();
        const answered = (status: number | undefined) => {
          span.setAttributes({
            "busysync.service": "google",
            "busysync.method": method,
            "busysync.attempt": attempts,
            ...(status !== undefined && { "http.response.status_code": status }),
          });
          onAnswer?.({
            method,
            status: status === undefined ? "none" : String(status),
            seconds: (performance.now() - started) / 1000,
          });
        };
        try {
          const response = await timedAttempt();
          answered(response.status ?? 200);
          return response;
        } catch (e) {
          answered(statusOf(e));
          throw e;
        }
      });
    try {
      return (await policy.run(connectionId, attempt, runOptions)).data;
    } catch (e) {
      if (statusOf(e) !== 401 || !opts.onUnauthorized) throw e;
      await opts.onUnauthorized(connectionId);
      return (await policy.run(connectionId, attempt, runOptions)).data;
    }
  }

  /** Reads an events.list page into a ChangePage, reporting items that are not usable events. */
  function toPage(data: calendar_v3.Schema$Events): ChangePage {
    const page: ChangePage = { events: [] };
    for (const item of data.items ?? []) {
      const read = readGoogleEvent(item);
      if (read.ok) page.events.push(read.event);
      else (page.unreadable ??= []).push(read.unreadable);
    }
    if (data.nextSyncToken) page.cursor = data.nextSyncToken;
    return page;
  }

  /**
   * The incremental listing, every page read before any is handed out: Google may answer 410
   * on a later page (a token invalidated mid-listing), and the engine must then get a clean
   * full listing rather than half a change set labelled incremental. Change sets are what
   * happened since the previous run, so holding one in memory is cheap. Returns undefined when
   * Google says the token is no longer valid (410 fullSyncRequired, notes §1).
   */
  async function readChanges(
    cal: CalendarRef,
    api: calendar_v3.Calendar,
    syncToken: string,
  ): Promise<ChangePage[] | undefined> {
    const pages: ChangePage[] = [];
    let pageToken: string | undefined;
    do {
      let data: calendar_v3.Schema$Events;
      try {
        // Only the parameters of the full listing that a syncToken allows (notes §1): the
        // window bounds are refused with a token, and showDeleted is left at its default in
        // both, since deletions always come with a token anyway.
        data = await call(cal.connectionId, "events.list", (o) =>
          api.events.list({
            calendarId: cal.calendarId,
            syncToken,
            pageToken,
            singleEvents: true,
            maxResults: pageSize,
          }, o));
      } catch (e) {
        if (statusOf(e) === 410) return undefined;
        throw toProviderError(e, { connectionId: cal.connectionId, cal });
      }
      pages.push(toPage(data));
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);
    return pages;
  }

  /**
   * The full listing of `window`, streamed page by page; the first page is fetched before
   * returning so that a missing calendar or lost authorization fails listChanges itself.
   * `singleEvents` expands series into instances (moved instances at their new time, cancelled
   * ones left out); `timeMin`/`timeMax` bound event end and start (notes §1); no tombstones,
   * because a full listing is reconciled against the ledger, where absence means deletion.
   */
  async function listWindow(
    cal: CalendarRef,
    api: calendar_v3.Calendar,
    window: TimeWindow,
  ): Promise<AsyncIterable<ChangePage>> {
    const fetchPage = async (pageToken?: string) => {
      try {
        return await call(cal.connectionId, "events.list", (o) =>
          api.events.list({
            calendarId: cal.calendarId,
            timeMin: window.start.toISOString(),
            timeMax: window.end.toISOString(),
            pageToken,
            singleEvents: true,
            maxResults: pageSize,
          }, o));
      } catch (e) {
        throw toProviderError(e, { connectionId: cal.connectionId, cal });
      }
    };
    const first = await fetchPage();
    return (async function* () {
      let data = first;
      yield toPage(data);
      while (data.nextPageToken) {
        data = await fetchPage(data.nextPageToken);
        yield toPage(data);
      }
    })();
  }

  return {
    async listCalendars(connectionId) {
      const api = await clientFor(connectionId);
      const out: CalendarInfo[] = [];
      let pageToken: string | undefined;
      do {
        let data: calendar_v3.Schema$CalendarList;
        try {
          // Hidden calendars are still the user's calendars; a rule may use one.
          data = await call(
            connectionId,
            "calendarList.list",
            (o) =>
              api.calendarList.list({
                pageToken,
                maxResults: CALENDAR_LIST_PAGE,
                showHidden: true,
              }, o),
          );
        } catch (e) {
          throw toProviderError(e, { connectionId });
        }
        for (const entry of data.items ?? []) {
          const info = toCalendarInfo(entry);
          if (info) out.push(info);
        }
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    },

    async listChanges(cal, cursor, window): Promise<ChangeListing> {
      const api = await clientFor(cal.connectionId);
      if (cursor !== null) {
        const pages = await readChanges(cal, api, cursor);
        if (pages) return { full: false, pages: iterate(pages) };
      }
      return { full: true, pages: await listWindow(cal, api, window) };
    },

    async putMirror(cal, id, mirror, options): Promise<Written> {
      const api = await clientFor(cal.connectionId);
      const ctx = { connectionId: cal.connectionId, cal };
      const patch = () =>
        call(cal.connectionId, "events.patch", (o) =>
          api.events.patch({
            calendarId: cal.calendarId,
            eventId: id,
            sendUpdates: "none",
            requestBody: mirrorPatchBody(mirror),
          }, o));
      const get = () =>
        call(
          cal.connectionId,
          "events.get",
          (o) => api.events.get({ calendarId: cal.calendarId, eventId: id }, o),
        );
      // An id Google once gave out stays its event's: a write to it that answers 404 (purged),
      // 410 deleted or a 403 about the event means it can never hold this mirror again.
      const retiredOr = (e: unknown) => {
        const reason = retiredIdReason(e);
        return reason ? new MirrorIdRetiredError(cal, id, reason) : toProviderError(e, ctx);
      };
      /**
       * What a refused patch of a known mirror means. A 403 is about the event only when the
       * event behind it is dead (deleted, as in the web UI, or gone): retiring the id of a live
       * one would put a second mirror beside it, so that is looked up first.
       */
      const refusedPatch = async (e: unknown): Promise<unknown> => {
        if (statusOf(e) !== 403 || !retiredIdReason(e)) return retiredOr(e);
        let existing: calendar_v3.Schema$Event | undefined;
        try {
          existing = await get();
        } catch (g) {
          if (statusOf(g) !== 404) return toProviderError(g, ctx);
        }
        return existing && existing.status !== "cancelled" ? toProviderError(e, ctx) : retiredOr(e);
      };
      /** Brings the existing event `id` to the mirror: a restore if it was deleted. */
      const adopt = async (existing: calendar_v3.Schema$Event): Promise<Written> => {
        const restoring = existing.status === "cancelled";
        if (!restoring && !carriesMarker(existing)) throw new MirrorConflictError(cal, id);
        let data: calendar_v3.Schema$Event;
        try {
          data = await patch();
        } catch (e) {
          throw retiredOr(e);
        }
        return written(data, restoring ? "restored" : "patched");
      };

      if (options?.existing) {
        // The ledger wrote this id, so it is ours: one patch (status confirmed included, which
        // also brings back a mirror deleted by hand). Only a 404 sends us down the insert path.
        // A 404 goes on to the insert path, which tells a purged id from a missing calendar.
        try {
          return written(await patch(), "patched");
        } catch (e) {
          if (statusOf(e) !== 404) throw await refusedPatch(e);
        }
      }
      for (let round = 1;; round++) {
        try {
          // Not resent blindly: Google does not promise to detect every id collision at insert
          // time (Event.id, notes §10), so an insert whose answer was lost is looked up first.
          const data = await call(cal.connectionId, "events.insert", (o) =>
            api.events.insert({
              calendarId: cal.calendarId,
              // No invitations: a mirror has no attendees, and this says so to Google too.
              sendUpdates: "none",
              requestBody: { id, ...mirrorInsertBody(mirror) },
            }, o), { resendUnanswered: false });
          return written(data, "created");
        } catch (e) {
          if (!(e instanceof UnansweredError) && statusOf(e) !== 409) {
            throw toProviderError(e, ctx);
          }
          let existing: calendar_v3.Schema$Event;
          try {
            existing = await get();
          } catch (g) {
            // 409 duplicate, then 404: the id is reserved by an event Google purged (notes §10).
            if (statusOf(e) === 409 && statusOf(g) === 404) {
              throw new MirrorIdRetiredError(
                cal,
                id,
                "Google keeps it reserved for a purged event",
              );
            }
            if (statusOf(g) !== 404) throw toProviderError(g, ctx);
            // Unanswered and not there: the lost insert was not carried out, send it again.
            if (round < UNANSWERED_INSERT_ROUNDS) continue;
            throw new ProviderUnavailableError(
              `Google Calendar did not answer an insert ${round} times`,
              { cause: e },
            );
          }
          // 409: the id is taken, by an earlier try of this insert whose answer was lost, by a
          // mirror deleted before (ids of deleted events stay taken: notes §2), or, in theory,
          // by someone else's event; unanswered: the lost insert may have been carried out.
          // Reading it told which.
          const result = await adopt(existing);
          // Our lost insert made it: what this call did, all told, is create the mirror.
          const lost = e instanceof UnansweredError && result.outcome === "patched";
          return lost ? { ...result, outcome: "created" } : result;
        }
      }
    },

    async deleteMirror(cal, id) {
      const api = await clientFor(cal.connectionId);
      try {
        await call(
          cal.connectionId,
          "events.delete",
          (o) =>
            api.events.delete({ calendarId: cal.calendarId, eventId: id, sendUpdates: "none" }, o),
        );
        return "deleted";
      } catch (e) {
        // 410 deleted: already cancelled (a retried delete whose answer was lost); 404: never
        // there, or the calendar itself is gone, which leaves nothing to delete either (notes §3).
        const status = statusOf(e);
        if (status === 404 || (status === 410 && reasonOf(e) === "deleted")) return "already_gone";
        throw toProviderError(e, { connectionId: cal.connectionId, cal });
      }
    },

    async listInstances(cal, seriesId, window) {
      const api = await clientFor(cal.connectionId);
      const out: SourceEvent[] = [];
      let pageToken: string | undefined;
      do {
        let data: calendar_v3.Schema$Events;
        try {
          data = await call(cal.connectionId, "events.instances", (o) =>
            api.events.instances({
              calendarId: cal.calendarId,
              eventId: seriesId,
              timeMin: window.start.toISOString(),
              timeMax: window.end.toISOString(),
              pageToken,
              maxResults: pageSize,
            }, o));
        } catch (e) {
          // The series is gone (purged, or never there): it has no instances.
          const status = statusOf(e);
          if (status === 404 || (status === 410 && reasonOf(e) === "deleted")) return null;
          throw toProviderError(e, { connectionId: cal.connectionId, cal });
        }
        for (const item of data.items ?? []) {
          const read = readGoogleEvent(item);
          if (read.ok && read.event.status !== "cancelled") out.push(read.event);
        }
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    },

    async *listMarked(cal, key, value): AsyncIterable<MarkedEvent> {
      const api = await clientFor(cal.connectionId);
      let pageToken: string | undefined;
      do {
        let data: calendar_v3.Schema$Events;
        try {
          // Series unexpanded (a mirrored series is one event to find), deleted events left out;
          // cancelled instances of a live series still come back (notes §1) with their status.
          data = await call(cal.connectionId, "events.list", (o) =>
            api.events.list({
              calendarId: cal.calendarId,
              privateExtendedProperty: [`${key}=${value}`],
              showDeleted: false,
              singleEvents: false,
              pageToken,
              maxResults: pageSize,
            }, o));
        } catch (e) {
          throw toProviderError(e, { connectionId: cal.connectionId, cal });
        }
        for (const item of data.items ?? []) {
          const marked = readMarkedEvent(item);
          if (marked) yield marked;
        }
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken);
    },

    async watch(cal, channel): Promise<WatchedChannel> {
      const api = await clientFor(cal.connectionId);
      let data: calendar_v3.Schema$Channel;
      try {
        data = await call(cal.connectionId, "events.watch", (o) =>
          api.events.watch({
            calendarId: cal.calendarId,
            requestBody: {
              id: channel.id,
              type: "web_hook",
              address: channel.address,
              token: channel.token,
              // Seconds as a string: params is a string map in the Channel resource (notes §6).
              params: { ttl: String(channel.ttlSeconds) },
            },
          }, o));
      } catch (e) {
        throw toProviderError(e, { connectionId: cal.connectionId, cal });
      }
      if (!data.resourceId) throw new Error("events.watch answered without a resourceId");
      // Google may shorten the lifetime (notes §6); without an expiry the asked one applies.
      const expiresAt = data.expiration
        ? new Date(Number(data.expiration))
        : new Date(Date.now() + channel.ttlSeconds * 1000);
      return { resourceId: data.resourceId, expiresAt };
    },

    async stopChannel(connectionId, channel) {
      const api = await clientFor(connectionId);
      try {
        await call(
          connectionId,
          "channels.stop",
          (o) => api.channels.stop({ requestBody: channel }, o),
        );
      } catch (e) {
        // 404: expired or stopped already (a retried stop whose answer was lost): done.
        if (statusOf(e) === 404) return;
        throw toProviderError(e, { connectionId });
      }
    },
  };
}

/** A write's answer as the engine checks it: the id and event Google says it stored. */
function written(data: calendar_v3.Schema$Event, outcome: Written["outcome"]): Written {
  const read = readGoogleEvent(data);
  return { id: data.id ?? "", outcome, event: read.ok ? read.event : undefined };
}

async function* iterate(pages: ChangePage[]): AsyncIterable<ChangePage> {
  yield* pages;
}

function carriesMarker(event: calendar_v3.Schema$Event): boolean {
  return event.extendedProperties?.private?.[MARKER_KEYS.flag] === "1";
}

/**
 * A calendarList entry as CalendarInfo; undefined for entries without an id or with a role
 * busysync cannot use. `writerWithoutPrivateAccess` counts as a reader: such a writer "can read
 * and modify events but cannot access private events" (calendarList.list reference,
 * minAccessRole), and mirrors are private by default, so busysync could not read its own
 * mirrors back there.
 */
function toCalendarInfo(entry: calendar_v3.Schema$CalendarListEntry): CalendarInfo | undefined {
  const role = entry.accessRole === "writerWithoutPrivateAccess" ? "reader" : entry.accessRole;
  if (!entry.id) return undefined;
  if (role !== "freeBusyReader" && role !== "reader" && role !== "writer" && role !== "owner") {
    return undefined;
  }
  return {
    calendarId: entry.id,
    summary: entry.summaryOverride ?? entry.summary ?? entry.id,
    primary: entry.primary === true,
    accessRole: role,
    timeZone: entry.timeZone ?? "UTC",
    // The entry's colour in this person's list (calendarList.backgroundColor), shown beside
    // the calendar's name; anything but a plain hex colour is left out.
    ...(/^#[0-9a-f]{6}$/i.test(entry.backgroundColor ?? "")
      ? { color: entry.backgroundColor!.toLowerCase() }
      : {}),
  };
}
