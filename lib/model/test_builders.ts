/** Builders for tests of the model and the sync core: each returns a valid default a test overrides. */
import { buildEdges } from "./rule_graph.ts";
import { type Rule, RuleSchema } from "./rule.ts";
import type { Edge, LiveSourceEvent } from "./events.ts";

export const WORK = { connectionId: "connWork", calendarId: "me@work.example" };
export const HOME = { connectionId: "connHome", calendarId: "me@home.example" };

/** A fixed "now" inside every default event's window. */
export const NOW = new Date("2025-06-01T12:00:00Z");

type RuleOverrides = Omit<Partial<Rule>, "filters" | "window"> & {
  filters?: Partial<Rule["filters"]>;
  window?: Partial<Rule["window"]>;
};

/** A one-way WORK → HOME rule with every default, parsed like stored data. */
export function aRule(overrides: RuleOverrides = {}): Rule {
  return RuleSchema.parse({
    id: "rule1",
    name: "Work into home",
    source: WORK,
    target: HOME,
    createdAt: "2025-05-01T00:00:00.000Z",
    updatedAt: "2025-05-01T00:00:00.000Z",
    ...overrides,
  });
}

/** The forward edge of aRule(overrides). */
export function anEdge(
  { identity, ...overrides }: RuleOverrides & Pick<Edge, "identity"> = {},
): Edge {
  const edge = buildEdges([aRule(overrides)])[0];
  return identity ? { ...edge, identity } : edge;
}

/** A confirmed, busy, one-hour meeting on Tuesday 2025-06-03 10:00 in Berlin. */
export function anEvent(overrides: Partial<LiveSourceEvent> = {}): LiveSourceEvent {
  return {
    id: "evt1",
    status: "confirmed",
    summary: "Dentist",
    start: { dateTime: "2025-06-03T10:00:00+02:00", timeZone: "Europe/Berlin" },
    end: { dateTime: "2025-06-03T11:00:00+02:00", timeZone: "Europe/Berlin" },
    ...overrides,
  };
}

/** An all-day event on the given dates (end exclusive). */
export function anAllDayEvent(
  start: string,
  end: string,
  overrides: Partial<LiveSourceEvent> = {},
): LiveSourceEvent {
  return anEvent({ start: { date: start }, end: { date: end }, ...overrides });
}
