/**
 * The sync scenario suite's world: the real emulator (admin on), a real KV file, the real
 * Google provider with OAuth2Client credentials the emulator issued, and builders that seed a
 * person's calendars and create rules through lib/db/rules.ts. Nothing here stubs the
 * googleapis client or an engine module.
 */
import { OAuth2Client } from "google-auth-library";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { createGoogleProvider } from "../../lib/google/provider.ts";
import { createRetryPolicy } from "../../lib/google/retry_policy.ts";
import { type Connection, saveConnectionGrant } from "../../lib/db/connections.ts";
import { createRule } from "../../lib/db/rules.ts";
import { createGroup } from "../../lib/db/group_changes.ts";
import { replaceCalendars } from "../../lib/db/calendars.ts";
import { type Group, type GroupInput, GroupInputSchema } from "../../lib/model/group.ts";
import { createLogger } from "../../lib/log.ts";
import { type SyncDeps, type SyncOptions, syncUser } from "../../lib/sync/engine.ts";
import type { ApiMeter, CalendarProvider } from "../../lib/sync/provider.ts";
import { type Rule, type RuleInput, RuleInputSchema } from "../../lib/model/rule.ts";
import type { CalendarRef } from "../../lib/model/calendar_ref.ts";
import type { SourceEvent } from "../../lib/model/events.ts";
import { tempKvPath } from "../support/temp_kv.ts";
import { createKeyring, type Keyring } from "../../lib/auth/crypto.ts";
import { sealPassword } from "../../lib/auth/connection_secrets.ts";
import { caldavProviderFor } from "../../lib/caldav/provider.ts";
import { icsProviderFor } from "../../lib/ics/provider.ts";
import type { DavFetch } from "../../lib/caldav/dav_transport.ts";
import { providerByConnection } from "../../lib/providers/by_connection.ts";
import { randomKeyBase64 } from "../../lib/db/settings.ts";

/** The key every world encrypts history titles and CalDAV passwords with (made per process). */
export const TEST_KEY = randomKeyBase64();
export const TEST_KEYRING: Keyring = await createKeyring([TEST_KEY]);

const CLIENT = { clientId: "busysync-test", clientSecret: "busysync-test-secret" };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A raw Google event as the emulator's admin API returns it. */
// deno-lint-ignore no-explicit-any
export type RawEvent = Record<string, any>;

export interface Person {
  userId: string;
  connectionId: string;
  email: string;
  /** The person's calendars by the names they were seeded with. */
  cal: Record<string, CalendarRef>;
}

export type RuleSpec = Omit<Partial<RuleInput>, "filters" | "window"> & {
  source: CalendarRef;
  target: CalendarRef;
  filters?: Partial<RuleInput["filters"]>;
  window?: Partial<RuleInput["window"]>;
};

export type GroupSpec = Omit<Partial<GroupInput>, "members" | "filters" | "window"> & {
  /** Calendars, or members with a privacy of their own. */
  members: (CalendarRef | GroupInput["members"][number])[];
  filters?: Partial<GroupInput["filters"]>;
  window?: Partial<GroupInput["window"]>;
};

let counter = 0;
/** Unique per process, so each test has its own users and calendars in the shared emulator. */
const unique = (name: string) => `${name}${++counter}x${crypto.randomUUID().slice(0, 8)}`;

/** The emulator, a temp KV and the provider; one per test file, closed with `close()`. */
export class World {
  readonly clients = new Map<string, OAuth2Client>();
  /** Every HTTP attempt the provider's policy made (retries included). */
  attempts = 0;
  readonly provider: CalendarProvider;

  private constructor(
    readonly emulator: RunningEmulator,
    readonly kv: Deno.Kv,
    /** The KV file, for another process to open (the crash suite's child). */
    readonly kvPath: string,
    private readonly cleanup: () => Promise<void>,
    options: WorldOptions,
  ) {
    const policy = createRetryPolicy({
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      requestsPerMinute: Infinity,
      baseDelayMs: options.baseDelayMs ?? 2,
      maxDelayMs: 20,
      maxAttempts: options.maxAttempts ?? 12,
      onAttempt: () => this.attempts++,
    });
    this.providerWith = (meter) =>
      createGoogleProvider({
        apiUrl: emulator.url,
        authFor: (connectionId) => {
          const client = this.clients.get(connectionId);
          if (!client) throw new Error(`test world: no connection ${connectionId}`);
          return client;
        },
        policy,
        ...(options.pageSize ? { pageSize: options.pageSize } : {}),
        ...(meter ? { meter } : {}),
      });
    this.provider = this.providerWith();
  }

