/**
 * The rule: the public contract for "mirror busy time from this calendar into that one".
 *
 * These zod schemas are the only validation of rules: routes parse with them, storage parses
 * with them (adding its own `v`), and everything downstream takes the plain `Rule` type.
 */
import { z } from "zod";
import { isKnownTimeZone } from "./time_zone.ts";
import type { CalendarRef } from "./calendar_ref.ts";
import { explainRegexError } from "./regex_words.ts";

/** Ids we generate (ULIDs) and connection ids: a safe alphabet keeps calendar keys unambiguous. */
export const IdSchema = z.string().regex(
  /^[A-Za-z0-9_-]{1,64}$/,
  "expected 1-64 letters, digits, _ or -",
);

export const CalendarRefSchema = z.object({
  connectionId: IdSchema,
  calendarId: z.string().min(1).max(1024),
}) satisfies z.ZodType<CalendarRef>;

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Google's event types; `fromGmail` can be read but not created. */
export const EVENT_TYPES = [
  "default",
  "birthday",
  "focusTime",
  "fromGmail",
  "outOfOffice",
  "workingLocation",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM (00:00-23:59)");

const timeZone = z.string().min(1).max(64).refine(isKnownTimeZone, {
  message: "unknown IANA time zone",
});

export const WorkingHoursSchema = z.object({
  days: z.array(z.enum(WEEKDAYS)).min(1).refine((d) => new Set(d).size === d.length, {
    message: "each day at most once",
  }).describe('Weekdays as "mon".."sun"; the window starts on these days.'),
  start: clockTime,
  /** "24:00" ends at midnight; an end before the start runs past midnight into the next day. */
  end: z.union([clockTime, z.literal("24:00")]),
  timeZone,
}).refine((h) => h.start !== h.end, {
  message: "start and end must differ",
  path: ["end"],
});
export type WorkingHours = z.infer<typeof WorkingHoursSchema>;

/** Flags every summary regex runs with: matching ignores case; `u` makes the syntax strict. */
const SUMMARY_REGEX_FLAGS = "iu";
const SUMMARY_REGEX_MAX_LENGTH = 200;

/**
 * Compiles an `excludeSummaryRegex` exactly as the filter runs it.
 * Throws a SyntaxError when the pattern does not compile.
 */
export function compileSummaryRegex(source: string): RegExp {
  return new RegExp(source, SUMMARY_REGEX_FLAGS);
}

/**
 * Names why a summary regex is refused, or returns undefined when it is acceptable: it must
 * compile, stay short, and not repeat a group that itself repeats or alternates (`(a+)+`,
 * `(a|a)*`), the shapes whose backtracking takes exponential time on a crafted summary.
 */
export function findRegexProblem(source: string): string | undefined {
  if (source.length > SUMMARY_REGEX_MAX_LENGTH) {
    return `The pattern can be at most ${SUMMARY_REGEX_MAX_LENGTH} characters long.`;
  }
  try {
    compileSummaryRegex(source);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return explainRegexError(e);
  }
  if (hasNestedRepetition(source)) {
    return "The pattern repeats a group that itself repeats or has alternatives, like (a+)+: " +
      "matching it can take exponential time. Write it without the nesting.";
  }
  return undefined;
}

/** Scans a pattern that compiles; groups are tracked on a stack, classes and escapes skipped. */
function hasNestedRepetition(source: string): boolean {
  const groups: { risky: boolean }[] = [{ risky: false }];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      i++;
    } else if (c === "[") {
      for (i++; i < source.length && source[i] !== "]"; i++) if (source[i] === "\\") i++;
    } else if (c === "(") {
      groups.push({ risky: false });
    } else if (c === ")") {
      const closed = groups.pop()!;
      const repeated = repeatsAt(source, i + 1);
      if (repeated && closed.risky) return true;
      groups[groups.length - 1].risky ||= closed.risky || repeated;
    } else if (c === "|" || repeatsAt(source, i)) {
      groups[groups.length - 1].risky = true;
    }
  }
  return false;
}

/** True when a quantifier that can match more than once starts at `i` (`*`, `+`, `{2}`, `{0,}`). */
function repeatsAt(source: string, i: number): boolean {
  if (source[i] === "*" || source[i] === "+") return true;
  const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
  if (!braces) return false;
  const max = braces[2] === undefined ? braces[1] : braces[3];
  return max === "" || Number(max) > 1;
}

const summaryRegex = z.string().min(1).superRefine((source, ctx) => {
  const problem = findRegexProblem(source);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}).describe("Events whose summary matches are not mirrored (case-insensitive).");

