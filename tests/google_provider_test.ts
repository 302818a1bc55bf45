/**
 * The Google provider against the emulator over HTTP, through the real googleapis client and
 * google-auth-library: listings, idempotent mirror writes, error mapping, retries under injected
 * faults and the request budget. Time is fake (backoff and budget waits are recorded, not slept).
 */
import assert from "node:assert/strict";
import type { calendar_v3 } from "@googleapis/calendar";
import { OAuth2Client } from "google-auth-library";
import { startEmulator } from "../emulator/server.ts";
import type { Seed } from "../emulator/seed.ts";
import { createGoogleProvider } from "../lib/google/provider.ts";
import { GoogleApiError, statusOf } from "../lib/google/google_errors.ts";
import {
  type AttemptReport,
  createRetryPolicy,
  type RetryPolicy,
  type RetryPolicyOptions,
} from "../lib/google/retry_policy.ts";
import { deriveMirrorId, type Marker, MARKER_KEYS, markerProps } from "../lib/sync/marker.ts";
import {
  AccountWritesRefusedError,
  CalendarNotFoundError,
  type CalendarProvider,
  type ChangeListing,
  type ChangePage,
  type MarkedEvent,
  MirrorConflictError,
  MirrorIdRetiredError,
  ProviderUnavailableError,
  ReconnectRequiredError,
  type Written,
} from "../lib/sync/provider.ts";
import type { TimeWindow } from "../lib/model/time_window.ts";
import type { CalendarRef } from "../lib/model/calendar_ref.ts";
import type { Mirror } from "../lib/model/events.ts";
import { createFakeTime, type FakeTime } from "./support/fake_time.ts";

const CLIENT = { clientId: "busysync-test", clientSecret: "test-secret" };
const ALICE = "alice@example.com";
const BOB = "bob@example.com";
const SOURCE = "source0cal@group.calendar.google.com";
const TARGET = "target0cal@group.calendar.google.com";
const TARGET_B = "target1cal@group.calendar.google.com";
const SHARED = "shared0cal@group.calendar.google.com";

const source: CalendarRef = { connectionId: "alice", calendarId: SOURCE };
const target: CalendarRef = { connectionId: "alice", calendarId: TARGET };
const targetB: CalendarRef = { connectionId: "alice", calendarId: TARGET_B };
const WINDOW: TimeWindow = {
  start: new Date("2030-01-01T00:00:00Z"),
  end: new Date("2030-03-01T00:00:00Z"),
};

/** A one-hour timed event as a seed or a user would write it. */
function timed(id: string, summary: string, start: string): calendar_v3.Schema$Event {
  const end = new Date(Date.parse(start) + 3_600_000).toISOString();
  return { id, summary, start: { dateTime: start }, end: { dateTime: end } };
}

/** `n` events, one a day from 2030-01-02 09:00Z, ids evt000, evt001, ... */
function dailyEvents(n: number): calendar_v3.Schema$Event[] {
  return Array.from({ length: n }, (_, i) => {
    const day = new Date(Date.parse("2030-01-02T09:00:00Z") + i * 86_400_000).toISOString();
    return timed(`evt${String(i).padStart(3, "0")}`, `Meeting ${i}`, day);
  });
}

