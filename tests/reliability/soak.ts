/**
 * The fault soak: four people (five with a CalDAV server: Eve mixes Google and CalDAV calendars in
 * rules and a group, behind a proxy that fails as often as the emulator), seven rules (one-way and both ways, three sources into one
 * target, a mirror target that is itself a source, one person's two accounts both ways, where
 * invitations to both addresses arrive), a sync group of three of Ann's calendars that are
 * also the sources of her rules into her hub (so the group's blocks sit where those rules read,
 * and must never reach the hub), whose members come and go (one of them, when in, is a
 * calendar the list shows as read-only), a seeded random workload of changes, and a
 * sync of every person after each round, while the emulator fails a share of all Calendar API
 * calls and sync tokens die at random. Runs may fail partly meanwhile; what counts is the end:
 * once the faults stop, one ordinary incremental sync must leave every target exactly as the
 * reference model says, and a full reconcile after it must find nothing to do.
 *
 * The workload edits and splits series (instances vanish with no tombstone) and purges deleted
 * events, and the emulator purges every deletion `purgeAfterSeconds` old on its own, so mirror
 * ids Google retired (a restore answers 404, an insert 409) and sync tokens a purge killed occur
 * throughout.
 *
 * Google's Calendar usage limits play too (notes §10): during the rounds each account may create
 * only so many events beyond what the first sync made (busysync's own budget), and for a few
 * rounds the emulator answers 403 quotaExceeded (read-only mode) as if another app had spent
 * the accounts' limits, so writes pause and creations wait. The end lifts both, as the next day
 * and the end of read-only mode would.
 */
import type { SyncConfig } from "../../lib/sync/engine.ts";
import type { Rule } from "../../lib/model/rule.ts";
import { type Person, World, writesIn } from "../sync/support.ts";
import { replaceCalendars } from "../../lib/db/calendars.ts";
import { listGroups } from "../../lib/db/groups.ts";
import { listRules } from "../../lib/db/rules.ts";
import {
  checkConvergence,
  type CheckFigures,
  figuresOf,
  type TestCalendar,
} from "./convergence.ts";
import { createRandom } from "./random.ts";
import { createWorkload, type GroupPlay, type OpKind } from "./workload.ts";
import { caldavEventStore } from "./caldav_calendar.ts";
import { type CalDavTestServer, makeCalendar } from "../support/caldav_servers.ts";
import { type CalDavFaultProxy, startCalDavFaultProxy } from "../support/caldav_fault_proxy.ts";

const HOUR = 3_600_000;
/** The chance per round that the group's members change while the round's runs go. */
const MEMBER_CHANGE_DURING_RUNS = 0.25;

export interface SoakOptions {
  seed: number;
  rounds: number;
  /** Changes made before the first sync, so the rounds start from calendars with events. */
  warmupOps: number;
  /** Changes made between two syncs, spread over every calendar. */
  opsPerRound: number;
  /** Share of Calendar API calls that meet a fault, e.g. 0.2. */
  faultRate: number;
  /** Chance per round that sync tokens are invalidated (one calendar's, or all of them). */
  invalidateRate: number;
  /**
   * Attempts per call of the provider's retry policy. Low on purpose: with production's 8,
   * faults almost never get through and the partial-failure paths would go untested.
   */
  maxAttempts: number;
  /** Seconds a deleted event stays readable before the emulator purges it (Google: eventually). */
  purgeAfterSeconds: number;
  /**
   * Calendar usage limits during the rounds: creations each account may make beyond the most
   * any person's first sync made (busysync's daily budget); the rounds, first and last
   * included, in which every account's limit at the emulator is already spent (as if another
   * app had created many events), so each insert starts read-only mode for `readOnlySeconds`;
   * and how long busysync then pauses the account's writes: longer than those rounds take, as
   * the soak ends the pauses when it ends read-only mode. Undefined: no limits.
   */
  usageLimits?: {
    budgetAfterSetup: number;
    readOnlyRounds: [number, number];
    readOnlySeconds: number;
    pauseSeconds: number;
  };
  /**
   * A real CalDAV server: a fifth person, Eve, then has two calendars there beside her Google
   * ones, reached through a proxy that fails `faultRate` of busysync's requests to it and
   * retires its sync tokens as often as Google's die.
   */
  caldav?: CalDavTestServer;
  log?: (line: string) => void;
}

