/**
 * The scheduler suite's world: the accounts harness serving the app over real HTTP (so the
 * emulator's push notifications reach it), push on, and Ann mirroring her personal calendar
 * into her work calendar. Helpers poll with deadlines; nothing sleeps to wait.
 */
import { listRuns, type RunRecord } from "../../lib/db/history.ts";
import { createRule } from "../../lib/db/rules.ts";
import type { SchedulerOptions } from "../../lib/scheduler/scheduler.ts";
import { RuleInputSchema } from "../../lib/model/rule.ts";
import {
  ANN,
  ANN_WORK,
  type Harness,
  type HarnessOptions,
  startHarness,
} from "../support/accounts.ts";

/** Short waits, so that a suite of real-time scenarios stays fast. */
export const FAST: Partial<SchedulerOptions> = {
  pollMs: 100,
  pushDebounceMs: 150,
  pushMaxDelayMs: 2_000,
  retryBaseMs: 50,
  busyRetryMs: 50,
  waitPollMs: 10,
};

export interface World {
  h: Harness;
  userId: string;
  personal: { connectionId: string; calendarId: string };
  work: { connectionId: string; calendarId: string };
  ruleId: string;
  close(): Promise<void>;
}

/** Ann signed in with both accounts connected and one rule, personal → work. */
export async function startWorld(
  options: HarnessOptions & { env?: Record<string, string> } = {},
): Promise<World> {
  const h = await startHarness(
    { BUSYSYNC_PUSH: "on", ...options.env },
    { serve: true, ...options, scheduler: { ...FAST, ...options.scheduler } },
  );
  const ann = h.client();
  await ann.signIn(ANN);
  await ann.connect(ANN);
  await ann.connect(ANN_WORK);
  const userId = (await (await ann.request("/api/me")).json()).id as string;
  const byEmail = new Map((await ann.connections()).map((c) => [c.email, c.id]));
  const personal = { connectionId: byEmail.get(ANN)!, calendarId: ANN };
  const work = { connectionId: byEmail.get(ANN_WORK)!, calendarId: ANN_WORK };
  const { rule } = await createRule(
    h.kv,
    userId,
    RuleInputSchema.parse({ name: "Personal into work", source: personal, target: work }),
    { now: h.clock.now() },
  );
  return { h, userId, personal, work, ruleId: rule.id, close: () => h.close() };
}

/** Creates a timed event tomorrow in the emulator (as a person would, not through busysync). */
export async function addEvent(h: Harness, calendarId: string, summary: string, hour = 9) {
  const start = new Date(Date.now() + 24 * 3600_000);
  start.setUTCHours(hour, 0, 0, 0);
  return await h.admin(`calendars/${encodeURIComponent(calendarId)}/events`, {
    summary,
    start: { dateTime: start.toISOString() },
    end: { dateTime: new Date(start.getTime() + 1800_000).toISOString() },
  }) as { id: string };
}

interface RawEvent {
  id: string;
  status: string;
  extendedProperties?: { private?: Record<string, string> };
}

/** Ids of the live busysync mirrors in a calendar. */
export async function liveMirrors(h: Harness, calendarId: string): Promise<string[]> {
  const { items } = await h.admin(
    `calendars/${encodeURIComponent(calendarId)}/events`,
    undefined,
    "GET",
  ) as { items: RawEvent[] };
  return items
    .filter((e) => e.status !== "cancelled" && e.extendedProperties?.private?.busysync === "1")
    .map((e) => e.id);
}

export interface EmulatorChannel {
  id: string;
  resourceId: string;
  calendarId: string;
  token?: string;
  expiration: string;
}

/** The emulator's live channels. */
export async function liveChannels(h: Harness): Promise<EmulatorChannel[]> {
  return ((await h.admin("channels", undefined, "GET")) as { channels: EmulatorChannel[] })
    .channels;
}

export interface Delivery {
  channelId: string;
  resourceState: "sync" | "exists";
  status: number | null;
  outcome: string;
  latencyMs: number;
}

export async function deliveries(h: Harness): Promise<Delivery[]> {
  return ((await h.admin("push/deliveries", undefined, "GET")) as { deliveries: Delivery[] })
    .deliveries;
}

/** The user's runs, oldest first. */
export async function runs(h: Harness, userId: string): Promise<RunRecord[]> {
  return (await listRuns(h.kv, userId, { limit: 1000 })).items.reverse();
}

/** Posts a notification to the app as Google would, with the given headers. */
export async function notify(
  url: string,
  headers: Record<string, string>,
): Promise<number> {
  const res = await fetch(`${url}/api/webhooks/google`, {
    method: "POST",
    headers: { "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "9", ...headers },
  });
  await res.body?.cancel();
  return res.status;
}
