/**
 * The rule editor's vocabulary: the draft it edits (the API's rule input, complete), the
 * calendars it offers, the options explained in plain words, and the preview it draws. Only
 * types come from lib/model/rule.ts and lib/rules/preview.ts, so no zod reaches the browser
 * bundle.
 */
import type { EventType, RuleInput, Weekday } from "../model/rule.ts";
import { type CalendarName, suggestRuleName } from "../model/calendar_name.ts";
import type { PreviewBlock, RulePreview } from "../rules/preview.ts";

export type RuleDraft = RuleInput;

/** A calendar the editor offers, with what the form needs to know about it. */
export interface CalendarOption extends CalendarName {
  /** calendarKey: `connectionId:calendarId`. */
  key: string;
  connectionId: string;
  calendarId: string;
  /** busysync can write mirrors into it (owner or writer); others are offered as sources only. */
  writable: boolean;
  /** False when shared as free/busy only: its events cannot be read, so it is no source either. */
  readable: boolean;
  timeZone: string;
}

export const PRIVACY_CHOICES: { value: RuleDraft["privacy"]; label: string; explain: string }[] = [
  {
    value: "busy",
    label: "Just “busy”",
    explain: "The block shows only the title you choose below. Nothing about the event is copied.",
  },
  {
    value: "title",
    label: "Event title",
    explain: "The block shows the event's title. Nothing else is copied.",
  },
  {
    value: "full",
    label: "Title, place and notes",
    explain: "Also copies the location and description. Never guests, meeting links or files.",
  },
];

export const VISIBILITY_CHOICES: {
  value: RuleDraft["visibility"];
  label: string;
  explain: string;
}[] = [
  {
    value: "private",
    label: "Private",
    explain: "People you share the calendar with see only that you are busy.",
  },
  {
    value: "default",
    label: "Calendar's default",
    explain: "Whatever the calendar shows others for your own events.",
  },
  {
    value: "public",
    label: "Public",
    explain: "Anyone who can see the calendar sees the block's title.",
  },
];

/** Event types a person can choose to skip; `default` (ordinary events) is always mirrored. */
export const EVENT_TYPE_CHOICES: { value: EventType; label: string }[] = [
  { value: "outOfOffice", label: "Out of office" },
  { value: "focusTime", label: "Focus time" },
  { value: "workingLocation", label: "Working location (office, home)" },
  { value: "birthday", label: "Birthdays" },
  { value: "fromGmail", label: "Events from Gmail (flights, reservations)" },
];

export const WEEKDAY_CHOICES: { value: Weekday; label: string }[] = [
  { value: "mon", label: "Mon" },
  { value: "tue", label: "Tue" },
  { value: "wed", label: "Wed" },
  { value: "thu", label: "Thu" },
  { value: "fri", label: "Fri" },
  { value: "sat", label: "Sat" },
  { value: "sun", label: "Sun" },
];

/** A name for a rule nobody named yet, from its calendars' names: "Personal ↔ Work". */
export function suggestName(
  source: CalendarOption,
  target: CalendarOption,
  bothWays = false,
): string {
  return suggestRuleName(source, target, bothWays);
}

/** A preview as the editor holds it: its blocks may include those that stay ("keep"). */
export type PreviewAnswer = Omit<RulePreview, "ops"> & { ops: PreviewOp[] };

/** The preview panel's state: waiting for a valid draft, loading (the last answer kept), … */
export type PreviewState =
  | { state: "waiting"; reason: string }
  | { state: "loading"; answer?: PreviewAnswer }
  | { state: "ready"; answer: PreviewAnswer }
  | { state: "error"; message: string };

/** "keep": a block the rule already made that stays as it is (edits only). */
export type PreviewOp = Omit<PreviewBlock, "kind"> & { kind: PreviewBlock["kind"] | "keep" };

/**
 * A stored rule's preview lists only what would change. Adds the blocks that stay, taken from
 * a preview of the same draft as a new rule (every block it wants): the week then shows the
 * whole target, with the changes marked.
 */
export function withUnchanged(changes: PreviewAnswer, whole: PreviewAnswer): PreviewAnswer {
  const key = (op: PreviewOp) => `${op.target}|${op.sourceEventId}`;
  const changed = new Set(changes.ops.map(key));
  const kept = whole.ops.filter((op) => !changed.has(key(op)))
    .map((op): PreviewOp => ({ ...op, kind: "keep" }));
  return { ...changes, ops: [...kept, ...changes.ops] };
}