function aSeed(sourceEvents: calendar_v3.Schema$Event[] = []): Seed {
  return {
    clients: [CLIENT],
    users: [
      {
        email: ALICE,
        name: "Alice",
        calendars: [
          { id: ALICE, summary: ALICE, timeZone: "Europe/Berlin", primary: true },
          {
            id: SOURCE,
            summary: "Source",
            timeZone: "Europe/Berlin",
            events: sourceEvents as Record<string, unknown>[],
          },
          { id: TARGET, summary: "Target", timeZone: "America/New_York" },
          { id: TARGET_B, summary: "Target B", timeZone: "America/New_York" },
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

interface Setup extends AsyncDisposable {
  url: string;
  provider: CalendarProvider;
  time: FakeTime;
  attempts: AttemptReport[];
  auth: Record<"alice" | "bob", OAuth2Client>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  rawEvents(calendarId: string): Promise<calendar_v3.Schema$Event[]>;
  requests(): Promise<{ counts: Record<string, number>; total: number }>;
}

interface SetupOptions {
  seed?: Seed;
  pageSize?: number;
  timeoutMs?: number;
  policy?: Partial<RetryPolicyOptions>;
  /** Wraps the policy, for tests that must act between two API calls. */
  wrapPolicy?: (policy: RetryPolicy, setup: Pick<Setup, "admin">) => RetryPolicy;
}

async function setup(opts: SetupOptions = {}): Promise<Setup> {
  const emulator = startEmulator({ port: 0, admin: true, seed: opts.seed ?? aSeed() });
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
  const authFor = async (email: string) => {
    const tokens = await admin<{ access_token: string; refresh_token: string }>("POST", "tokens", {
      email,
      clientId: CLIENT.clientId,
    });
    const auth = new OAuth2Client({ ...CLIENT, endpoints: { oauth2TokenUrl: `${url}/token` } });
    // An expiry_date is essential: without one, google-auth-library treats every 403 (rate
    // limits included) as an auth failure and refreshes before replaying (notes §4, [GAL]), so
    // an emulated rateLimitExceeded would also cost a token refresh.
    auth.setCredentials({ ...tokens, expiry_date: Date.now() + 3_600_000 });
    return auth;
  };
  const auth = { alice: await authFor(ALICE), bob: await authFor(BOB) };
  const time = createFakeTime();
  const attempts: AttemptReport[] = [];
  const policy = createRetryPolicy({
    now: time.now,
    sleep: time.sleep,
    random: () => 0.5,
    requestsPerMinute: Infinity,
    onAttempt: (r) => attempts.push(r),
    ...opts.policy,
  });
  const provider = createGoogleProvider({
    apiUrl: url,
    authFor: (connectionId) => auth[connectionId as "alice" | "bob"],
    policy: opts.wrapPolicy?.(policy, { admin }) ?? policy,
    pageSize: opts.pageSize,
    timeoutMs: opts.timeoutMs,
  });
  return {
    url,
    provider,
    time,
    attempts,
    auth,
    admin,
    rawEvents: async (calendarId) =>
      (await admin<{ items: calendar_v3.Schema$Event[] }>(
        "GET",
        `calendars/${encodeURIComponent(calendarId)}/events`,
      )).items,
    requests: () => admin("GET", "requests"),
    [Symbol.asyncDispose]: () => emulator.close(),
  };
}

async function collect(listing: ChangeListing): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of listing.pages) pages.push(page);
  return pages;
}

const ids = (pages: ChangePage[]) => pages.flatMap((p) => p.events.map((e) => e.id)).sort();
const cursorOf = (pages: ChangePage[]) => pages.at(-1)!.cursor!;

/** A mirror of `sourceEvent` (a busy block) and its deterministic id. */
function aMirror(sourceEvent: string, overrides: Partial<Mirror> = {}) {
  const marker: Marker = {
    ruleId: "rule1",
    sourceCalendar: `alice:${SOURCE}`,
    sourceEvent,
    generation: 0,
  };
  const mirror: Mirror = {
    summary: "Busy",
    start: { dateTime: "2030-01-07T09:00:00+01:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2030-01-07T10:00:00+01:00", timeZone: "Europe/Berlin" },
    transparency: "opaque",
    visibility: "private",
    reminders: "none",
    privateProps: markerProps(marker),
    ...overrides,
  };
  return { id: deriveMirrorId(marker), mirror };
}

/** What a user would see of the events in a calendar, for comparing end states. */
function visible(events: calendar_v3.Schema$Event[]) {
  return events.map((e) => ({
    id: e.id,
    status: e.status,
    summary: e.summary,
    start: e.start,
    end: e.end,
    transparency: e.transparency ?? "opaque",
    visibility: e.visibility,
    reminders: e.reminders,
    marker: e.extendedProperties?.private,
  })).sort((a, b) => a.id!.localeCompare(b.id!));
}

Deno.test("google provider: a full listing pages through the window, fetching pages as read, with the cursor only on the last", async () => {
  const outside = timed("late001", "Outside the window", "2030-06-01T09:00:00Z");
  await using s = await setup({ seed: aSeed([...dailyEvents(5), outside]), pageSize: 2 });
  const listing = await s.provider.listChanges(source, null, WINDOW);
  assert.equal(listing.full, true);
  assert.equal((await s.requests()).counts["events.list"], 1, "only the first page is fetched");
  const pages = await collect(listing);
  assert.equal((await s.requests()).counts["events.list"], 3);
  assert.deepEqual(pages.map((p) => p.events.length), [2, 2, 1]);
  assert.deepEqual(pages.map((p) => p.cursor !== undefined), [false, false, true]);
  assert.deepEqual(ids(pages), ["evt000", "evt001", "evt002", "evt003", "evt004"]);
  const first = pages[0].events[0];
  assert.ok(first.status === "confirmed");
  assert.deepEqual([first.summary, first.start], ["Meeting 0", {
    dateTime: "2030-01-02T10:00:00+01:00",
  }]);
});

Deno.test("google provider: an incremental listing returns only the changes, a deletion as a cancelled tombstone", async () => {
  await using s = await setup({ seed: aSeed(dailyEvents(3)) });
  const cursor = cursorOf(await collect(await s.provider.listChanges(source, null, WINDOW)));
  await s.admin("PATCH", `calendars/${SOURCE}/events/evt000`, { summary: "Renamed" });
  await s.admin("DELETE", `calendars/${SOURCE}/events/evt001`);

  const listing = await s.provider.listChanges(source, cursor, WINDOW);
  assert.equal(listing.full, false);
  const pages = await collect(listing);
  const byId = new Map(pages.flatMap((p) => p.events).map((e) => [e.id, e]));
  assert.deepEqual([...byId.keys()].sort(), ["evt000", "evt001"]);
  assert.equal((byId.get("evt000") as { summary?: string }).summary, "Renamed");
  assert.deepEqual(byId.get("evt001"), { id: "evt001", status: "cancelled" });

  const next = await collect(await s.provider.listChanges(source, cursorOf(pages), WINDOW));
  assert.deepEqual(ids(next), [], "a cursor from the last page continues after the changes");
});

Deno.test("google provider: an expired cursor (410 fullSyncRequired) falls back to a full listing", async () => {
  await using s = await setup({ seed: aSeed(dailyEvents(3)) });
  const cursor = cursorOf(await collect(await s.provider.listChanges(source, null, WINDOW)));
  await s.admin("POST", "sync-tokens/invalidate", { calendarId: SOURCE });
  const listing = await s.provider.listChanges(source, cursor, WINDOW);
  assert.equal(listing.full, true);
  const pages = await collect(listing);
  assert.deepEqual(ids(pages), ["evt000", "evt001", "evt002"]);
  assert.ok(cursorOf(pages));
});

Deno.test("google provider: a 410 on a later page of an incremental listing restarts cleanly as a full listing", async () => {
  let invalidateAfterNextCall = false;
  await using s = await setup({
    seed: aSeed(dailyEvents(4)),
    pageSize: 1,
    // Invalidates the source's tokens right after the next call: page 1 of the incremental
    // listing succeeds, page 2 meets the 410.
    wrapPolicy: (policy, { admin }) => ({
      requestsInLastMinute: (connectionId) => policy.requestsInLastMinute(connectionId),
      async run(connectionId, call) {
        const result = await policy.run(connectionId, call);
        if (invalidateAfterNextCall) {
          invalidateAfterNextCall = false;
          await admin("POST", "sync-tokens/invalidate", { calendarId: SOURCE });
        }
        return result;
      },
    }),
  });
  const cursor = cursorOf(await collect(await s.provider.listChanges(source, null, WINDOW)));
  for (const id of ["evt000", "evt001", "evt002"]) {
    await s.admin("PATCH", `calendars/${SOURCE}/events/${id}`, { summary: `Changed ${id}` });
  }
  await s.admin("DELETE", "requests");
  invalidateAfterNextCall = true;

  const listing = await s.provider.listChanges(source, cursor, WINDOW);
  assert.equal(listing.full, true, "no half change set labelled incremental");
  const pages = await collect(listing);
  assert.deepEqual(ids(pages), ["evt000", "evt001", "evt002", "evt003"]);
  assert.ok(pages.flatMap((p) => p.events).every((e) => e.status === "confirmed"));
  // Two incremental pages (the second refused), then four full pages of one event each.
  assert.equal((await s.requests()).counts["events.list"], 2 + 4);
});

Deno.test("google provider: a recurring series is listed as instances, moved ones moved, cancelled ones left out", async () => {
  const SERIES = "series01";
  // Mondays 09:00 Berlin (08:00Z in winter): Jan 7, 14, 21, 28 2030.
  const instance = (day: string) => `${SERIES}_203001${day}T080000Z`;
  await using s = await setup({
    seed: aSeed([{
      id: SERIES,
      summary: "Weekly",
      start: { dateTime: "2030-01-07T09:00:00", timeZone: "Europe/Berlin" },
      end: { dateTime: "2030-01-07T09:30:00", timeZone: "Europe/Berlin" },
      recurrence: ["RRULE:FREQ=WEEKLY;COUNT=4"],
    }]),
  });
  await s.admin("PATCH", `calendars/${SOURCE}/events/${instance("14")}`, {
    start: { dateTime: "2030-01-15T14:00:00+01:00" },
    end: { dateTime: "2030-01-15T14:30:00+01:00" },
  });
  await s.admin("DELETE", `calendars/${SOURCE}/events/${instance("21")}`);

  const pages = await collect(await s.provider.listChanges(source, null, WINDOW));
  const events = pages.flatMap((p) => p.events);
  assert.deepEqual(events.map((e) => e.id).sort(), [
    instance("07"),
    instance("14"),
    instance("28"),
  ]);
  const moved = events.find((e) => e.id === instance("14"))!;
  assert.ok(moved.status === "confirmed");
  assert.equal(moved.recurringEventId, SERIES);
  assert.equal(
    Date.parse((moved.start as { dateTime: string }).dateTime),
    Date.parse("2030-01-15T13:00:00Z"),
  );
  assert.equal(
    Date.parse((moved.originalStartTime as { dateTime: string }).dateTime),
    Date.parse("2030-01-14T08:00:00Z"),
  );

  await s.admin("DELETE", `calendars/${SOURCE}/events/${instance("28")}`);
  const changes = await collect(await s.provider.listChanges(source, cursorOf(pages), WINDOW));
  const [tombstone, ...rest] = changes.flatMap((p) => p.events);
  assert.deepEqual(rest, []);
  assert.equal(tombstone.id, instance("28"));
  assert.equal(tombstone.status, "cancelled");
  assert.equal(tombstone.recurringEventId, SERIES);
  assert.equal(
    Date.parse((tombstone.originalStartTime as { dateTime: string }).dateTime),
    Date.parse("2030-01-28T08:00:00Z"),
  );
});

/** What a write says it did, without the event it answered with. */
const said = (w: Written) => ({ id: w.id, outcome: w.outcome });

Deno.test("google provider: putMirror creates a busy, silent, marked event without guests", async () => {
  await using s = await setup();
  const { id, mirror } = aMirror("evt000", { location: "Room 1" });
  assert.deepEqual(said(await s.provider.putMirror(target, id, mirror)), {
    id,
    outcome: "created",
  });
  const [event, ...others] = await s.rawEvents(TARGET);
  assert.deepEqual(others, []);
  assert.equal(event.id, id);
  assert.equal(event.status, "confirmed");
  assert.equal(event.summary, "Busy");
  assert.equal(event.location, "Room 1");
  assert.equal(event.transparency ?? "opaque", "opaque");
  assert.equal(event.visibility, "private");
  assert.equal(event.reminders?.useDefault, false);
  assert.deepEqual(event.reminders?.overrides ?? [], []);
  assert.deepEqual(event.extendedProperties?.private, mirror.privateProps);
  assert.equal(event.attendees, undefined);
  assert.equal(event.conferenceData, undefined);
});

Deno.test("google provider: putMirror after a crash (our mirror already there) patches it, with no duplicate", async () => {
  await using s = await setup();
  const { id, mirror } = aMirror("evt000", { description: "from the source", location: "Room 1" });
  await s.provider.putMirror(target, id, mirror);
  // The rerun wants an all-day block with no details: the patch must clear and switch fields.
  const desired = {
    ...aMirror("evt000").mirror,
    start: { date: "2030-01-07" },
    end: { date: "2030-01-08" },
  };
  assert.deepEqual(said(await s.provider.putMirror(target, id, desired)), {
    id,
    outcome: "patched",
  });
  const events = await s.rawEvents(TARGET);
  assert.equal(events.length, 1);
  assert.equal(events[0].description, undefined);
  assert.equal(events[0].location, undefined);
  assert.deepEqual(events[0].start, { date: "2030-01-07" });
  assert.deepEqual(events[0].end, { date: "2030-01-08" });
});

Deno.test("google provider: putMirror of a deleted mirror restores it (409 on a cancelled id)", async () => {
  await using s = await setup();
  const { id, mirror } = aMirror("evt000");
  await s.provider.putMirror(target, id, mirror);
  await s.provider.deleteMirror(target, id);
  assert.equal((await s.rawEvents(TARGET))[0].status, "cancelled");
  const restored = await s.provider.putMirror(target, id, { ...mirror, summary: "Busy again" });
  assert.deepEqual(said(restored), { id, outcome: "restored" });
  const events = await s.rawEvents(TARGET);
  assert.deepEqual(events.map((e) => [e.id, e.status, e.summary]), [[
    id,
    "confirmed",
    "Busy again",
  ]]);
});

Deno.test("google provider: putMirror of a known mirror costs one patch, and still recreates or restores one that vanished", async () => {
  await using s = await setup();
  const { id, mirror } = aMirror("evt000");
  await s.provider.putMirror(target, id, mirror);
  await s.admin("DELETE", "requests");
  const moved = { ...mirror, summary: "Busy (moved)" };
  assert.deepEqual(said(await s.provider.putMirror(target, id, moved, { existing: true })), {
    id,
    outcome: "patched",
  });
  assert.deepEqual((await s.requests()).counts, { "events.patch": 1 });
  // Deleted by hand: the patch (status confirmed) brings it back in the same one call.
  await s.provider.deleteMirror(target, id);
  await s.provider.putMirror(target, id, mirror, { existing: true });
  assert.deepEqual(
    (await s.rawEvents(TARGET)).map((e) => [e.id, e.status, e.summary]),
    [[id, "confirmed", "Busy"]],
  );
  // Never there (the ledger outlived the calendar's copy): 404 on the patch, then an insert.
  const other = aMirror("evt001");
  assert.deepEqual(
    said(await s.provider.putMirror(target, other.id, other.mirror, { existing: true })),
    { id: other.id, outcome: "created" },
  );
  assert.equal((await s.rawEvents(TARGET)).length, 2);
});

Deno.test("google provider: an id Google keeps reserved (purged, or deleted by its owner) is MirrorIdRetiredError on every path", async (t) => {
  await using s = await setup();
  const retired = (e: unknown) => {
    assert.ok(e instanceof MirrorIdRetiredError, String(e));
    return true;
  };
  await t.step("purged: insert 409, get 404", async () => {
    const { id, mirror } = aMirror("evt100");
    await s.provider.putMirror(target, id, mirror);
    await s.provider.deleteMirror(target, id);
    await s.admin("POST", "purge", { calendarId: TARGET });
    await s.admin("DELETE", "requests");
    await assert.rejects(s.provider.putMirror(target, id, mirror), retired);
    assert.deepEqual((await s.requests()).counts, { "events.insert": 1, "events.get": 1 });
    // Known to the ledger: patch 404, insert 409, get 404.
    await assert.rejects(s.provider.putMirror(target, id, mirror, { existing: true }), retired);
  });
  await t.step("deleted by its owner in the web UI: the restoring patch answers 403", async () => {
    const { id, mirror } = aMirror("evt101");
    await s.provider.putMirror(target, id, mirror);
    await s.admin("DELETE", `calendars/${TARGET}/events/${id}`);
    await assert.rejects(s.provider.putMirror(target, id, mirror, { existing: true }), retired);
    await assert.rejects(s.provider.putMirror(target, id, mirror), retired);
  });
});

Deno.test("google provider: putMirror onto a user's event with that id refuses with a typed conflict and leaves it alone", async () => {
  await using s = await setup();
  const { id, mirror } = aMirror("evt000");
  await s.admin(
    "POST",
    `calendars/${TARGET}/events`,
    timed(id, "My own event", "2030-01-07T12:00:00Z"),
  );
  await assert.rejects(s.provider.putMirror(target, id, mirror), (e) => {
    assert.ok(e instanceof MirrorConflictError);
    assert.deepEqual([e.cal, e.eventId], [target, id]);
    return true;
  });
  const [event] = await s.rawEvents(TARGET);
  assert.equal(event.summary, "My own event");
  assert.equal(event.extendedProperties, undefined);
});

Deno.test("google provider: deleting a mirror twice, or one never written, is done without error and says it was gone", async () => {
  await using s = await setup();
  const { id, mirror } = aMirror("evt000");
  await s.provider.putMirror(target, id, mirror);
  assert.equal(await s.provider.deleteMirror(target, id), "deleted");
  assert.equal(await s.provider.deleteMirror(target, id), "already_gone"); // 410 deleted
  assert.equal(await s.provider.deleteMirror(target, aMirror("never").id), "already_gone"); // 404
  assert.deepEqual((await s.rawEvents(TARGET)).map((e) => e.status), ["cancelled"]);
  assert.ok(s.attempts.every((a) => a.outcome !== "retry"));
});

Deno.test("google provider: a calendar the account cannot see is CalendarNotFoundError for reads and writes", async () => {
  await using s = await setup();
  const gone: CalendarRef = { connectionId: "alice", calendarId: BOB };
  await assert.rejects(s.provider.listChanges(gone, null, WINDOW), CalendarNotFoundError);
  await assert.rejects(s.provider.listChanges(gone, "some-cursor", WINDOW), CalendarNotFoundError);
  const { id, mirror } = aMirror("evt000");
  await assert.rejects(s.provider.putMirror(gone, id, mirror), (e) => {
    assert.ok(e instanceof CalendarNotFoundError);
    assert.deepEqual(e.cal, gone);
    return true;
  });
  await assert.rejects(
    (async () => {
      for await (const _ of s.provider.listMarked(gone, MARKER_KEYS.flag, "1")) { /* none */ }
    })(),
    CalendarNotFoundError,
  );
  assert.ok(s.attempts.every((a) => a.attempt === 1), "a 404 is never retried");
});

Deno.test("google provider: Calendar usage limits refuse the account's writes at once; a spent daily quota is not retried", async (t) => {
  await t.step(
    "403 quotaExceeded is AccountWritesRefusedError, for inserts and patches",
    async () => {
      await using s = await setup();
      await s.admin("POST", "usage-limits", { createsPerDay: 1 });
      const first = aMirror("evt000");
      await s.provider.putMirror(target, first.id, first.mirror);
      const second = aMirror("evt001");
      await assert.rejects(s.provider.putMirror(targetB, second.id, second.mirror), (e) => {
        assert.ok(e instanceof AccountWritesRefusedError, String(e));
        assert.equal(e.connectionId, "alice");
        assert.match(e.message, /read-only/);
        return true;
      });
      const moved = { ...first.mirror, summary: "Moved" };
      await assert.rejects(
        s.provider.putMirror(target, first.id, moved, { existing: true }),
        AccountWritesRefusedError,
      );
      assert.ok(s.attempts.every((a) => a.outcome !== "retry"), "a usage limit is never retried");
    },
  );

  await t.step("403 rateLimitExceeded saying Queries per day fails once, in words", async () => {
    await using s = await setup();
    await s.admin("POST", "faults", { method: "events.list", fault: "queriesPerDay" });
    const list = async () => await collect(await s.provider.listChanges(target, null, WINDOW));
    await assert.rejects(list(), (e) => {
      assert.ok(e instanceof ProviderUnavailableError, String(e));
      assert.match(e.message, /daily request quota/);
      return true;
    });
    assert.deepEqual(s.attempts.map((a) => a.outcome), ["failed"]);
  });
});

Deno.test("google provider: a revoked grant is ReconnectRequiredError, whether the access token or the refresh fails", async (t) => {
  await t.step("the access token is refused (401)", async () => {
    await using s = await setup();
    await s.admin("POST", "tokens/revoke", { email: ALICE });
    await s.admin("POST", "tokens/expire");
    await assert.rejects(s.provider.listCalendars("alice"), (e) => {
      assert.ok(e instanceof ReconnectRequiredError);
      assert.equal(e.connectionId, "alice");
      return true;
    });
    assert.deepEqual(s.attempts.map((a) => a.outcome), ["failed"]);
  });

  await t.step("the refresh is refused (invalid_grant)", async () => {
    await using s = await setup();
    await s.admin("POST", "tokens/revoke", { email: ALICE });
    s.auth.alice.setCredentials({ ...s.auth.alice.credentials, expiry_date: Date.now() - 1_000 });
    const { id, mirror } = aMirror("evt000");
    await assert.rejects(s.provider.putMirror(target, id, mirror), (e) => {
      assert.ok(e instanceof ReconnectRequiredError);
      assert.match(e.message, /invalid_grant/);
      return true;
    });
    assert.deepEqual((await s.requests()).counts, {}, "no Calendar call was made");
  });
});

Deno.test("google provider: under 30% mixed faults a full listing and 50 puts end as they do without faults, retries counted", async () => {
  await using s = await setup({ seed: aSeed(dailyEvents(40)), pageSize: 7 });
  let refreshes = 0;
  s.auth.alice.on("tokens", () => refreshes++);
  const puts = Array.from({ length: 50 }, (_, i) => aMirror(`evt${i}`, { summary: `Busy ${i}` }));
  const putAll = async (cal: CalendarRef) => {
    // Five at a time, as an engine applying a page of changes might.
    for (let i = 0; i < puts.length; i += 5) {
      await Promise.all(
        puts.slice(i, i + 5).map(({ id, mirror }) => s.provider.putMirror(cal, id, mirror)),
      );
    }
  };

  const calm = ids(await collect(await s.provider.listChanges(source, null, WINDOW)));
  await putAll(target);

  // Four rules of 8.5% each, tried in order: 1 - 0.915^4 ≈ 30% of calls fail.
  await s.admin("POST", "faults", [
    { fault: "rateLimitExceeded", percent: 8.5, seed: 11 },
    { fault: "tooManyRequests", percent: 8.5, seed: 12, retryAfterSeconds: 2 },
    { fault: "backendError", percent: 8.5, seed: 13 },
    { fault: "connectionReset", percent: 8.5, seed: 14 },
  ]);
  await s.admin("DELETE", "requests");
  s.attempts.length = 0;

  const stormy = ids(await collect(await s.provider.listChanges(source, null, WINDOW)));
  await putAll(targetB);
  await s.admin("DELETE", "faults");

  assert.deepEqual(stormy, calm);
  assert.equal(stormy.length, 40);
  assert.deepEqual(visible(await s.rawEvents(TARGET_B)), visible(await s.rawEvents(TARGET)));
  assert.equal((await s.rawEvents(TARGET_B)).length, 50);

  const retries = s.attempts.filter((a) => a.outcome === "retry").length;
  const { total } = await s.requests();
  assert.ok(retries >= 10, `expected a storm, saw ${retries} retries`);
  assert.equal(total, s.attempts.length, "every request the emulator saw went through the policy");
  // An insert without an answer is not retried blindly but looked up (a get that may answer
  // 404) and sent again: those are the only attempts that end as failed.
  const failed = s.attempts.filter((a) => a.outcome === "failed").map((a) => statusOf(a.error));
  assert.ok(
    failed.every((status) =>
      status === undefined || status === 503 || status === 500 ||
      status === 404
    ),
    JSON.stringify(failed),
  );
  const after429 = s.attempts.filter((a) => a.outcome === "retry" && statusOf(a.error) === 429);
  assert.ok(after429.length > 0);
  assert.ok(after429.every((a) => a.delayMs! >= 2_000), "each 429's Retry-After was waited for");
  assert.equal(refreshes, 0, "403 rate limits caused no token refresh");
});

Deno.test("google provider: Retry-After is honoured before retrying", async () => {
  await using s = await setup({ policy: { random: () => 0 } });
  await s.admin("POST", "faults", {
    method: "events.insert",
    fault: "tooManyRequests",
    times: 1,
    retryAfterSeconds: 7,
  });
  const { id, mirror } = aMirror("evt000");
  assert.equal((await s.provider.putMirror(target, id, mirror)).outcome, "created");
  assert.deepEqual(s.time.delays, [7_000]);
});

Deno.test("google provider: a dropped connection or a timeout is retried; an unanswered insert is looked up before it is sent again", async () => {
  // A timeout far above a healthy call's time, even on a CI machine busy with other tests (at
  // 100 ms an ordinary call sometimes timed out there too), and a delay far above the timeout.
  await using s = await setup({ timeoutMs: 500 });
  await s.admin("POST", "faults", [
    { method: "events.insert", fault: "connectionReset", times: 1 },
    { method: "calendarList.list", fault: "delay", delayMs: 1_500, times: 1 },
  ]);
  const { id, mirror } = aMirror("evt000");
  assert.equal((await s.provider.putMirror(target, id, mirror)).outcome, "created");
  assert.equal((await s.rawEvents(TARGET)).length, 1);
  assert.ok((await s.provider.listCalendars("alice")).length > 0);
  // insert (reset) → get (404: it was not carried out) → insert → list (timeout) → list.
  assert.deepEqual(s.attempts.map((a) => a.outcome), ["failed", "failed", "ok", "retry", "ok"]);
});

Deno.test("google provider: an insert carried out whose answer was lost is found, not sent again", async () => {
  await using s = await setup();
  // Google does not promise to detect id collisions at insert time (Event.id, notes §10): a
  // blind resend could store the mirror twice. With the collision quirk on, it would.
  await s.admin("POST", "quirks", { undetectedCollisions: true });
  await s.admin("POST", "faults", { method: "events.insert", fault: "lostResponse", times: 1 });
  const { id, mirror } = aMirror("evt000");
  const written = await s.provider.putMirror(target, id, mirror);
  assert.deepEqual(said(written), { id, outcome: "created" });
  assert.deepEqual((await s.rawEvents(TARGET)).map((e) => e.id), [id]);
  assert.deepEqual((await s.requests()).counts, {
    "events.insert": 1,
    "events.get": 1,
    "events.patch": 1,
  });
});

/**
 * A TCP server that answers every request badly, for what the emulator cannot do (Deno.serve
 * cannot drop a socket before the status line): `closed` reads the request and closes,
 * `cut` sends a status line and one byte of a promised 100-byte body, then closes.
 */
function brokenServer(kind: "closed" | "cut"): { url: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      try {
        await conn.read(new Uint8Array(64 * 1024));
        if (kind === "cut") {
          await conn.write(new TextEncoder().encode(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
          ));
        }
      } catch { /* the client went away first: nothing to answer */ }
      conn.close();
    }
  })().catch(() => {});
  return { url: `http://127.0.0.1:${listener.addr.port}`, close: () => listener.close() };
}

