import type { ComponentChildren } from "preact";
import { calendarKey } from "../lib/model/calendar_ref.ts";
import { calendarWithAccount } from "../lib/model/calendar_name.ts";
import { CalendarSwatch } from "./CalendarSwatch.tsx";
import {
  type CalendarOption,
  EVENT_TYPE_CHOICES,
  PRIVACY_CHOICES,
  type RuleDraft,
  VISIBILITY_CHOICES,
  WEEKDAY_CHOICES,
} from "../lib/browser/rule_draft.ts";

/** What every section of the rule form gets: the draft, a way to change it, and its errors. */
export interface SectionProps {
  draft: RuleDraft;
  /** Applies a change; `path` is the field's dotted path. */
  change: (path: string, next: (d: RuleDraft) => RuleDraft) => void;
  /** The message to show under the field at `path`, if any. */
  errorFor: (path: string) => string | undefined;
}

/** A labelled control with its hint and error, tied together for screen readers. */
export function Field(
  { id, label, hint, error, children }: {
    id: string;
    label: string;
    hint?: string;
    error?: string;
    children: ComponentChildren;
  },
) {
  return (
    <div class={error ? "field field-invalid" : "field"}>
      <label for={id}>{label}</label>
      {children}
      {hint && <p class="hint" id={`${id}-hint`}>{hint}</p>}
      <p class="field-error" id={`${id}-error`} data-error-for={id} aria-live="polite">
        {error ?? ""}
      </p>
    </div>
  );
}

/** aria attributes of a control inside Field. */
export function described(id: string, error: string | undefined, hint = false) {
  return {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(" "),
  };
}

/** Shown after a calendar shared as free/busy only: why it cannot be picked at all. */
const FREE_BUSY_ONLY = " (free/busy only: its events cannot be read)";

