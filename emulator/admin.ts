/**
 * The admin API under /__emulator (mounted only when admin is enabled): reset and seed the world,
 * inject faults, invalidate sync tokens, issue/revoke/expire tokens without the consent page,
 * read request counts, edit calendars "as their user" without a token (splitting series too),
 * purge deletions, switch on non-Google quirks, and inspect and steer push channels and their
 * deliveries. No auth: it must
 * never be reachable where the emulator is not a test or demo fixture.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { Channel, ChannelRegistry } from "./channels.ts";
import { renderEvent } from "./event_render.ts";
import { deleteEvent, insertEvent, patchEvent } from "./event_writes.ts";
import { type FaultInjector, FaultRuleInput } from "./faults.ts";
import { badRequest, notFound } from "./google_errors.ts";
import { writeInviting } from "./invitations.ts";
import { body } from "./admin_body.ts";
import type { OAuthServer } from "./oauth.ts";
import { oauthAdminRoutes } from "./oauth_admin.ts";
import type { PushDelivery } from "./push.ts";
import type { RequestCounts } from "./request_counts.ts";
import { applySeed, type Seed } from "./seed.ts";
import { splitSeries } from "./series_split.ts";
import type { CalendarRecord, EmulatorState } from "./state.ts";
import type { UsageLimits } from "./usage_limits.ts";

export interface AdminDeps {
  state: EmulatorState;
  oauth: OAuthServer;
  faults: FaultInjector;
  limits: UsageLimits;
  counts: RequestCounts;
  channels: ChannelRegistry;
  push: PushDelivery;
  /** The seed the emulator started with, restored by `POST reset {"restoreSeed": true}`. */
  initialSeed?: Seed;
}

const ResetBody = z.object({ restoreSeed: z.boolean().default(false) });
const InvalidateBody = z.object({ calendarId: z.string().optional() });
const TokensBody = z.object({
  email: z.string().min(1),
  scopes: z.array(z.string()).default(["https://www.googleapis.com/auth/calendar"]),
  clientId: z.string().default("emulator-admin"),
});
const RevokeBody = z.union([
  z.object({ email: z.string().min(1) }),
  z.object({ refreshToken: z.string().min(1) }),
]);
const FaultsBody = z.union([FaultRuleInput, z.array(FaultRuleInput)]);
const ExpireChannelsBody = z.object({ id: z.string().min(1).optional() });
const SplitBody = z.object({
  at: z.string().min(1),
  changes: z.record(z.string(), z.unknown()).default({}),
});
/** `null` lifts the creation limit (JSON has no Infinity). */
const UsageLimitsBody = z.strictObject({
  createsPerDay: z.number().int().min(0).nullable().optional(),
  readOnlyHours: z.number().min(0).optional(),
  /** Forget the counts and end read-only mode. */
  clear: z.boolean().optional(),
});
const PurgeBody = z.object({ calendarId: z.string().optional() });
const QuirksBody = z.strictObject({
  assignOwnIds: z.boolean().optional(),
  dropExtendedProperties: z.boolean().optional(),
  undetectedCollisions: z.boolean().optional(),
});

/** A live channel as `GET channels` lists it (expiration in ms, as events.watch answers). */
function describeChannel(ch: Channel) {
  return {
    id: ch.id,
    resourceId: ch.resourceId,
    resourceUri: ch.resourceUri,
    calendarId: ch.calendarId,
    user: ch.email,
    clientId: ch.clientId,
    address: ch.address,
    ...(ch.token ? { token: ch.token } : {}),
    expiration: String(ch.expiration),
    messageNumber: ch.messageNumber,
    deliveries: { ...ch.deliveries },
  };
}