Deno.test("google provider: a connection refused, closed before the answer or cut mid-body is retried until the policy gives up, never taken as a refusal", async (t) => {
  const refusedPort = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    l.close();
    return l.addr.port;
  })();
  const providerAt = (apiUrl: string) => {
    const time = createFakeTime();
    const attempts: AttemptReport[] = [];
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: "token", expiry_date: Date.now() + 3_600_000 });
    const provider = createGoogleProvider({
      apiUrl,
      authFor: () => auth,
      policy: createRetryPolicy({
        now: time.now,
        sleep: time.sleep,
        requestsPerMinute: Infinity,
        maxAttempts: 3,
        onAttempt: (r) => attempts.push(r),
      }),
    });
    return { provider, attempts };
  };
  const cases = [
    ["closed before the status line", brokenServer("closed")],
    ["cut mid-body", brokenServer("cut")],
    ["refused", { url: `http://127.0.0.1:${refusedPort}`, close() {} }],
  ] as const;
  for (const [name, server] of cases) {
    await t.step(name, async () => {
      const { provider, attempts } = providerAt(server.url);
      try {
        await assert.rejects(provider.listCalendars("alice"), ProviderUnavailableError);
        assert.deepEqual(attempts.map((a) => a.outcome), ["retry", "retry", "failed"]);
      } finally {
        server.close();
      }
    });
  }
  await t.step("a request fetch refuses to send is not retried", async () => {
    // Deno's fetch blocks some ports outright ("Fetch failed: Requests to port 1 are blocked"):
    // no retry can change that.
    const { provider, attempts } = providerAt("http://127.0.0.1:1");
    await assert.rejects(
      provider.listCalendars("alice"),
      (e) => !(e instanceof ProviderUnavailableError),
    );
    assert.deepEqual(attempts.map((a) => a.outcome), ["failed"]);
  });
});

