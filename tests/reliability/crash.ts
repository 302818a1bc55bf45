/**
 * Crash safety: a sync of a large calendar runs in a child process (crash_child.ts) that is
 * killed with SIGKILL at a random instant; then a sync is started again in this process, as a
 * restarted server would, and the targets and the store must converge: no duplicate, nothing
 * missing or stale (the reference model), a ledger in step with the targets, and a further run
 * that finds nothing to write.
 *
 * Trials alternate between killing the first sync (empty ledger, every mirror being created)
 * and killing an incremental sync after a batch of moves, renames and deletes. The restart
 * waits for the killed run's lease to expire, as it would in production: the child's lease
 * lasts `leaseTtlMs` (renewed while it runs), so recovery includes up to that wait.
 */
import { keys } from "../../lib/db/keys.ts";
import { until } from "../support/poll.ts";
import type { Rule } from "../../lib/model/rule.ts";
import { type Person, type RawEvent, TEST_KEY, World, writesIn } from "../sync/support.ts";
import { type CalDavTestServer, makeCalendar } from "../support/caldav_servers.ts";
import { caldavEventStore } from "./caldav_calendar.ts";
import { CHILD_CONFIG_VAR, type ChildConfig } from "./crash_child.ts";
import {
  checkConvergence,
  type CheckFigures,
  type Convergence,
  figuresOf,
  type TestCalendar,
} from "./convergence.ts";
import { createRandom, type Random } from "./random.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const CHILD = new URL("./crash_child.ts", import.meta.url).pathname;
const REPO = new URL("../../", import.meta.url).pathname;

export interface CrashOptions {
  seed: number;
  trials: number;
  /** Source events per trial (some are weekly series of three). */
  events: number;
  /** The child's lease lifetime. */
  leaseTtlMs: number;
  /** Trials alternate initial and incremental kills; false: every trial kills the first sync. */
  incrementalTrials: boolean;
  /**
   * The emulator stores an insert of a taken id under a new id instead of answering 409, as
   * Google allows ("we cannot guarantee that ID collisions will be detected at event creation
   * time", Event.id): a restart that resent an insert the killed run made would then duplicate
   * it, so only the write intents keep the targets clean.
   */
  undetectedCollisions?: boolean;
  /**
   * A real CalDAV server: the first rule's target is then a calendar there, so kills land
   * between a PUT and its ledger write, or while a PUT is in flight.
   */
  caldav?: CalDavTestServer;
  log?: (line: string) => void;
}

type TrialKind = "initial" | "incremental";

export interface CrashTrial extends CheckFigures {
  kind: TrialKind;
  /** When the kill was due, in ms after the child started its sync. */
  killedAtMs: number;
  /** False when the child's sync had finished before its kill was due (nothing cut short). */
  killedMidRun: boolean;
  /** From the kill to the end of the restarted sync, the lease wait included. */
  recoveryMs: number;
  /** Calendar writes of one more sync after recovery (0: the store knows every mirror). */
  writesAfterRecovery: number;
}

export interface CrashResult {
  trials: number;
  events: number;
  /** Every draw's kill time (more than `trials` when a kill came too late and was redrawn). */
  killedAtMs: number[];
  /** Draws whose kill cut the run short; a trial is redrawn until one does (3 draws at most). */
  killedMidRun: number;
  duplicates: number;
  missing: number;
  stale: number;
  ledgerMismatches: number;
  writesAfterRecovery: number;
  maxRecoveryMs: number;
  /** How long an uncut child sync of each kind took; kills are drawn inside that span. */
  calibrationMs: Partial<Record<TrialKind, number>>;
  details: CrashTrial[];
  problems: string[];
  wallMs: number;
}

interface Stage {
  person: Person;
  rules: Rule[];
  calendars: TestCalendar[];
}

const ZONES = { src: "Europe/Berlin", dst: "UTC", other: "America/New_York" };

