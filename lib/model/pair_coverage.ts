/**
 * Which directed calendar pairs (source → target) are already mirrored, and by whom. A pair is
 * covered by a "coverer": an enabled rule (a both-ways rule covers both directions) or, later,
 * a group; a second coverer of the same pair would put a second busy block beside every one.
 */
import type { Group } from "./group.ts";
import type { Rule } from "./rule.ts";
import type { CalendarRef } from "./calendar_ref.ts";

/** One directed pair: events of `source` become busy blocks in `target`. */
export interface CalendarPair {
  source: CalendarRef;
  target: CalendarRef;
}

/** Something that mirrors a set of pairs: a rule (or a group, which feeds in the same way). */
export interface Coverer {
  kind: "rule" | "group";
  id: string;
  name: string;
  pairs: CalendarPair[];
}

/** A coverer already mirroring one of a candidate's pairs. */
export interface Covering {
  coverer: Coverer;
  /** The candidate's pair it covers. */
  pair: CalendarPair;
}

/** Coverers that mirror the same pairs: each pair in `pairs` is covered by all of them. */
export interface Duplicate {
  coverers: Coverer[];
  pairs: CalendarPair[];
}

/**
 * The identity of a calendar, as in targetsItself (rule.ts): Google calendar ids are global, so
 * one calendar reached through two connections is the same; only "primary" is per connection.
 */
function calendarIdentity(ref: CalendarRef): string {
  return JSON.stringify(
    ref.calendarId === "primary" ? ["primary", ref.connectionId] : ["id", ref.calendarId],
  );
}

function pairIdentity(pair: CalendarPair): string {
  return `${calendarIdentity(pair.source)}→${calendarIdentity(pair.target)}`;
}

/** The pairs a rule covers: both directions when it runs both ways, none while it is off. */
export function ruleCoverer(
  rule: Pick<Rule, "id" | "name" | "source" | "target" | "bidirectional" | "enabled">,
): Coverer {
  const forward = { source: rule.source, target: rule.target };
  const pairs = !rule.enabled
    ? []
    : rule.bidirectional
    ? [forward, { source: rule.target, target: rule.source }]
    : [forward];
  return { kind: "rule", id: rule.id, name: rule.name, pairs };
}

/** The pairs a group covers: every member into every other, none while it is off. */
export function groupCoverer(group: Pick<Group, "id" | "name" | "members" | "enabled">): Coverer {
  const pairs = !group.enabled
    ? []
    : group.members.flatMap((from) =>
      group.members.filter((to) => to !== from).map((to) => ({
        source: from.calendar,
        target: to.calendar,
      }))
    );
  return { kind: "group", id: group.id, name: group.name, pairs };
}

/** The pairs of `next` that `prev` did not cover: what a change adds (all of them for a new one). */
export function addedPairs(next: Coverer, prev?: Coverer): CalendarPair[] {
  const before = new Set((prev?.pairs ?? []).map(pairIdentity));
  return next.pairs.filter((p) => !before.has(pairIdentity(p)));
}

/**
 * The first coverer (in order) that already covers one of `candidatePairs`, skipping the one
 * with id `except` (the rule being replaced), or undefined.
 */
export function findCovering(
  candidatePairs: readonly CalendarPair[],
  coverers: readonly Coverer[],
  opts: { except?: string } = {},
): Covering | undefined {
  for (const coverer of coverers) {
    if (coverer.id === opts.except) continue;
    const covered = new Set(coverer.pairs.map(pairIdentity));
    const pair = candidatePairs.find((p) => covered.has(pairIdentity(p)));
    if (pair) return { coverer, pair };
  }
  return undefined;
}

/**
 * Sets of coverers that share pairs, for reporting a store that already holds duplicates. Pairs
 * shared by exactly the same coverers form one set (two identical both-ways rules are one
 * duplicate, not two), in the order the pairs first appear.
 */
export function findDuplicates(coverers: readonly Coverer[]): Duplicate[] {
  const byPair = new Map<string, { pair: CalendarPair; coverers: Coverer[] }>();
  for (const coverer of coverers) {
    for (const pair of coverer.pairs) {
      const id = pairIdentity(pair);
      const entry = byPair.get(id) ?? { pair, coverers: [] };
      if (!entry.coverers.includes(coverer)) entry.coverers.push(coverer);
      byPair.set(id, entry);
    }
  }
  const sets = new Map<string, Duplicate>();
  for (const { pair, coverers: shared } of byPair.values()) {
    if (shared.length < 2) continue;
    const key = JSON.stringify(shared.map((c) => [c.kind, c.id]));
    const set = sets.get(key) ?? { coverers: shared, pairs: [] };
    set.pairs.push(pair);
    sets.set(key, set);
  }
  return [...sets.values()];
}