export interface SoakResult {
  seed: number;
  users: number;
  rules: number;
  groups: number;
  /** The group's members at the end (the workload adds and removes them). */
  groupMembers: number;
  /** Member changes made while the runs went (the others are among `operationsByKind`). */
  memberChangesDuringRuns: number;
  rounds: number;
  /** Changes made during the rounds (the warm-up's not included). */
  operations: number;
  faultRate: number;
  /**
   * Calendar API calls the emulator received during the rounds and the final incremental
   * sync, faulted ones included.
   */
  apiCalls: number;
  /** The same calls by method (`events.instances`: series the engine re-listed after edits). */
  apiCallsByMethod: Record<string, number>;
  faultsInjected: number;
  /** busysync's requests to the CalDAV server during the whole soak, faults, retired tokens refused. */
  caldav?: CalDavFaultProxy["stats"];
  tokenInvalidations: number;
  /** Sync runs by outcome: ok, partial, failed (a run that threw counts as "threw"). */
  runs: Record<string, number>;
  /** Runs that reported writes paused (WritesPaused) or creations waiting (CreationBudgetSpent). */
  usageLimitRuns: { writesPaused: number; creationBudgetSpent: number };
  /** After faults stopped and one incremental sync of each person. */
  duplicates: number;
  missing: number;
  stale: number;
  afterIncremental: CheckFigures;
  /** After a full reconcile of each person, made after that incremental sync. */
  afterFullReconcile: CheckFigures & { writes: number };
  /** The people's own events that vanished without the workload deleting them. */
  lostEvents: number;
  /** Rules and groups not in status ok at the end. */
  rulesNotOk: number;
  operationsByKind: Partial<Record<OpKind, number>>;
  /** Events the workload's `purge` steps purged (timed purges not included). */
  purgedBySteps: number;
  /** Ids of mirrors the emulator purged (by step or by age): ids retired under busysync. */
  purgedMirrorIds: number;
  /** Live mirrors at the end under a later id generation (their first id was retired). */
  laterGenerationMirrors: number;
  /**
   * Double invitations at the end: a rule's target holds its own live copy of a meeting (same
   * iCalUID) its source holds too, where a busy block beside the invitation would be wrong.
   */
  doubleInvitations: number;
  /** Differences found by the checks, for a failure message; empty when all converged. */
  problems: string[];
  wallMs: number;
}

/**
 * The delete guard raised out of the way: it stops a rule until a person confirms a mass
 * delete, a human step the soak does not play, and a random workload whose runs fail for a
 * few rounds can legitimately pile up that many deletes.
 */
const SOAK_CONFIG: SyncConfig = {
  deleteGuard: { percent: 100, min: 100_000 },
  historyMaxRuns: 50,
  historyMaxDays: 7,
  accountLimits: { createsPerDay: Infinity, pauseHours: 6 },
};

/**
 * One fault rule per kind, each firing on an equal share of all calls. Rules are tried in
 * order and a later one sees only the calls the earlier ones let through, hence the rising
 * percentages. The 429's Retry-After is 0 so that a soak of thousands of calls does not spend
 * its time in one-second waits (the policy honours Retry-After; its tests cover that).
 */
function faultRules(rate: number, seed: number) {
  const kinds = [
    { fault: "rateLimitExceeded" },
    { fault: "tooManyRequests", retryAfterSeconds: 0 },
    { fault: "backendError" },
    { fault: "serviceUnavailable" },
    { fault: "connectionReset" },
    { fault: "delay", delayMs: 40 },
  ];
  const share = rate / kinds.length;
  return kinds.map((kind, i) => ({
    method: "*",
    percent: (100 * share) / (1 - i * share),
    seed: seed * 16 + i,
    ...kind,
  }));
}