  /** A provider of this world reporting its requests to `meter` (what a run passes). */
  readonly providerWith: (meter?: ApiMeter) => CalendarProvider;

  /** How runs reach CalDAV servers, once `aCalDavAccount` connected one. */
  private caldavFetch?: DavFetch;

  /** Whether a CalDAV account was connected (another process then needs TEST_KEY). */
  get reachesCalDav(): boolean {
    return this.caldavFetch !== undefined;
  }

  /**
   * Connects `userId` to a CalDAV account (its password sealed as busysync stores it) holding
   * `calendars`, which runs reach through `fetch` (a fault proxy, say); returns the connection id
   * and the calendars' refs in the order given.
   */
  async aCalDavAccount(
    userId: string,
    account: { homeUrl: string; username: string; password: string; fetch: DavFetch },
    calendars: { url: string; timeZone: string }[],
  ): Promise<{ connectionId: string; refs: CalendarRef[] }> {
    this.caldavFetch = account.fetch;
    const connectionId = unique("dav");
    await saveConnectionGrant(this.kv, {
      userId,
      connectionId,
      issuer: "caldav",
      sub: account.homeUrl,
      email: `${account.username} @ ${new URL(account.homeUrl).host}`,
      scopes: [],
      tokens: await sealPassword(TEST_KEYRING, { userId, connectionId }, account.password),
      now: new Date(),
      caldav: {
        serverUrl: account.homeUrl,
        principalUrl: account.homeUrl,
        homeUrl: account.homeUrl,
        username: account.username,
        addresses: [],
      },
    });
    await replaceCalendars(
      this.kv,
      userId,
      connectionId,
      calendars.map((c, i) => ({
        id: c.url,
        summary: `CalDAV ${i + 1}`,
        primary: false,
        accessRole: "owner" as const,
        timeZone: c.timeZone,
      })),
      new Date(),
    );
    return { connectionId, refs: calendars.map((c) => ({ connectionId, calendarId: c.url })) };
  }

  static async start(options: WorldOptions = {}): Promise<World> {
    const emulator = startEmulator({
      port: 0,
      admin: true,
      seed: { clients: [CLIENT], users: [] },
    });
    const { path, cleanup } = await tempKvPath();
    const kv = await Deno.openKv(path);
    return new World(emulator, kv, path, cleanup, options);
  }

  async close(): Promise<void> {
    this.kv.close();
    await this.emulator.close();
    await this.cleanup();
  }