/** Creates the hono sub-app serving /__emulator. */
export function createAdminApi(deps: AdminDeps): Hono {
  const { state, oauth, faults, limits, counts, channels, push } = deps;
  const admin = new Hono();

  const calendarOf = (c: Context): CalendarRecord => {
    const calendar = state.calendar(c.req.param("calendarId")!);
    if (!calendar) throw notFound();
    return calendar;
  };
  /** Admin edits act as the calendar's owner, the way a person editing their calendar would. */
  const ownerView = (calendar: CalendarRecord) => ({
    calendarId: calendar.id,
    viewerEmail: state.ownerOf(calendar.id) ?? calendar.id,
  });

  admin.post("/reset", async (c) => {
    const { restoreSeed } = await body(c, ResetBody);
    state.reset();
    oauth.reset();
    faults.clear();
    limits.reset();
    counts.clear();
    channels.clear();
    push.reset();
    if (restoreSeed && deps.initialSeed) applySeed(deps.initialSeed, { state, oauth });
    return c.json({ ok: true });
  });

  admin.post("/seed", async (c) => {
    const input = await body(c, z.unknown());
    try {
      return c.json(applySeed(input, { state, oauth }));
    } catch (e) {
      if (e instanceof z.ZodError) throw badRequest("invalid", z.prettifyError(e));
      throw e;
    }
  });

  admin.get("/faults", (c) => c.json({ faults: faults.list() }));
  admin.post("/faults", async (c) => {
    const input = await body(c, FaultsBody);
    const added = (Array.isArray(input) ? input : [input]).map((r) => faults.add(r));
    return c.json({ faults: added });
  });
  admin.delete("/faults", (c) => {
    faults.clear();
    return c.json({ ok: true });
  });

  const usage = () => {
    const { createsPerDay, readOnlyHours } = limits.settings;
    return {
      createsPerDay: Number.isFinite(createsPerDay) ? createsPerDay : null,
      readOnlyHours,
      users: limits.snapshot(),
    };
  };
  admin.get("/usage-limits", (c) => c.json(usage()));
  admin.post("/usage-limits", async (c) => {
    const input = await body(c, UsageLimitsBody);
    if (input.clear) limits.clear();
    limits.configure({
      ...(input.createsPerDay !== undefined
        ? { createsPerDay: input.createsPerDay ?? Infinity }
        : {}),
      ...(input.readOnlyHours !== undefined ? { readOnlyHours: input.readOnlyHours } : {}),
    });
    return c.json(usage());
  });

  admin.post("/sync-tokens/invalidate", async (c) => {
    const { calendarId } = await body(c, InvalidateBody);
    if (calendarId !== undefined && !state.calendar(calendarId)) throw notFound();
    return c.json({ calendars: state.invalidateSyncTokens(calendarId) });
  });

  admin.post("/purge", async (c) => {
    const { calendarId } = await body(c, PurgeBody);
    if (calendarId !== undefined && !state.calendar(calendarId)) throw notFound();
    return c.json({ purged: state.purgeNow(calendarId) });
  });

  admin.get("/quirks", (c) => c.json(state.quirks));
  admin.post("/quirks", async (c) => {
    const changes = await body(c, QuirksBody);
    state.quirks = { ...state.quirks, ...changes };
    return c.json(state.quirks);
  });

  admin.post("/tokens", async (c) => {
    const { email, scopes, clientId } = await body(c, TokensBody);
    if (!oauth.listUsers().some((u) => u.email === email)) throw notFound();
    return c.json({ ...oauth.issueTokens(email, scopes, clientId), token_type: "Bearer" });
  });
  admin.post("/tokens/revoke", async (c) => {
    const input = await body(c, RevokeBody);
    const revoked = "email" in input
      ? oauth.revokeAllFor(input.email)
      : Number(oauth.revokeRefreshToken(input.refreshToken));
    return c.json({ revoked });
  });
  admin.post("/tokens/expire", (c) => {
    oauth.expireAccessTokens();
    return c.json({ ok: true });
  });

  admin.route("/oauth", oauthAdminRoutes(oauth));

  admin.get("/requests", (c) => c.json(counts.snapshot()));
  admin.delete("/requests", (c) => {
    counts.clear();
    return c.json({ ok: true });
  });

  admin.get("/channels", (c) => c.json({ channels: channels.list().map(describeChannel) }));
  admin.post("/channels/expire", async (c) => {
    const { id } = await body(c, ExpireChannelsBody);
    const expired = channels.expire(id);
    if (id !== undefined && expired === 0) throw notFound();
    return c.json({ expired });
  });
  admin.post("/push/pause", (c) => {
    push.pause();
    return c.json({ paused: push.paused });
  });
  admin.post("/push/resume", (c) => {
    push.resume();
    return c.json({ paused: push.paused });
  });
  admin.get("/push/deliveries", (c) => c.json({ deliveries: push.deliveries() }));

  admin.get("/calendars/:calendarId/events", (c) => {
    const calendar = calendarOf(c);
    return c.json({ items: [...calendar.events.values()].map((e) => e.resource) });
  });
  admin.post("/calendars/:calendarId/events", async (c) => {
    const calendar = calendarOf(c);
    const input = await body(c, z.unknown());
    const view = ownerView(calendar);
    const event = writeInviting(
      state,
      calendar,
      undefined,
      () => insertEvent(state, calendar, input, { email: view.viewerEmail }),
    );
    return c.json(renderEvent(event, view));
  });
  admin.patch("/calendars/:calendarId/events/:eventId", async (c) => {
    const calendar = calendarOf(c);
    const input = await body(c, z.unknown());
    const eventId = c.req.param("eventId");
    const event = writeInviting(
      state,
      calendar,
      eventId,
      () => patchEvent(state, calendar, eventId, input, { asOwner: true }),
    );
    return c.json(renderEvent(event, ownerView(calendar)));
  });
  admin.post("/calendars/:calendarId/events/:eventId/split", async (c) => {
    const calendar = calendarOf(c);
    const request = await body(c, SplitBody);
    const event = splitSeries(state, calendar, c.req.param("eventId"), request);
    return c.json(renderEvent(event, ownerView(calendar)));
  });
  admin.delete("/calendars/:calendarId/events/:eventId", (c) => {
    const calendar = calendarOf(c);
    const eventId = c.req.param("eventId");
    writeInviting(
      state,
      calendar,
      eventId,
      () => deleteEvent(state, calendar, eventId, { asOwner: true }),
    );
    return c.body(null, 204);
  });

  return admin;
}