/**
 * `count` source items between now and 50 days ahead: single events, some weekly series; the
 * declined ones are returned apart, since their attendee entry names the calendar, whose id is
 * known only once it is seeded.
 */
function sourceEvents(random: Random, count: number, origin: number) {
  const events: RawEvent[] = [];
  const declined: RawEvent[] = [];
  for (let i = 0; i < count; i++) {
    const start = origin + random.int(0, 50 * 24 * 4) * 15 * MINUTE;
    const end = start + random.pick([30, 60, 90]) * MINUTE;
    const kind = random.weighted({ plain: 82, free: 5, declined: 5, allDay: 3, series: 5 });
    const base = {
      summary: `event ${i}`,
      start: { dateTime: new Date(start).toISOString() },
      end: { dateTime: new Date(end).toISOString() },
    };
    if (kind === "declined") declined.push(base);
    else if (kind === "free") events.push({ ...base, transparency: "transparent" });
    else if (kind === "allDay") {
      const date = new Date(start).toISOString().slice(0, 10);
      const next = Temporal.PlainDate.from(date).add({ days: 1 }).toString();
      events.push({ summary: base.summary, start: { date }, end: { date: next } });
    } else if (kind === "series") {
      events.push({
        ...base,
        start: { ...base.start, timeZone: ZONES.src },
        end: { ...base.end, timeZone: ZONES.src },
        recurrence: ["RRULE:FREQ=WEEKLY;COUNT=3"],
      });
    } else events.push(base);
  }
  return { events, declined };
}

/**
 * A person whose source calendar holds `events` events, and two rules (one both ways); the
 * first rule's target is a calendar on `caldav` when given.
 */
async function stage(
  world: World,
  random: Random,
  events: number,
  caldav?: CalDavTestServer,
): Promise<Stage> {
  const origin = Math.ceil(Date.now() / HOUR) * HOUR + HOUR;
  const src = sourceEvents(random, events, origin);
  const other = sourceEvents(random, Math.ceil(events / 10), origin);
  const person = await world.aPerson(ZONES, { src: src.events, other: other.events });
  for (const e of src.declined) {
    await world.addEvent(person.cal.src, {
      ...e,
      attendees: [
        { email: "organizer@example.org", organizer: true, responseStatus: "accepted" },
        { email: person.cal.src.calendarId, responseStatus: "declined" },
      ],
    });
  }
  const calendars: TestCalendar[] = Object.entries(ZONES).map(([name, timeZone]) => ({
    ref: person.cal[name],
    timeZone,
  }));
  if (caldav) {
    const url = await makeCalendar(caldav.aliceHome, caldav.alice, crypto.randomUUID());
    const { refs: [dav] } = await world.aCalDavAccount(person.userId, {
      homeUrl: caldav.aliceHome,
      ...caldav.alice,
      fetch,
    }, [{ url, timeZone: "UTC" }]);
    person.cal.dst = dav;
    calendars[1] = { ref: dav, timeZone: "UTC", store: caldavEventStore(url, caldav.alice) };
  }
  const rules = [
    await world.aRule(person, { source: person.cal.src, target: person.cal.dst }),
    await world.aRule(person, {
      source: person.cal.src,
      target: person.cal.other,
      bidirectional: true,
      privacy: "title",
    }),
  ];
  return { person, rules, calendars };
}

/**
 * The changes an incremental run then applies: of the source's single events, about 10% move,
 * 10% are renamed and 5% deleted (below the delete guard's 20%, so the run is not stopped).
 */
async function change(world: World, random: Random, s: Stage): Promise<void> {
  const cal = s.person.cal.src;
  for (const e of await world.rawEvents(cal)) {
    // The calendar also holds mirrors from the other calendar: those are busysync's, not hers.
    const own = e.extendedProperties?.private?.busysync !== "1";
    if (!own || e.recurrence || e.start.date !== undefined) continue;
    const what = random.weighted({ keep: 75, move: 10, rename: 10, remove: 5 });
    if (what === "move") {
      const shift = random.pick([-3, -1, 1, 2, 5]) * HOUR;
      await world.patchEvent(cal, e.id, {
        start: { dateTime: new Date(Date.parse(e.start.dateTime) + shift).toISOString() },
        end: { dateTime: new Date(Date.parse(e.end.dateTime) + shift).toISOString() },
      });
    } else if (what === "rename") {
      await world.patchEvent(cal, e.id, { summary: `${e.summary} (renamed)` });
    } else if (what === "remove") {
      await world.deleteEvent(cal, e.id);
    }
  }
}