/**
 * What a new rule leaves out. Out of office and focus time are not among them: they decline
 * meetings for the person (`autoDeclineMode`, developers.google.com/calendar/api/guides/
 * calendar-status), so they are busy time. Rules created before kept the old list: every
 * stored rule holds its filters explicitly (lib/db/rules.ts stores the parsed rule), so this
 * default reaches new rules only.
 */
export const DEFAULT_SKIPPED_EVENT_TYPES: EventType[] = ["workingLocation", "birthday"];

export const RuleFiltersSchema = z.object({
  skipAllDay: z.boolean().default(true),
  skipDeclined: z.boolean().default(true),
  /** Covers a tentative or unanswered (needsAction) invitation and a tentative event. */
  skipTentative: z.boolean().default(true),
  /** Events marked "show as free" (transparent). */
  skipFree: z.boolean().default(true),
  /**
   * Meetings the target calendar is invited to as well: it holds its own copy (same iCalUID) that
   * blocks time, organises the meeting, or is a guest who has not declined.
   */
  skipInvitedInTarget: z.boolean().default(true).describe(
    "Skip a meeting the target calendar holds its own invitation to (a guest who has not " +
      "declined, or a copy with the same iCalUID that blocks time there).",
  ),
  skipEventTypes: z.array(z.enum(EVENT_TYPES)).default(() => [...DEFAULT_SKIPPED_EVENT_TYPES]),
  workingHours: WorkingHoursSchema.optional(),
  excludeSummaryRegex: summaryRegex.optional(),
});
export type RuleFilters = z.infer<typeof RuleFiltersSchema>;

/** Bounded so a full listing of the source stays a few thousand events, not years of them. */
export const RuleWindowSchema = z.object({
  daysBack: z.number().int().min(0).max(365).default(7),
  daysAhead: z.number().int().min(1).max(730).default(60),
});
export type RuleWindow = z.infer<typeof RuleWindowSchema>;

/**
 * ok; paused (its account must be connected again); needs_confirmation (the delete guard holds
 * it); broken (skipped until a full reconcile or a confirmation); failing (still synced every
 * run, but several runs in a row could not apply it).
 */
export const RULE_STATUSES = ["ok", "paused", "needs_confirmation", "broken", "failing"] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

export const PRIVACY_MODES = ["busy", "title", "full"] as const;
export const PrivacySchema = z.enum(PRIVACY_MODES).describe(
  "busy: summary is titlePrefix + title, nothing else copied; title: titlePrefix + the " +
    "source summary; full: also location and description. Never attendees, conference " +
    "links or attachments.",
);
export const NameSchema = z.string().trim().min(1).max(100);
const title = z.string().trim().min(1).max(200);
const titlePrefix = z.string().max(50);
const copyPrivateTitles = z.boolean().describe(
  "Under title and full privacy, also copy the titles of events marked private or " +
    "confidential (never their location or description); off: they show only the busy title.",
);
/** Visibility of the mirrors busysync writes (an extension of the seed's contract). */
const visibility = z.enum(["private", "default", "public"]);

/**
 * How mirrors look and which events they are made from: the same fields, validation and defaults
 * for a rule and for a group (lib/model/group.ts).
 */
export const mirrorSettingFields = {
  privacy: PrivacySchema.default("busy"),
  title: title.default("Busy"),
  titlePrefix: titlePrefix.default(""),
  copyPrivateTitles: copyPrivateTitles.default(false),
  visibility: visibility.default("private"),
  filters: RuleFiltersSchema.prefault({}),
  window: RuleWindowSchema.prefault({}),
};

const ruleFields = {
  name: NameSchema,
  source: CalendarRefSchema,
  target: CalendarRefSchema,
  bidirectional: z.boolean().default(false),
  enabled: z.boolean().default(true),
  ...mirrorSettingFields,
};

/**
 * True when a rule's target is its own source. Google calendar ids are global, so one calendar
 * reached through two accounts is still itself; only the alias "primary" differs per account.
 */
export function targetsItself(r: { source: CalendarRef; target: CalendarRef }): boolean {
  return isSameCalendar(r.source, r.target);
}

/** Whether two refs name one calendar (one calendar id through two accounts is one calendar). */
export function isSameCalendar(a: CalendarRef, b: CalendarRef): boolean {
  return a.calendarId === b.calendarId &&
    (a.connectionId === b.connectionId || a.calendarId !== "primary");
}
/** Tagged so the API can tell "valid but unacceptable" (422) from a malformed field (400). */
const selfTargetError = {
  message: "A calendar cannot be its own target.",
  path: ["target"],
  params: { problem: "self_target" },
};