  /** Calls the emulator's admin API; throws on a non-2xx answer. */
  async admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.emulator.url}/__emulator/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Seeds a person: one Google account (one busysync connection) owning calendars named as
   * given, each in its zone (default UTC), and a busysync user id. `events` are seeded into
   * the calendars of those names in one call, far faster than adding them one by one.
   */
  async aPerson(
    calendars: Record<string, string>,
    events: Record<string, RawEvent[]> = {},
  ): Promise<Person> {
    const email = `${unique("p")}@example.com`;
    const cal: Record<string, CalendarRef> = {};
    const connectionId = unique("conn");
    const seeded = Object.entries(calendars).map(([name, timeZone], i) => {
      const id = i === 0 ? email : `${unique(name)}@group.calendar.google.com`;
      cal[name] = { connectionId, calendarId: id };
      return {
        id,
        summary: name,
        timeZone,
        ...(i === 0 ? { primary: true } : {}),
        ...(events[name] ? { events: events[name] } : {}),
      };
    });
    await this.admin("POST", "seed", {
      users: [{ email, name: email, calendars: seeded }],
    });
    const tokens = await this.admin<
      { access_token: string; refresh_token: string; expires_in: number }
    >("POST", "tokens", { email, clientId: CLIENT.clientId });
    const client = new OAuth2Client({
      ...CLIENT,
      endpoints: { oauth2TokenUrl: `${this.emulator.url}/token` },
    });
    client.setCredentials({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      // With an expiry the library never refreshes on a 403 rate limit (PLATFORM.md).
      expiry_date: Date.now() + tokens.expires_in * 1000,
    });
    this.clients.set(connectionId, client);
    return { userId: unique("user"), connectionId, email, cal };
  }

  /**
   * What another process needs to act for a connection: the OAuth client and the tokens the
   * emulator issued (for the crash suite's child process).
   */
  grantOf(connectionId: string) {
    const client = this.clients.get(connectionId);
    if (!client) throw new Error(`test world: no connection ${connectionId}`);
    const { access_token, refresh_token, expiry_date } = client.credentials;
    return {
      ...CLIENT,
      accessToken: access_token!,
      refreshToken: refresh_token!,
      expiryDate: expiry_date!,
    };
  }

  /**
   * Stores the person's busysync connection, which names their Google account (issuer, sub):
   * what the engine keys creation budgets and write pauses by. The world's provider holds its
   * own OAuth client, so the stored token is never read.
   */
  connect(p: Person): Promise<Connection> {
    return saveConnectionGrant(this.kv, {
      userId: p.userId,
      connectionId: p.connectionId,
      issuer: this.emulator.url,
      sub: `sub-${p.email}`,
      email: p.email,
      scopes: ["https://www.googleapis.com/auth/calendar"],
      tokens: { refresh: "unused" },
      now: new Date(),
    });
  }

  /** Creates a rule through lib/db/rules.ts, with every default unless overridden. */
  async aRule(person: Person, spec: RuleSpec): Promise<Rule> {
    const input = RuleInputSchema.parse({ name: "Test rule", ...spec });
    return (await createRule(this.kv, person.userId, input, { now: new Date() })).rule;
  }

  /** Creates a group through lib/db/group_changes.ts, with every default unless overridden. */
  async aGroup(person: Person, spec: GroupSpec): Promise<Group> {
    const input = GroupInputSchema.parse({
      name: "Test group",
      ...spec,
      members: spec.members.map((m) => "calendarId" in m ? { calendar: m } : m),
    });
    return (await createGroup(this.kv, person.userId, input, { now: new Date() })).group;
  }

  /** Caches the person's calendars as a calendar-list refresh would, with these access roles. */
  async cacheCalendars(person: Person, roles: Record<string, "reader" | "writer" | "owner">) {
    await this.connect(person);
    const calendars = Object.entries(person.cal).map(([name, ref]) => ({
      id: ref.calendarId,
      summary: name,
      primary: ref.calendarId === person.email,
      accessRole: roles[name] ?? "owner",
      timeZone: "UTC",
    }));
    await replaceCalendars(this.kv, person.userId, person.connectionId, calendars, new Date());
  }

  /** Runs the engine for `person` against this world. */
  sync(person: Person, opts: Partial<SyncOptions> = {}) {
    return syncUser({ ...this.syncDeps(person), trigger: "manual", ...opts });
  }

  /** The engine's dependencies for `person` in this world. */
  syncDeps(person: Person): SyncDeps {
    return {
      kv: this.kv,
      userId: person.userId,
      providerFor: (_connectionId, meter) => {
        const google = this.providerWith(meter);
        if (!this.caldavFetch) return google;
        const caldav = caldavProviderFor({
          kv: this.kv,
          keyring: TEST_KEYRING,
          fetch: this.caldavFetch,
          now: () => new Date(),
          meter,
          // Retries as production makes them, a hundred times sooner.
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / 100)),
        }, person.userId);
        // The world has no feeds: a feed's provider is there because every kind needs one.
        const ics = icsProviderFor({ kv: this.kv, keyring: TEST_KEYRING, fetch }, person.userId);
        return providerByConnection(this.kv, person.userId, { google, caldav, ics });
      },
      clock: () => new Date(),
      keyring: TEST_KEYRING,
      config: {
        deleteGuard: { percent: 20, min: 10 },
        historyMaxRuns: 50,
        historyMaxDays: 7,
        accountLimits: { createsPerDay: Infinity, pauseHours: 6 },
      },
      log: createLogger("error", () => {}),
    };
  }

  /** A source event as the provider reads it (from a full listing of the next 60 days). */
  async sourceEvent(cal: CalendarRef, id: string): Promise<SourceEvent> {
    const window = { start: new Date(Date.now() - DAY), end: new Date(Date.now() + 60 * DAY) };
    const listing = await this.provider.listChanges(cal, null, window);
    for await (const page of listing.pages) {
      const found = page.events.find((e) => e.id === id);
      if (found) return found;
    }
    throw new Error(`test world: no event ${id}`);
  }

  /** Every event of a calendar as stored, cancelled ones included. */
  async rawEvents(cal: CalendarRef): Promise<RawEvent[]> {
    const path = `calendars/${encodeURIComponent(cal.calendarId)}/events`;
    return (await this.admin<{ items: RawEvent[] }>("GET", path)).items;
  }

  /** The live events of a calendar, ordered by start. */
  async events(cal: CalendarRef): Promise<RawEvent[]> {
    const live = (await this.rawEvents(cal)).filter((e) => e.status !== "cancelled");
    return live.sort((a, b) => startOf(a) - startOf(b));
  }

  /** The live busysync mirrors in a calendar. */
  async mirrors(cal: CalendarRef): Promise<RawEvent[]> {
    return (await this.events(cal)).filter((e) => e.extendedProperties?.private?.busysync === "1");
  }

  /** Adds an event as the calendar's owner would. */
  addEvent(cal: CalendarRef, body: RawEvent): Promise<RawEvent> {
    return this.admin("POST", `calendars/${encodeURIComponent(cal.calendarId)}/events`, body);
  }

  patchEvent(cal: CalendarRef, id: string, body: RawEvent): Promise<RawEvent> {
    const path = `calendars/${encodeURIComponent(cal.calendarId)}/events/${id}`;
    return this.admin("PATCH", path, body);
  }

  async deleteEvent(cal: CalendarRef, id: string): Promise<void> {
    await this.admin("DELETE", `calendars/${encodeURIComponent(cal.calendarId)}/events/${id}`);
  }

  /** Calendar API calls by method since the last reset, and resets the counts. */
  async takeRequests(): Promise<Record<string, number>> {
    const { counts } = await this.admin<{ counts: Record<string, number> }>("GET", "requests");
    await this.admin("DELETE", "requests");
    return counts;
  }
}