/**
 * Runs crash_child.ts for `person` and kills it `killAfterMs` after it reported that its sync
 * started (never, when undefined). Resolves once the child is gone, with how long its sync
 * ran (until it finished or was killed) and, for a run that finished, how long the process
 * lived on after it.
 */
export async function runChild(
  world: World,
  person: Person,
  leaseTtlMs: number,
  killAfterMs?: number,
): Promise<{ syncMs: number; lingerMs: number; killedAt?: number; cutShort: boolean }> {
  const config: ChildConfig = {
    kvPath: world.kvPath,
    apiUrl: world.emulator.url,
    userId: person.userId,
    leaseTtlMs,
    key: TEST_KEY,
    caldav: world.reachesCalDav,
    connections: { [person.connectionId]: world.grantOf(person.connectionId) },
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD],
    cwd: REPO,
    env: { [CHILD_CONFIG_VAR]: JSON.stringify(config) },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let exited = false;
  let killedAt: number | undefined;
  let cutShort = false;
  let startedAt = NaN;
  let syncedAt = NaN;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let output = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    output += chunk;
    if (Number.isNaN(startedAt) && output.includes("syncing\n")) {
      startedAt = performance.now();
      if (killAfterMs !== undefined) {
        timer = setTimeout(() => {
          if (exited) return;
          child.kill("SIGKILL");
          killedAt = performance.now();
          cutShort = Number.isNaN(syncedAt);
        }, killAfterMs);
      }
    }
    if (Number.isNaN(syncedAt) && output.includes("synced ")) syncedAt = performance.now();
  }
  const { success, signal } = await status;
  clearTimeout(timer);
  if (killedAt === undefined && !success) {
    throw new Error(`crash child failed (${signal}):\n${output}`);
  }
  if (Number.isNaN(startedAt)) throw new Error(`crash child never started its sync:\n${output}`);
  const exitedAt = performance.now();
  const syncMs = (Number.isNaN(syncedAt) ? exitedAt : syncedAt) - startedAt;
  return { syncMs, lingerMs: exitedAt - syncedAt, killedAt, cutShort };
}

/**
 * Syncs `person` in this process once the lease a killed run left behind has expired: waits
 * out the lease's own `until`, then polls while the store still calls it held (clock skew
 * between processes), up to `deadlineMs`.
 */
async function syncAfterCrash(world: World, person: Person, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  if ((await world.sync(person)).status !== "coalesced") return;
  const lease = await world.kv.get<{ until: string }>(keys.lease(person.userId));
  const wait = lease.value ? Date.parse(lease.value.until) - Date.now() : 0;
  await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 20)));
  await until(
    "the killed run's lease to expire",
    async () => (await world.sync(person)).status !== "coalesced",
    Math.max(deadline - Date.now(), 0),
    20,
  );
}

/** A world staged for one kind of trial, up to the sync the child will run. */
async function prepare(random: Random, kind: TrialKind, opts: CrashOptions) {
  const world = await World.start();
  try {
    if (opts.undetectedCollisions) {
      await world.admin("POST", "quirks", { undetectedCollisions: true });
    }
    const s = await stage(world, random, opts.events, opts.caldav);
    if (kind === "incremental") {
      await world.sync(s.person);
      await change(world, random, s);
    }
    return { world, stage: s };
  } catch (err) {
    await world.close();
    throw err;
  }
}

const MAX_DRAWS = 3;

