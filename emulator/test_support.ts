/**
 * Test harness for the emulator's conformance tests: an emulator on an ephemeral port, the real
 * `@googleapis/calendar` client authorised with tokens from the admin API, and small builders.
 */
import { calendar, type calendar_v3 } from "@googleapis/calendar";
import { OAuth2Client } from "google-auth-library";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "./server.ts";
import type { GoogleErrorBody } from "./google_errors.ts";
import type { Seed } from "./seed.ts";

export const SCOPE = (name: string) => `https://www.googleapis.com/auth/${name}`;
export const FULL_SCOPE = SCOPE("calendar");

export const ALICE = "alice@example.com";
export const BOB = "bob@example.com";
export const ALICE_WORK = "alicework0calendar@group.calendar.google.com";
export const SHARED = "shared0calendar@group.calendar.google.com";
export const TEST_CLIENT = { clientId: "test-client", clientSecret: "test-secret" };

/**
 * Alice: primary (Europe/Berlin) and a secondary "Work" calendar; Bob: primary (America/New_York);
 * a shared calendar Alice owns and Bob reads.
 */
export function aSeed(): Seed {
  return {
    clients: [TEST_CLIENT],
    users: [
      {
        email: ALICE,
        name: "Alice",
        calendars: [
          { id: ALICE, summary: ALICE, timeZone: "Europe/Berlin", primary: true },
          { id: ALICE_WORK, summary: "Work", timeZone: "Europe/Berlin" },
          { id: SHARED, summary: "Shared", timeZone: "Europe/Berlin" },
        ],
      },
      {
        email: BOB,
        name: "Bob",
        calendars: [
          { id: BOB, summary: BOB, timeZone: "America/New_York", primary: true },
          { id: SHARED, summary: "Shared", timeZone: "Europe/Berlin", accessRole: "reader" },
        ],
      },
    ],
  };
}

/** A timed event builder: one hour at `start` (UTC text) unless overridden. */
export function anEvent(
  overrides: calendar_v3.Schema$Event & { start?: calendar_v3.Schema$EventDateTime } = {},
  start = "2030-01-07T09:00:00Z",
): calendar_v3.Schema$Event {
  const end = new Date(Date.parse(start) + 3_600_000).toISOString().replace(".000", "");
  return {
    summary: "Meeting",
    start: { dateTime: start },
    end: { dateTime: end },
    ...overrides,
  };
}

export interface Harness extends AsyncDisposable {
  url: string;
  emulator: RunningEmulator;
  /** Calls the admin API with a JSON body; throws on non-2xx. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /**
   * A Calendar client for `email` (tokens from the admin API, issued to TEST_CLIENT unless
   * `clientId` names another), retries off by default.
   */
  api(
    email: string,
    opts?: { scopes?: string[]; retry?: boolean; clientId?: string },
  ): Promise<calendar_v3.Calendar>;
}

/**
 * The emulator's clock in tests: it starts at 2030-01-01T00:00Z and runs at real speed, so events
 * the tests place in 2030 are in the near future whatever day the tests run.
 */
function testClock(start = Date.UTC(2030, 0, 1)): () => number {
  const t0 = Date.now();
  return () => start + (Date.now() - t0);
}

/**
 * Starts an emulator with admin enabled, `seed` (default aSeed()), `now` (the test clock) and
 * any push or purge settings a test needs.
 */
export function startHarness(
  seed: Seed = aSeed(),
  now = testClock(),
  options: Pick<
    EmulatorOptions,
    "maxChannelTtlSeconds" | "push" | "purgeCancelledAfterSeconds"
  > = {},
): Harness {
  const emulator = startEmulator({ port: 0, admin: true, seed, now, ...options });
  const url = emulator.url;
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/__emulator/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    url,
    emulator,
    admin,
    async api(email, opts = {}) {
      const tokens = await admin<{ access_token: string }>("POST", "tokens", {
        email,
        scopes: opts.scopes ?? [FULL_SCOPE],
        clientId: opts.clientId ?? TEST_CLIENT.clientId,
      });
      return calendarClient(url, { access_token: tokens.access_token }, opts.retry ?? false);
    },
    [Symbol.asyncDispose]: () => emulator.close(),
  };
}

/** The real client pointed at the emulator, authorised by an OAuth2Client with `credentials`. */
export function calendarClient(
  url: string,
  credentials: { access_token?: string; refresh_token?: string; expiry_date?: number },
  retry = false,
): calendar_v3.Calendar {
  const auth = new OAuth2Client({
    ...TEST_CLIENT,
    endpoints: { oauth2TokenUrl: `${url}/token`, oauth2RevokeUrl: `${url}/revoke` },
  });
  // An expiry keeps the library from refreshing on 401/403 (notes §4), so errors surface as-is.
  auth.setCredentials({ expiry_date: Date.now() + 3_600_000, ...credentials });
  return calendar({ version: "v3", auth, rootUrl: `${url}/`, retry });
}

/**
 * Inserts into Alice's calendar a weekly series of `count` Mondays at 09:00–09:30 Berlin from
 * 2030-01-07 (08:00Z in winter: instance ids `${id}_203001ddT080000Z`), with `extra` fields.
 */
export async function insertMondaySeries(
  api: calendar_v3.Calendar,
  id: string,
  count: number,
  extra: calendar_v3.Schema$Event = {},
): Promise<void> {
  await api.events.insert({
    calendarId: ALICE,
    requestBody: {
      id,
      start: { dateTime: "2030-01-07T09:00:00", timeZone: "Europe/Berlin" },
      end: { dateTime: "2030-01-07T09:30:00", timeZone: "Europe/Berlin" },
      recurrence: [`RRULE:FREQ=WEEKLY;COUNT=${count}`],
      ...extra,
    },
  });
}

interface ApiFailure {
  status?: number;
  code?: unknown;
  response?: { status: number; headers: Headers | Record<string, string>; data: unknown };
}

/** Awaits a call that must fail and returns its HTTP status, Google reason and raw error. */
export async function failure(
  call: Promise<unknown>,
): Promise<
  { status?: number; reason?: string; error: ApiFailure; body: GoogleErrorBody | undefined }
> {
  try {
    await call;
  } catch (e) {
    const error = e as ApiFailure;
    const body = error.response?.data as GoogleErrorBody | undefined;
    return {
      status: error.response?.status,
      reason: body?.error?.errors?.[0]?.reason,
      error,
      body,
    };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Lists every page of events.list and returns the items plus the final nextSyncToken. */
export async function listAll(
  api: calendar_v3.Calendar,
  params: calendar_v3.Params$Resource$Events$List,
): Promise<{ items: calendar_v3.Schema$Event[]; nextSyncToken: string; pages: number }> {
  const items: calendar_v3.Schema$Event[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  for (;;) {
    const res = await api.events.list({ ...params, pageToken });
    pages++;
    items.push(...res.data.items ?? []);
    if (res.data.nextPageToken) pageToken = res.data.nextPageToken;
    else return { items, nextSyncToken: res.data.nextSyncToken!, pages };
  }
}