Deno.test("google provider: a call that keeps failing becomes ProviderUnavailableError carrying the cause", async () => {
  await using s = await setup({ policy: { maxAttempts: 4 } });
  await s.admin("POST", "faults", { method: "events.list", fault: "serviceUnavailable" });
  await assert.rejects(s.provider.listChanges(source, null, WINDOW), (e) => {
    assert.ok(e instanceof ProviderUnavailableError);
    assert.match(e.message, /currently unavailable/);
    return true;
  });
  assert.equal((await s.requests()).counts["events.list"], 4);
});

Deno.test("google provider: a refused request is not retried and keeps Google's reason", async () => {
  await using s = await setup();
  const { mirror } = aMirror("evt000");
  await assert.rejects(s.provider.putMirror(target, "NOT-base32hex", mirror), (e) => {
    assert.ok(e instanceof GoogleApiError);
    assert.deepEqual([e.status, e.reason], [400, "invalid"]);
    return true;
  });
  assert.equal((await s.requests()).total, 1);
});

Deno.test("google provider: over its request budget a connection waits for the window instead of failing", async () => {
  await using s = await setup({ policy: { requestsPerMinute: 3 } });
  const start = s.time.now();
  for (let i = 0; i < 3; i++) await s.provider.listCalendars("alice");
  assert.equal(s.time.now(), start);
  await s.provider.listCalendars("alice");
  assert.deepEqual(s.time.delays, [60_000]);
  // Bob's connection has its own budget.
  await s.provider.listCalendars("bob");
  assert.deepEqual(s.time.delays, [60_000]);
});