/** One trial in a world of its own: the child's run killed, a restart, the checks. */
async function runTrial(
  random: Random,
  kind: TrialKind,
  killAfterMs: number,
  opts: CrashOptions,
): Promise<{ result: CrashTrial; syncMs: number; check: Convergence }> {
  const { world, stage: s } = await prepare(random, kind, opts);
  try {
    const run = await runChild(world, s.person, opts.leaseTtlMs, killAfterMs);
    const recoveryFrom = run.killedAt ?? performance.now();
    await syncAfterCrash(world, s.person);
    const recoveryMs = Math.round(performance.now() - recoveryFrom);
    const check = await checkConvergence(world, {
      calendars: s.calendars,
      rules: s.rules,
      userIds: [s.person.userId],
    });
    await world.takeRequests();
    const after = await world.sync(s.person);
    const caldavWrites = after.status === "completed"
      ? ["caldav.put", "caldav.delete"].reduce(
        (n, m) => n + (after.run.apiCalls.methods[m] ?? 0),
        0,
      )
      : 0;
    const writesAfterRecovery = writesIn(await world.takeRequests()) + caldavWrites;
    const result: CrashTrial = {
      kind,
      killedAtMs: killAfterMs,
      killedMidRun: run.cutShort,
      recoveryMs,
      writesAfterRecovery,
      ...figuresOf(check),
    };
    return { result, syncMs: run.syncMs, check };
  } finally {
    await world.close();
  }
}

/** Runs the trials, each in a world of its own, and returns their figures. */
export async function runCrashTrials(opts: CrashOptions): Promise<CrashResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const random = createRandom(opts.seed);
  const calibrationMs: Partial<Record<TrialKind, number>> = {};
  // How long an uncut child sync of this kind takes, so that kills land inside the run.
  const calibrate = async (kind: TrialKind) => {
    if (calibrationMs[kind] !== undefined) return calibrationMs[kind];
    const { world, stage: s } = await prepare(random, kind, opts);
    try {
      calibrationMs[kind] = Math.round(
        (await runChild(world, s.person, opts.leaseTtlMs)).syncMs,
      );
      log(`calibration ${kind}: ${calibrationMs[kind]} ms`);
      return calibrationMs[kind];
    } finally {
      await world.close();
    }
  };

  const details: CrashTrial[] = [];
  const problems: string[] = [];
  for (let trial = 1; trial <= opts.trials; trial++) {
    const kind: TrialKind = opts.incrementalTrials && trial % 2 === 0 ? "incremental" : "initial";
    let span = await calibrate(kind);
    // A kill after the run ended tests nothing: such a trial is drawn again (a few times at
    // most), its kill now inside the span that run took. Every draw's check still counts.
    for (let draw = 1;; draw++) {
      const killAfterMs = Math.round(span * (0.02 + 0.88 * random.next()));
      const { result, syncMs, check } = await runTrial(random, kind, killAfterMs, opts);
      details.push(result);
      problems.push(...check.problems.map((p) => `trial ${trial}: ${p}`));
      log(`trial ${trial}/${opts.trials}: ${JSON.stringify(result)}`);
      if (result.killedMidRun || draw === MAX_DRAWS) break;
      span = Math.min(span, syncMs);
    }
  }
  const sum = (f: (t: CrashTrial) => number) => details.reduce((n, t) => n + f(t), 0);
  return {
    trials: opts.trials,
    events: opts.events,
    killedAtMs: details.map((t) => t.killedAtMs),
    killedMidRun: details.filter((t) => t.killedMidRun).length,
    duplicates: sum((t) => t.duplicates),
    missing: sum((t) => t.missing),
    stale: sum((t) => t.stale),
    ledgerMismatches: sum((t) => t.ledgerMismatches),
    writesAfterRecovery: sum((t) => t.writesAfterRecovery),
    maxRecoveryMs: Math.max(0, ...details.map((t) => t.recoveryMs)),
    calibrationMs,
    details,
    problems,
    wallMs: Math.round(performance.now() - started),
  };
}