interface Cast {
  people: Person[];
  calendars: TestCalendar[];
  rules: Rule[];
  /** The group whose members the workload changes. */
  group: GroupPlay;
}

/** The soak's people, rules and groups; Eve's CalDAV calendars with `caldav`. */
async function castSoak(
  world: World,
  caldav?: { server: CalDavTestServer; proxy: CalDavFaultProxy },
): Promise<Cast> {
  const calendars: TestCalendar[] = [];
  const person = async (zones: Record<string, string>) => {
    const p = await world.aPerson(zones);
    // The first calendar is the account's primary one (World.aPerson).
    Object.entries(zones).forEach(([name, timeZone], i) => {
      calendars.push({ ref: p.cal[name], timeZone, ...(i === 0 ? { primary: true } : {}) });
    });
    return p;
  };
  const ann = await person({
    work: "UTC",
    personal: "Europe/Berlin",
    family: "America/New_York",
    hub: "UTC",
    shared: "Asia/Kolkata",
  });
  // Ann may only read "shared" (her calendar list says so; the emulator would let busysync
  // write, so a block written there is the engine's mistake and shows as stale).
  calendars.find((c) => c.ref === ann.cal.shared)!.readOnly = true;
  const ben = await person({ a: "Asia/Tokyo", b: "UTC" });
  const cat = await person({ work: "UTC", personal: "Europe/Berlin", side: "America/Los_Angeles" });
  // Dan has a work and a personal Google account, so each has a primary calendar invitations
  // reach: invited at both addresses, each holds its own copy of the meeting.
  const danWork = await person({ work: "UTC" });
  const danHome = await person({ home: "Europe/Berlin" });
  const dan: Person = { ...danWork, cal: { work: danWork.cal.work, home: danHome.cal.home } };
  const rules = [
    // Three sources into Ann's hub, each with its own privacy.
    await world.aRule(ann, { source: ann.cal.work, target: ann.cal.hub }),
    await world.aRule(ann, {
      source: ann.cal.personal,
      target: ann.cal.hub,
      privacy: "title",
      titlePrefix: "P: ",
    }),
    await world.aRule(ann, {
      source: ann.cal.family,
      target: ann.cal.hub,
      title: "Family",
      filters: { skipAllDay: false },
    }),
    await world.aRule(ben, {
      source: ben.cal.a,
      target: ben.cal.b,
      bidirectional: true,
      privacy: "title",
    }),
    // Cat's personal calendar receives work mirrors and is also a source: those are not passed on.
    await world.aRule(cat, { source: cat.cal.work, target: cat.cal.personal, title: "Work" }),
    await world.aRule(cat, {
      source: cat.cal.personal,
      target: cat.cal.side,
      bidirectional: true,
      privacy: "title",
      titlePrefix: "S: ",
    }),
    await world.aRule(dan, { source: dan.cal.work, target: dan.cal.home, bidirectional: true }),
  ];
  // Ann's work, personal and family block each other; each is also a source of a rule into the
  // hub (no pair of the group's, no cycle: the hub feeds nothing). Personal's blocks show titles.
  const personal = { calendar: ann.cal.personal, privacy: "title" as const };
  const group = await world.aGroup(ann, {
    name: "Ann's calendars",
    members: [ann.cal.work, personal, ann.cal.family],
    title: "Blocked",
    titlePrefix: "G: ",
  });
  const pool = [ann.cal.work, ann.cal.family, ann.cal.shared].map((calendar) => ({ calendar }));
  // Stored connections name each person's Google account, which usage limits are counted by.
  for (const p of [ann, ben, cat, danWork, { ...danHome, userId: danWork.userId }]) {
    await world.connect(p);
  }
  await replaceCalendars(
    world.kv,
    ann.userId,
    ann.connectionId,
    calendars.filter((c) => c.ref.connectionId === ann.connectionId).map((c) => ({
      id: c.ref.calendarId,
      summary: c.ref.calendarId,
      primary: c.primary ?? false,
      accessRole: c.readOnly ? "reader" as const : "owner" as const,
      timeZone: c.timeZone,
    })),
    new Date(),
  );
  const people = [ann, ben, cat, dan];
  if (caldav) people.push(await castEve(world, caldav, calendars, rules));
  return {
    people,
    calendars,
    rules,
    group: { userId: ann.userId, groupId: group.id, pool: [personal, ...pool] },
  };
}

