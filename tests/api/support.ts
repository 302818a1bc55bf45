/**
 * The API suite's world: the accounts harness (real emulator, temp KV, the app with its
 * scheduler running) with Ann signed in and both her accounts connected, her calendars by name,
 * and a builder for rule bodies.
 */
import {
  ANN,
  ANN_WORK,
  type Harness,
  type HarnessOptions,
  startHarness,
  type TestClient,
} from "../support/accounts.ts";

/** Ann's calendars: main (owner) and family (read-only) of ANN; work (owner) and team (writer). */
export interface AnnCalendars {
  main: CalendarRef;
  family: CalendarRef;
  work: CalendarRef;
  team: CalendarRef;
}

export interface CalendarRef {
  connectionId: string;
  calendarId: string;
}

export interface ApiWorld {
  h: Harness;
  ann: TestClient;
  annId: string;
  cal: AnnCalendars;
}

/** Starts the harness and signs Ann in with both accounts connected. */
export async function startApiWorld(
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<ApiWorld> {
  const h = await startHarness(env, options);
  const ann = h.client("192.0.2.1");
  await ann.signIn(ANN);
  await ann.connect(ANN);
  await ann.connect(ANN_WORK);
  const annId = (await (await ann.request("/api/me")).json()).id;
  const { items } = await (await ann.request("/api/user/calendars")).json();
  const ref = (calendarId: string): CalendarRef => {
    const cal = items.find((c: { calendarId: string }) => c.calendarId === calendarId);
    if (!cal) throw new Error(`no calendar ${calendarId}`);
    return { connectionId: cal.connectionId, calendarId };
  };
  return {
    h,
    ann,
    annId,
    cal: {
      main: ref(ANN),
      family: ref("family@group.example"),
      work: ref(ANN_WORK),
      team: ref("team@work.example.com"),
    },
  };
}

/** A rule body: main → work unless overridden. */
export function aRule(cal: AnnCalendars, overrides: Record<string, unknown> = {}) {
  return { name: "Main to work", source: cal.main, target: cal.work, ...overrides };
}

/** An event an hour long starting `hoursFromNow` from now, in a calendar of the emulator. */
export async function addEvent(
  h: Harness,
  calendarId: string,
  summary: string,
  hoursFromNow = 24,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const start = new Date(Date.now() + hoursFromNow * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  const end = new Date(start.getTime() + 3_600_000);
  const event = await h.admin(`calendars/${encodeURIComponent(calendarId)}/events`, {
    summary,
    start: { dateTime: start.toISOString() },
    end: { dateTime: end.toISOString() },
    ...extra,
  }) as { id: string };
  return event.id;
}

/** Deletes an event in the emulator as its owner would. */
export async function deleteEvent(h: Harness, calendarId: string, eventId: string) {
  const url = `${h.emulator.url}/__emulator/calendars/${encodeURIComponent(calendarId)}/events/` +
    encodeURIComponent(eventId);
  const res = await fetch(url, { method: "DELETE" });
  await res.body?.cancel();
  if (res.status !== 204) throw new Error(`deleting ${eventId} answered ${res.status}`);
}

/** The events of a calendar as the emulator holds them. */
export async function eventsIn(
  h: Harness,
  calendarId: string,
): Promise<{ id: string; summary?: string; status: string }[]> {
  const { items } = await h.admin(
    `calendars/${encodeURIComponent(calendarId)}/events`,
    undefined,
    "GET",
  ) as { items: { id: string; summary?: string; status: string }[] };
  return items.filter((e) => e.status !== "cancelled");
}

/**
 * Runs a sync of the user to the end through the scheduler (setup for a test; the route and
 * its rate limit are tested on their own) and returns its run.
 */
export async function syncNow(w: ApiWorld): Promise<{ outcome: string; id: string }> {
  const { jobId } = await w.h.scheduler.request(w.annId, { reason: "manual" });
  return await w.h.scheduler.wait(w.annId, jobId, 20_000);
}

/**
 * Gets a rule held by the delete guard (BUSYSYNC_DELETE_GUARD_MIN=1 in the world's env): three
 * events mirrored main → work, then all three deleted at the source. Returns the rule's id.
 */
export async function holdARule(w: ApiWorld, name = "Held"): Promise<string> {
  const ids = [];
  for (const hour of [30, 32, 34]) ids.push(await addEvent(w.h, w.cal.main.calendarId, name, hour));
  const res = await w.ann.request("/api/rules", { method: "POST", json: aRule(w.cal, { name }) });
  const ruleId = (await res.json()).id;
  await syncNow(w);
  for (const id of ids) await deleteEvent(w.h, w.cal.main.calendarId, id);
  await syncNow(w);
  const rule = await (await w.ann.request(`/api/rules/${ruleId}`)).json();
  if (rule.status !== "needs_confirmation") {
    throw new Error(`rule not held: ${JSON.stringify(rule)}`);
  }
  return ruleId;
}