function CalendarSelect(
  { id, value, options, forTarget, onChange, error }: {
    id: string;
    value: string;
    options: CalendarOption[];
    forTarget: boolean;
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
                {!o.readable ? FREE_BUSY_ONLY : forTarget && !o.writable ? " (read-only)" : ""}
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
  { draft, change, errorFor, calendars, hints, onName }: SectionProps & {
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

/** Privacy, the block's title and its visibility, each choice said in plain words. */
export function PrivacySection({ draft, change, errorFor }: SectionProps) {
  return (
    <fieldset class="form-section">
      <legend>What others see in the busy block</legend>
      <div class="choice-cards">
        {PRIVACY_CHOICES.map((c) => (
          <label class="choice-card" key={c.value}>
            <input
              type="radio"
              name="privacy"
              value={c.value}
              checked={draft.privacy === c.value}
              onChange={() => change("privacy", (d) => ({ ...d, privacy: c.value }))}
            />
            <span class="choice-title">{c.label}</span>
            <span class="choice-explain">{c.explain}</span>
          </label>
        ))}
      </div>
      <div class="field-pair">
        {draft.privacy === "busy"
          ? (
            <Field id="rule-title" label="Block title" error={errorFor("title")}>
              <input
                {...described("rule-title", errorFor("title"))}
                type="text"
                maxLength={200}
                value={draft.title}
                onInput={(e) =>
                  change("title", (d) => ({ ...d, title: (e.target as HTMLInputElement).value }))}
              />
            </Field>
          )
          : (
            <Field
              id="rule-prefix"
              label="Put before the title"
              hint="Optional, e.g. “[Personal] ”."
              error={errorFor("titlePrefix")}
            >
              <input
                {...described("rule-prefix", errorFor("titlePrefix"), true)}
                type="text"
                maxLength={50}
                value={draft.titlePrefix}
                onInput={(e) =>
                  change("titlePrefix", (d) => ({
                    ...d,
                    titlePrefix: (e.target as HTMLInputElement).value,
                  }))}
              />
            </Field>
          )}
        <Field
          id="rule-visibility"
          label="Who sees the block's title"
          hint={VISIBILITY_CHOICES.find((v) => v.value === draft.visibility)?.explain}
          error={errorFor("visibility")}
        >
          <select
            {...described("rule-visibility", errorFor("visibility"), true)}
            value={draft.visibility}
            onChange={(e) =>
              change("visibility", (d) => ({
                ...d,
                visibility: (e.target as HTMLSelectElement).value as RuleDraft["visibility"],
              }))}
          >
            {VISIBILITY_CHOICES.map((v) => <option key={v.value} value={v.value}>{v.label}
            </option>)}
          </select>
        </Field>
      </div>
      {draft.privacy !== "busy" && (
        <label class="check">
          <input
            type="checkbox"
            id="rule-copy-private"
            checked={draft.copyPrivateTitles}
            onChange={(e) =>
              change("copyPrivateTitles", (d) => ({
                ...d,
                copyPrivateTitles: (e.target as HTMLInputElement).checked,
              }))}
          />
          <span>
            Copy the titles of private events too
            <span class="check-hint">
              Events marked private or confidential otherwise show only “{draft.titlePrefix}
              {draft.title}”. Their place and notes are never copied.
            </span>
          </span>
        </label>
      )}
    </fieldset>
  );
}

const SKIPS = [
  ["skipAllDay", "All-day events", "Holidays, trips, birthdays: they rarely mean you are busy."],
  ["skipDeclined", "Events you declined", ""],
  ["skipTentative", "Tentative and unanswered invitations", "Until you say yes."],
  ["skipFree", "Events marked “free”", "Events that do not block your time."],
  [
    "skipInvitedInTarget",
    "Meetings the target calendar is invited to as well",
    "Its own invitation already blocks the time there, unless you declined it.",
  ],
] as const;

/**
 * Which events are left out, as checkboxes that read like sentences. Working hours start in
 * `zone` (the source calendar's), the zone its events are most likely planned in.
 */
export function FiltersSection({ draft, change, errorFor, zone }: SectionProps & { zone: string }) {
  const f = draft.filters;
  const setFilters = (path: string, next: Partial<RuleDraft["filters"]>) =>
    change(`filters.${path}`, (d) => ({ ...d, filters: { ...d.filters, ...next } }));
  const hours = f.workingHours;
  return (
    <fieldset class="form-section">
      <legend>Which events to leave out</legend>
      <div class="checks">
        {SKIPS.map(([key, label, hint]) => (
          <label class="check" key={key}>
            <input
              type="checkbox"
              checked={f[key]}
              onChange={(e) => setFilters(key, { [key]: (e.target as HTMLInputElement).checked })}
            />
            <span>
              {label}
              {hint && <span class="check-hint">{hint}</span>}
            </span>
          </label>
        ))}
        {EVENT_TYPE_CHOICES.map((t) => (
          <label class="check" key={t.value}>
            <input
              type="checkbox"
              checked={f.skipEventTypes.includes(t.value)}
              onChange={(e) =>
                setFilters("skipEventTypes", {
                  skipEventTypes: (e.target as HTMLInputElement).checked
                    ? [...f.skipEventTypes, t.value]
                    : f.skipEventTypes.filter((x) => x !== t.value),
                })}
            />
            <span>{t.label}</span>
          </label>
        ))}
        <label class="check">
          <input
            type="checkbox"
            checked={hours !== undefined}
            onChange={(e) =>
              setFilters("workingHours", {
                workingHours: (e.target as HTMLInputElement).checked
                  ? {
                    days: ["mon", "tue", "wed", "thu", "fri"],
                    start: "09:00",
                    end: "17:00",
                    timeZone: zone,
                  }
                  : undefined,
              })}
          />
          <span>
            Events outside working hours
            <span class="check-hint">Only mirror what happens within the hours below.</span>
          </span>
        </label>
      </div>
      {hours && (
        <div class="working-hours">
          <div class="days" role="group" aria-label="Working days">
            {WEEKDAY_CHOICES.map((day) => (
              <label class="day-chip" key={day.value}>
                <input
                  type="checkbox"
                  checked={hours.days.includes(day.value)}
                  onChange={(e) =>
                    setFilters("workingHours.days", {
                      workingHours: {
                        ...hours,
                        days: (e.target as HTMLInputElement).checked
                          ? WEEKDAY_CHOICES.map((w) => w.value).filter((w) =>
                            w === day.value || hours.days.includes(w)
                          )
                          : hours.days.filter((x) => x !== day.value),
                      },
                    })}
                />
                <span>{day.label}</span>
              </label>
            ))}
          </div>
          <p class="field-error" aria-live="polite">
            {errorFor("filters.workingHours.days") ?? ""}
          </p>
          <div class="field-trio">
            {(["start", "end"] as const).map((k) => (
              <Field
                key={k}
                id={`rule-hours-${k}`}
                label={k === "start" ? "From" : "Until"}
                error={errorFor(`filters.workingHours.${k}`)}
              >
                <input
                  {...described(`rule-hours-${k}`, errorFor(`filters.workingHours.${k}`))}
                  type="time"
                  value={hours[k]}
                  onInput={(e) =>
                    setFilters(`workingHours.${k}`, {
                      workingHours: { ...hours, [k]: (e.target as HTMLInputElement).value },
                    })}
                />
              </Field>
            ))}
            <Field
              id="rule-hours-zone"
              label="Time zone"
              error={errorFor("filters.workingHours.timeZone")}
            >
              <input
                {...described("rule-hours-zone", errorFor("filters.workingHours.timeZone"))}
                type="text"
                value={hours.timeZone}
                onInput={(e) =>
                  setFilters("workingHours.timeZone", {
                    workingHours: { ...hours, timeZone: (e.target as HTMLInputElement).value },
                  })}
              />
            </Field>
          </div>
        </div>
      )}
      <Field
        id="rule-exclude"
        label="Leave out events whose title matches"
        hint="Optional. A pattern, case ignored: “lunch|gym” leaves out both."
        error={errorFor("filters.excludeSummaryRegex")}
      >
        <input
          {...described("rule-exclude", errorFor("filters.excludeSummaryRegex"), true)}
          type="text"
          maxLength={200}
          value={f.excludeSummaryRegex ?? ""}
          onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            setFilters("excludeSummaryRegex", { excludeSummaryRegex: v === "" ? undefined : v });
          }}
        />
      </Field>
    </fieldset>
  );
}

/** How far back and ahead busy blocks are kept. */
export function WindowSection({ draft, change, errorFor }: SectionProps) {
  const field = (k: "daysBack" | "daysAhead", label: string, hint: string) => (
    <Field id={`rule-${k}`} label={label} hint={hint} error={errorFor(`window.${k}`)}>
      <input
        {...described(`rule-${k}`, errorFor(`window.${k}`), true)}
        type="number"
        inputMode="numeric"
        min={k === "daysBack" ? 0 : 1}
        max={k === "daysBack" ? 365 : 730}
        value={Number.isFinite(draft.window[k]) ? draft.window[k] : ""}
        onInput={(e) =>
          change(`window.${k}`, (d) => ({
            ...d,
            window: { ...d.window, [k]: (e.target as HTMLInputElement).valueAsNumber },
          }))}
      />
    </Field>
  );
  return (
    <fieldset class="form-section">
      <legend>How far</legend>
      <div class="field-pair">
        {field("daysBack", "Days back", "Past events keep their blocks this long.")}
        {field("daysAhead", "Days ahead", "How far into the future to mirror.")}
      </div>
      <label class="check">
        <input
          type="checkbox"
          checked={draft.enabled}
          onChange={(e) =>
            change("enabled", (d) => ({ ...d, enabled: (e.target as HTMLInputElement).checked }))}
        />
        <span>
          Rule is on
          <span class="check-hint">Turn it off to pause it without losing the settings.</span>
        </span>
      </label>
    </fieldset>
  );
}