function startOf(e: RawEvent): number {
  return Date.parse(e.start?.dateTime ?? e.start?.date ?? "");
}

/** A timed event body `hours` from now (rounded to the hour), lasting one hour. */
export function timed(hours: number, extra: RawEvent = {}, durationHours = 1): RawEvent {
  const start = Math.ceil(Date.now() / HOUR) * HOUR + hours * HOUR;
  return {
    summary: "Meeting",
    start: { dateTime: new Date(start).toISOString() },
    end: { dateTime: new Date(start + durationHours * HOUR).toISOString() },
    ...extra,
  };
}

/** The summaries of events, for short assertions. */
export const summaries = (events: RawEvent[]) => events.map((e) => e.summary);

/** Writes (insert, patch, update, delete) among counted requests. */
export function writesIn(counts: Record<string, number>): number {
  return ["events.insert", "events.patch", "events.update", "events.delete"]
    .reduce((n, m) => n + (counts[m] ?? 0), 0);
}

/** How a world's provider retries and pages. */
export interface WorldOptions {
  baseDelayMs?: number;
  maxAttempts?: number;
  /** Events per listing page (the provider's default: Google's maximum, 2,500). */
  pageSize?: number;
}

/** Starts a world for a test file and closes it when `fn` is done. */
export async function withWorld(
  fn: (world: World) => Promise<void>,
  options: WorldOptions = {},
): Promise<void> {
  const world = await World.start(options);
  try {
    await fn(world);
  } finally {
    await world.close();
  }
}