/**
 * Eve mixes services: Google calendars "work" and "home" and two CalDAV calendars, "dav" and
 * "dav2". Her home and dav block each other both ways with titles, dav feeds dav2 (CalDAV into
 * CalDAV), and a group makes work and dav block each other, so dav is a rule's source and
 * target and a group's member at once.
 */
async function castEve(
  world: World,
  { server, proxy }: { server: CalDavTestServer; proxy: CalDavFaultProxy },
  calendars: TestCalendar[],
  rules: Rule[],
): Promise<Person> {
  const google = await world.aPerson({ work: "UTC", home: "Europe/Berlin" });
  calendars.push(
    { ref: google.cal.work, timeZone: "UTC", primary: true },
    { ref: google.cal.home, timeZone: "Europe/Berlin" },
  );
  const suffix = crypto.randomUUID().slice(0, 8);
  const direct = [
    await makeCalendar(server.aliceHome, server.alice, `dav-${suffix}`),
    await makeCalendar(server.aliceHome, server.alice, `dav2-${suffix}`),
  ];
  const { refs: [dav, dav2] } = await world.aCalDavAccount(google.userId, {
    homeUrl: proxy.proxied(server.aliceHome),
    ...server.alice,
    fetch,
  }, direct.map((url) => ({ url: proxy.proxied(url), timeZone: "UTC" })));
  // Changed three times as often as a Google calendar: two calendars of 22 would see few changes.
  const store = (url: string) => ({ store: caldavEventStore(url, server.alice), weight: 3 });
  calendars.push(
    { ref: dav, timeZone: "UTC", ...store(direct[0]) },
    { ref: dav2, timeZone: "UTC", ...store(direct[1]) },
  );
  const eve: Person = { ...google, cal: { ...google.cal, dav, dav2 } };
  rules.push(
    await world.aRule(eve, {
      source: eve.cal.home,
      target: dav,
      bidirectional: true,
      privacy: "title",
      titlePrefix: "H: ",
    }),
    await world.aRule(eve, { source: dav, target: dav2, title: "Busy" }),
  );
  await world.aGroup(eve, { name: "Eve's calendars", members: [eve.cal.work, dav], title: "Held" });
  await world.connect(google);
  return eve;
}

