/**
 * The parts of the editor forms that rules and groups share: a labelled field, and the
 * sections of the mirror settings (privacy, filters, window) with the on/off switch.
 */
import type { ComponentChildren } from "preact";
import {
  EVENT_TYPE_CHOICES,
  PRIVACY_CHOICES,
  type RuleDraft,
  VISIBILITY_CHOICES,
  WEEKDAY_CHOICES,
} from "../lib/browser/rule_draft.ts";

/** What a rule and a group both hold: lib/model/rule.ts's mirror settings, and the switch. */
export type SettingsDraft = Pick<
  RuleDraft,
  | "enabled"
  | "privacy"
  | "title"
  | "titlePrefix"
  | "copyPrivateTitles"
  | "visibility"
  | "filters"
  | "window"
>;

/** What every section of a form gets: the draft, a way to change it, and its errors. */
export interface SectionProps<D extends SettingsDraft> {
  draft: D;
  /** Applies a change; `path` is the field's dotted path. */
  change: (path: string, next: (d: D) => D) => void;
  /** The message to show under the field at `path`, if any. */
  errorFor: (path: string) => string | undefined;
  /** What the form edits: in the controls' ids ("rule-title") and in its words. */
  noun: "rule" | "group";
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

/** Privacy, the block's title and its visibility, each choice said in plain words. */
export function PrivacySection<D extends SettingsDraft>(
  { draft, change, errorFor, noun }: SectionProps<D>,
) {
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
            <Field id={`${noun}-title`} label="Block title" error={errorFor("title")}>
              <input
                {...described(`${noun}-title`, errorFor("title"))}
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
              id={`${noun}-prefix`}
              label="Put before the title"
              hint="Optional, e.g. “[Personal] ”."
              error={errorFor("titlePrefix")}
            >
              <input
                {...described(`${noun}-prefix`, errorFor("titlePrefix"), true)}
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
          id={`${noun}-visibility`}
          label="Who sees the block's title"
          hint={VISIBILITY_CHOICES.find((v) => v.value === draft.visibility)?.explain}
          error={errorFor("visibility")}
        >
          <select
            {...described(`${noun}-visibility`, errorFor("visibility"), true)}
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
            id={`${noun}-copy-private`}
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
export function FiltersSection<D extends SettingsDraft>(
  { draft, change, errorFor, noun, zone }: SectionProps<D> & { zone: string },
) {
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
                id={`${noun}-hours-${k}`}
                label={k === "start" ? "From" : "Until"}
                error={errorFor(`filters.workingHours.${k}`)}
              >
                <input
                  {...described(`${noun}-hours-${k}`, errorFor(`filters.workingHours.${k}`))}
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
              id={`${noun}-hours-zone`}
              label="Time zone"
              error={errorFor("filters.workingHours.timeZone")}
            >
              <input
                {...described(`${noun}-hours-zone`, errorFor("filters.workingHours.timeZone"))}
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
        id={`${noun}-exclude`}
        label="Leave out events whose title matches"
        hint="Optional. A pattern, case ignored: “lunch|gym” leaves out both."
        error={errorFor("filters.excludeSummaryRegex")}
      >
        <input
          {...described(`${noun}-exclude`, errorFor("filters.excludeSummaryRegex"), true)}
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
export function WindowSection<D extends SettingsDraft>(
  { draft, change, errorFor, noun }: SectionProps<D>,
) {
  const field = (k: "daysBack" | "daysAhead", label: string, hint: string) => (
    <Field id={`${noun}-${k}`} label={label} hint={hint} error={errorFor(`window.${k}`)}>
      <input
        {...described(`${noun}-${k}`, errorFor(`window.${k}`), true)}
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
          {noun === "rule" ? "Rule" : "Group"} is on
          <span class="check-hint">Turn it off to pause it without losing the settings.</span>
        </span>
      </label>
    </fieldset>
  );
}