/** Whether a zod issue is the self-target refusal of RuleInputSchema or RuleSchema. */
export function isSelfTargetIssue(issue: { code: string; params?: unknown }): boolean {
  return issue.code === "custom" &&
    (issue.params as { problem?: string } | undefined)?.problem === "self_target";
}

/** What a client sends to create (or replace) a rule; parsing applies every default. */
export const RuleInputSchema = z.object(ruleFields).refine(
  (r) => !targetsItself(r),
  selfTargetError,
);
export type RuleInput = z.infer<typeof RuleInputSchema>;

/** A stored rule as the API returns it. */
export const RuleSchema = z.object({
  id: IdSchema,
  ...ruleFields,
  status: z.enum(RULE_STATUSES).default("ok"),
  statusReason: z.string().max(500).optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
}).refine((r) => !targetsItself(r), selfTargetError);
export type Rule = z.infer<typeof RuleSchema>;

/**
 * A PATCH body: any subset of the input, with no defaults applied (an absent field keeps its
 * value); `filters` and `window` merge field by field; `null` removes an optional filter.
 */
/** The patchable mirror settings, shared with a group's PATCH. */
export const mirrorSettingPatchFields = {
  privacy: PrivacySchema.optional(),
  title: title.optional(),
  titlePrefix: titlePrefix.optional(),
  copyPrivateTitles: copyPrivateTitles.optional(),
  visibility: visibility.optional(),
  filters: z.object({
    skipAllDay: z.boolean().optional(),
    skipDeclined: z.boolean().optional(),
    skipTentative: z.boolean().optional(),
    skipFree: z.boolean().optional(),
    skipInvitedInTarget: z.boolean().optional(),
    skipEventTypes: z.array(z.enum(EVENT_TYPES)).optional(),
    workingHours: WorkingHoursSchema.nullable().optional(),
    excludeSummaryRegex: summaryRegex.nullable().optional(),
  }).optional(),
  window: z.object({
    daysBack: RuleWindowSchema.shape.daysBack.unwrap().optional(),
    daysAhead: RuleWindowSchema.shape.daysAhead.unwrap().optional(),
  }).optional(),
};

export const RulePatchSchema = z.object({
  name: NameSchema.optional(),
  source: CalendarRefSchema.optional(),
  target: CalendarRefSchema.optional(),
  bidirectional: z.boolean().optional(),
  enabled: z.boolean().optional(),
  ...mirrorSettingPatchFields,
});
export type RulePatch = z.infer<typeof RulePatchSchema>;

/** Builds a new rule from parsed input: status "ok", both timestamps `now`. */
export function buildRule(input: RuleInput, { id, now }: { id: string; now: Date }): Rule {
  const at = now.toISOString();
  return { id, ...input, status: "ok", createdAt: at, updatedAt: at };
}

/**
 * Applies a parsed patch to a rule and stamps `updatedAt`. The result is re-parsed with
 * RuleSchema, so a patch that makes the rule invalid as a whole (now targeting itself) throws
 * a ZodError like any other invalid input.
 */
export function applyRulePatch(rule: Rule, patch: RulePatch, now: Date): Rule {
  return RuleSchema.parse({ ...mergePatch(rule, patch), updatedAt: now.toISOString() });
}

/**
 * `value` with `patch` applied as a PATCH means it: absent fields keep their value, `filters`
 * and `window` merge field by field, and `null` removes an optional filter. Shared by rules and
 * groups; the caller re-parses the result.
 */
export function mergePatch<
  T extends { filters: RuleFilters; window: RuleWindow },
  P extends { filters?: RulePatch["filters"]; window?: RulePatch["window"] },
>(value: T, patch: P): T {
  const { filters, window, ...top } = patch;
  const merged = {
    ...value,
    ...defined(top),
    filters: { ...value.filters, ...defined(filters ?? {}) },
    window: { ...value.window, ...defined(window ?? {}) },
  };
  for (const key of ["workingHours", "excludeSummaryRegex"] as const) {
    if (merged.filters[key] === null) delete merged.filters[key];
  }
  return merged as T;
}

/**
 * A whole replacement (a PUT) as a patch: the optional filters it leaves out are removed, not
 * kept. Shared by rules and groups.
 */
export function replacementPatch<T extends { filters: RuleFilters }>(input: T) {
  return {
    ...input,
    filters: {
      ...input.filters,
      workingHours: input.filters.workingHours ?? null,
      excludeSummaryRegex: input.filters.excludeSummaryRegex ?? null,
    },
  };
}

/** Drops keys whose value is undefined, so spreading a patch never erases a field. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