/** Runs the soak in a world of its own and returns its figures. */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const world = await World.start({ maxAttempts: opts.maxAttempts });
  world.emulator.state.purgeCancelledAfterMs = opts.purgeAfterSeconds * 1000;
  const proxy = opts.caldav && startCalDavFaultProxy(opts.caldav.baseUrl);
  try {
    const cast = await castSoak(world, proxy && { server: opts.caldav!, proxy });
    const random = createRandom(opts.seed);
    const origin = Math.ceil(Date.now() / HOUR) * HOUR + HOUR;
    // People change every calendar: sources, and targets (Ann's hub is only a target).
    const workload = createWorkload(world, random, cast.calendars, origin, cast.group);
    const runs: Record<string, number> = {};
    const operationsByKind: Partial<Record<OpKind, number>> = {};
    let operations = 0;
    let tokenInvalidations = 0;
    let memberChangesDuringRuns = 0;
    let config = SOAK_CONFIG;
    // busysync's clock runs ahead of the real one by `ahead`: moving it on ends the write
    // pauses exactly when the soak lifts read-only mode, however fast the rounds went.
    let ahead = 0;
    const clock = () => new Date(Date.now() + ahead);
    const endPauses = () => ahead += (opts.usageLimits?.pauseSeconds ?? 0) * 1000 + 1;
    const usageLimitRuns = { writesPaused: 0, creationBudgetSpent: 0 };
    const sync = async (p: Person, extra: { full?: boolean } = {}) => {
      let outcome: string;
      try {
        const result = await world.sync(p, { config, clock, ...extra });
        outcome = result.status === "completed" ? result.run.outcome : result.status;
        const errors = result.status === "completed" ? result.run.errors : [];
        if (errors.some((e) => e.error === "WritesPaused")) usageLimitRuns.writesPaused++;
        if (errors.some((e) => e.error === "CreationBudgetSpent")) {
          usageLimitRuns.creationBudgetSpent++;
        }
      } catch (err) {
        outcome = "threw";
        log(`sync of ${p.userId} threw: ${err}`);
      }
      runs[outcome] = (runs[outcome] ?? 0) + 1;
    };
    const invalidate = async () => {
      const calendar = random.chance(0.25) ? undefined : random.pick(cast.calendars);
      tokenInvalidations++;
      // Whenever Google's die, the CalDAV server prunes its change log too (both calendars').
      proxy?.invalidateSyncTokens();
      if (calendar?.store) return;
      const calendarId = calendar?.ref.calendarId;
      await world.admin("POST", "sync-tokens/invalidate", calendarId ? { calendarId } : {});
    };

    for (let i = 0; i < opts.warmupOps; i++) await workload.step();
    // The first sync runs without faults: the soak is about change under faults, not setup.
    let setupCreates = 0;
    for (const p of cast.people) {
      await sync(p);
      setupCreates = Math.max(setupCreates, (await world.takeRequests())["events.insert"] ?? 0);
    }
    const limits = opts.usageLimits;
    if (limits) {
      config = {
        ...SOAK_CONFIG,
        accountLimits: {
          createsPerDay: setupCreates + limits.budgetAfterSetup,
          pauseHours: limits.pauseSeconds / 3600,
        },
      };
      await world.admin("POST", "usage-limits", { readOnlyHours: limits.readOnlySeconds / 3600 });
    }
    await world.admin("POST", "faults", faultRules(opts.faultRate, opts.seed));
    const proxyRandom = createRandom(opts.seed * 16 + 7);
    proxy?.setFaults({ rate: opts.faultRate, random: () => proxyRandom.next() });
    for (let round = 1; round <= opts.rounds; round++) {
      if (limits && round === limits.readOnlyRounds[0]) {
        await world.admin("POST", "usage-limits", { createsPerDay: 0 });
      }
      if (limits && round === limits.readOnlyRounds[1] + 1) {
        await world.admin("POST", "usage-limits", { createsPerDay: null, clear: true });
        endPauses();
      }
      for (let i = 0; i < opts.opsPerRound; i++) {
        const op = await workload.step();
        operationsByKind[op] = (operationsByKind[op] ?? 0) + 1;
        operations++;
      }
      const invalidation = random.chance(opts.invalidateRate)
        ? random.pick(["before", "during"] as const)
        : undefined;
      if (invalidation === "before") await invalidate();
      // "during": the tokens die while the runs are listing or writing.
      const midRun = invalidation === "during"
        ? new Promise((r) => setTimeout(r, random.int(0, 40))).then(invalidate)
        : undefined;
      // Now and then the group's members change while the runs go, as when someone edits the
      // group in the web app during a scheduled sync.
      const memberChange = random.chance(MEMBER_CHANGE_DURING_RUNS)
        ? new Promise((r) => setTimeout(r, random.int(0, 40))).then(async () => {
          const op = await workload.changeMembers();
          if (op) memberChangesDuringRuns++;
        })
        : undefined;
      await Promise.all([...cast.people.map((p) => sync(p)), midRun, memberChange]);
      log(`round ${round}/${opts.rounds}: ${JSON.stringify(runs)}`);
    }
    const { faults } = await world.admin<{ faults: { hits: number }[] }>("GET", "faults");
    const faultsInjected = faults.reduce((n, f) => n + f.hits, 0);
    await world.admin("DELETE", "faults");
    proxy?.setFaults(undefined);
    if (limits) {
      // The next day and the end of read-only mode: budgets refilled, pauses over.
      await world.admin("POST", "usage-limits", { createsPerDay: null, clear: true });
      config = SOAK_CONFIG;
      endPauses();
    }

    const groups = [];
    for (const p of cast.people) {
      groups.push(...(await listGroups(world.kv, p.userId)).map((e) => e.group));
    }
    const scope = {
      calendars: cast.calendars,
      rules: cast.rules,
      groups,
      userIds: cast.people.map((p) => p.userId),
    };
    for (const p of cast.people) await sync(p);
    const incremental = await checkConvergence(world, scope);
    const apiCalls = (await world.takeRequests()) as Record<string, number>;
    for (const p of cast.people) await sync(p, { full: true });
    const reconcileWrites = writesIn(await world.takeRequests());
    const full = await checkConvergence(world, scope);
    const rulesNotOk = await countOwnersNotOk(world, cast);
    const retired = await countRetiredIds(world, cast);
    const doubleInvitations = await countDoubleInvitations(world, cast);
    return {
      seed: opts.seed,
      users: cast.people.length,
      rules: cast.rules.length,
      groups: groups.length,
      groupMembers: groups.reduce((n, g) => n + g.members.length, 0),
      memberChangesDuringRuns,
      rounds: opts.rounds,
      operations,
      faultRate: opts.faultRate,
      apiCalls: Object.values(apiCalls).reduce((n, c) => n + c, 0),
      apiCallsByMethod: apiCalls,
      faultsInjected,
      ...(proxy ? { caldav: structuredClone(proxy.stats) } : {}),
      tokenInvalidations,
      runs,
      usageLimitRuns,
      duplicates: incremental.duplicates,
      missing: incremental.missing,
      stale: incremental.stale,
      afterIncremental: figuresOf(incremental),
      afterFullReconcile: { ...figuresOf(full), writes: reconcileWrites },
      lostEvents: await workload.countLostEvents(),
      rulesNotOk,
      operationsByKind,
      purgedBySteps: workload.purged(),
      ...retired,
      doubleInvitations,
      problems: [...incremental.problems, ...full.problems],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await proxy?.close();
    await world.close();
  }
}