Deno.test("google provider: listMarked finds only live events carrying the busysync marker", async () => {
  await using s = await setup();
  const kept = [aMirror("evt000"), aMirror("evt001")];
  for (const { id, mirror } of kept) await s.provider.putMirror(target, id, mirror);
  const deleted = aMirror("evt002");
  await s.provider.putMirror(target, deleted.id, deleted.mirror);
  await s.provider.deleteMirror(target, deleted.id);
  await s.admin(
    "POST",
    `calendars/${TARGET}/events`,
    timed("usr001", "Lunch", "2030-01-07T12:00:00Z"),
  );
  await s.admin("POST", `calendars/${TARGET}/events`, {
    ...timed("usr002", "Not ours", "2030-01-08T12:00:00Z"),
    extendedProperties: { private: { busysync: "0" } },
  });

  const found: MarkedEvent[] = [];
  for await (const e of s.provider.listMarked(target, MARKER_KEYS.flag, "1")) found.push(e);
  assert.deepEqual(
    found.map((e) => e.id).sort(),
    kept.map((m) => m.id).sort(),
  );
  assert.deepEqual(
    found[0].privateProps,
    kept.find((m) => m.id === found[0].id)!.mirror.privateProps,
  );
  assert.ok(found.every((e) => e.status === "confirmed"));
});

Deno.test("google provider: listCalendars maps each account's calendar list with roles and zones", async () => {
  await using s = await setup();
  const bobs = await s.provider.listCalendars("bob");
  // Each entry's colour in Bob's list (calendarList backgroundColor), as Google's palette has it.
  assert.ok(bobs.every((c) => /^#[0-9a-f]{6}$/.test(c.color ?? "")), "every calendar's colour");
  const withoutColor = bobs.map(({ color: _color, ...rest }) => rest);
  assert.deepEqual(withoutColor.sort((a, b) => a.calendarId.localeCompare(b.calendarId)), [
    {
      calendarId: BOB,
      summary: BOB,
      primary: true,
      accessRole: "owner",
      timeZone: "America/New_York",
    },
    {
      calendarId: SHARED,
      summary: "Shared",
      primary: false,
      accessRole: "reader",
      timeZone: "Europe/Berlin",
    },
  ]);
  assert.equal((await s.provider.listCalendars("alice")).length, 5);
});
