/** The rule form's own part: its name and calendars. The settings are MirrorSettingsFields'. */
import { calendarKey } from "../lib/model/calendar_ref.ts";
import { calendarWithAccount } from "../lib/model/calendar_name.ts";
import { CalendarSwatch } from "./CalendarSwatch.tsx";
import { described, Field, type SectionProps } from "./MirrorSettingsFields.tsx";
import type { CalendarOption, RuleDraft } from "../lib/browser/rule_draft.ts";

/** Shown after a calendar shared as free/busy only: why it cannot be picked at all. */
const FREE_BUSY_ONLY = " (free/busy only: its events cannot be read)";

/**
 * A calendar picker grouped by account. `forTarget`: calendars busysync may not write to are
 * greyed out; otherwise `readOnlyNote` (when given) follows their name.
 */
export function CalendarSelect(
  { id, value, options, forTarget, onChange, error, readOnlyNote }: {
    id: string;
    value: string;
    options: CalendarOption[];
    forTarget: boolean;
    readOnlyNote?: string;
    onChange: (o: CalendarOption) => void;
    error?: string;
  },
) {
  const accounts = [...new Set(options.map((o) => o.account))];
  const picked = options.find((o) => o.key === value);
  return (
    <span class="calendar-select">
      <CalendarSwatch color={picked?.color} />
      <select
        {...described(id, error, true)}
        value={value}
        onChange={(e) => {
          const picked = options.find((o) => o.key === (e.target as HTMLSelectElement).value);
          if (picked) onChange(picked);
        }}
      >
        {accounts.map((account) => (
          <optgroup label={account} key={account}>
            {options.filter((o) => o.account === account).map((o) => (
              <option
                key={o.key}
                value={o.key}
                disabled={!o.readable || (forTarget && !o.writable)}
              >
                {/* A closed dropdown shows this line alone: it names the account too. */}
                {calendarWithAccount(o)}
                {!o.readable
                  ? FREE_BUSY_ONLY
                  : o.writable
                  ? ""
                  : forTarget
                  ? " (read-only)"
                  : readOnlyNote ?? ""}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
    </span>
  );
}

/** Name, source, target and direction, with the chains of rules that stop short. */
export function CalendarsSection(
  { draft, change, errorFor, calendars, hints, onName }: Omit<SectionProps<RuleDraft>, "noun"> & {
    calendars: CalendarOption[];
    hints?: string[];
    onName: (name: string) => void;
  },
) {
  const pick = (which: "source" | "target") => (o: CalendarOption) =>
    change(which, (d) => ({
      ...d,
      [which]: { connectionId: o.connectionId, calendarId: o.calendarId },
    }));
  const source = calendars.find((o) => o.key === calendarKey(draft.source));
  return (
    <fieldset class="form-section">
      <legend>Calendars</legend>
      <Field id="rule-name" label="Name" error={errorFor("name")}>
        <input
          {...described("rule-name", errorFor("name"))}
          type="text"
          maxLength={100}
          value={draft.name}
          onInput={(e) => onName((e.target as HTMLInputElement).value)}
        />
      </Field>
      <div class="field-stack">
        <Field
          id="rule-source"
          label="Read events from"
          hint={calendars.some((c) => !c.readable)
            ? "Any calendar whose events you can see. Calendars shared with you as free/busy " +
              "only are greyed out: Google shows busysync no events there."
            : "Any calendar you can see."}
          error={errorFor("source")}
        >
          <CalendarSelect
            id="rule-source"
            value={calendarKey(draft.source)}
            options={calendars}
            forTarget={false}
            onChange={pick("source")}
            error={errorFor("source")}
          />
        </Field>
        <Field
          id="rule-target"
          label="Add busy blocks to"
          hint="A calendar busysync may write to."
          error={errorFor("target")}
        >
          <CalendarSelect
            id="rule-target"
            value={calendarKey(draft.target)}
            options={calendars}
            forTarget
            onChange={pick("target")}
            error={errorFor("target")}
          />
        </Field>
      </div>
      <div class="choice-row" role="radiogroup" aria-labelledby="direction-label">
        <span id="direction-label" class="label">Direction</span>
        {[false, true].map((both) => (
          <label class="choice-inline" key={String(both)}>
            <input
              type="radio"
              name="direction"
              checked={draft.bidirectional === both}
              onChange={() => change("bidirectional", (d) => ({ ...d, bidirectional: both }))}
            />
            {both ? "Both ways" : "One way"}
          </label>
        ))}
      </div>
      <p class="hint">
        {draft.bidirectional
          ? "Each calendar also gets busy blocks for the other's events."
          : "Only the second calendar gets busy blocks."}
        {draft.bidirectional && source && !source.writable &&
          " The first calendar is read-only, so it cannot receive any."}
      </p>
      {hints?.map((hint) => <p class="form-hint" key={hint}>{hint}</p>)}
    </fieldset>
  );
}