async function countDoubleInvitations(world: World, cast: Cast): Promise<number> {
  const meetings = async (calendarId: string) => {
    const cal = cast.calendars.find((c) => c.ref.calendarId === calendarId)!;
    // CalDAV calendars get no invitations in the soak.
    if (cal.store) return new Set<string>();
    return new Set(
      (await world.events(cal.ref))
        .filter((e) => e.extendedProperties?.private?.busysync !== "1").map((e) => e.iCalUID),
    );
  };
  let n = 0;
  for (const rule of cast.rules) {
    const [source, target] = [rule.source.calendarId, rule.target.calendarId];
    const [inSource, inTarget] = [await meetings(source), await meetings(target)];
    for (const uid of inSource) if (inTarget.has(uid)) n += rule.bidirectional ? 2 : 1;
  }
  return n;
}

async function countOwnersNotOk(world: World, cast: Cast): Promise<number> {
  let notOk = 0;
  for (const p of cast.people) {
    for (const { rule } of await listRules(world.kv, p.userId)) {
      if (rule.status !== "ok") notOk++;
    }
    for (const { group } of await listGroups(world.kv, p.userId)) {
      if (group.status !== "ok") notOk++;
    }
  }
  return notOk;
}

/**
 * Mirror ids the emulator holds reserved with no event (purged: mirrors are never series
 * exceptions), and live mirrors whose marker names a later id generation.
 */
async function countRetiredIds(world: World, cast: Cast) {
  let purgedMirrorIds = 0;
  let laterGenerationMirrors = 0;
  for (const { ref, store } of cast.calendars) {
    // Ids retired under busysync are Google's.
    if (store) continue;
    const record = world.emulator.state.calendar(ref.calendarId);
    for (const id of record?.reservedIds ?? []) {
      if (id.startsWith("bsm") && !record!.events.has(id)) purgedMirrorIds++;
    }
    for (const e of await world.mirrors(ref)) {
      if (e.extendedProperties.private.busysyncGen !== undefined) laterGenerationMirrors++;
    }
  }
  return { purgedMirrorIds, laterGenerationMirrors };
}
