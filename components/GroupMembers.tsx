/** The group form's own part: its name and members, each with its privacy override. */
import { calendarKey } from "../lib/model/calendar_ref.ts";
import { CalendarSelect } from "./RuleFields.tsx";
import { described, Field, type SectionProps } from "./MirrorSettingsFields.tsx";
import type { GroupDraft } from "../lib/browser/group_draft.ts";
import { type CalendarOption, PRIVACY_CHOICES } from "../lib/browser/rule_draft.ts";

type Member = GroupDraft["members"][number];

/** Name and members: 2 to `max` calendars, read-only ones taking part as sources only. */
export function GroupMembersSection(
  { draft, change, errorFor, calendars, max, onName }: Omit<SectionProps<GroupDraft>, "noun"> & {
    calendars: CalendarOption[];
    max: number;
    onName: (name: string) => void;
  },
) {
  const byKey = new Map(calendars.map((c) => [c.key, c]));
  const chosen = new Set(draft.members.map((m) => calendarKey(m.calendar)));
  const spare = calendars.find((c) => c.readable && !chosen.has(c.key));
  const setMembers = (next: (members: Member[]) => Member[]) =>
    change("members", (d) => ({ ...d, members: next(d.members) }));
  const replace = (i: number, member: Member) =>
    setMembers((ms) => ms.map((m, j) => (j === i ? member : m)));
  return (
    <fieldset class="form-section">
      <legend>Calendars</legend>
      <Field id="group-name" label="Name" error={errorFor("name")}>
        <input
          {...described("group-name", errorFor("name"))}
          type="text"
          maxLength={100}
          value={draft.name}
          onInput={(e) => onName((e.target as HTMLInputElement).value)}
        />
      </Field>
      <p class="hint" id="members-hint">
        Every event of one of these calendars becomes a busy block in each of the others. A calendar
        you may only read takes part as a source only: its events block the others, and it gets no
        busy blocks.
      </p>
      <ol class="member-list" aria-describedby="members-hint">
        {draft.members.map((member, i) => (
          <MemberRow
            key={i}
            index={i}
            member={member}
            option={byKey.get(calendarKey(member.calendar))}
            calendars={calendars}
            errorFor={errorFor}
            canRemove={draft.members.length > 2}
            onChange={(m) => replace(i, m)}
            onRemove={() => setMembers((ms) => ms.filter((_, j) => j !== i))}
          />
        ))}
      </ol>
      <p class="field-error" data-error-for="group-members" aria-live="polite">
        {errorFor("members") ?? ""}
      </p>
      <button
        type="button"
        class="button button-secondary button-small"
        disabled={!spare || draft.members.length >= max}
        onClick={() =>
          spare && setMembers((ms) => [...ms, {
            calendar: { connectionId: spare.connectionId, calendarId: spare.calendarId },
          }])}
      >
        Add a calendar
      </button>
      {draft.members.length >= max && <p class="hint">A group holds at most {max} calendars.</p>}
    </fieldset>
  );
}

function MemberRow(
  { index, member, option, calendars, errorFor, canRemove, onChange, onRemove }: {
    index: number;
    member: Member;
    option: CalendarOption | undefined;
    calendars: CalendarOption[];
    errorFor: (path: string) => string | undefined;
    canRemove: boolean;
    onChange: (member: Member) => void;
    onRemove: () => void;
  },
) {
  const id = `group-member-${index}`;
  const calendarError = errorFor(`members.${index}.calendar`) ?? errorFor(`members.${index}`);
  const privacyError = errorFor(`members.${index}.privacy`);
  return (
    <li class="member-row" data-member={index}>
      <Field
        id={id}
        label={`Calendar ${index + 1}`}
        hint={option && !option.writable
          ? "Source only: busysync may not write to it, so it gets no busy blocks."
          : "Its events block the others; it gets theirs."}
        error={calendarError}
      >
        <CalendarSelect
          id={id}
          value={calendarKey(member.calendar)}
          options={calendars}
          forTarget={false}
          readOnlyNote=" (source only)"
          onChange={(o) =>
            onChange({
              ...member,
              calendar: { connectionId: o.connectionId, calendarId: o.calendarId },
            })}
          error={calendarError}
        />
      </Field>
      <Field id={`${id}-privacy`} label="Its events show" error={privacyError}>
        <select
          {...described(`${id}-privacy`, privacyError)}
          value={member.privacy ?? ""}
          onChange={(e) => {
            const value = (e.target as HTMLSelectElement).value;
            const { privacy: _p, ...rest } = member;
            onChange(
              value === "" ? rest : { ...rest, privacy: value as NonNullable<Member["privacy"]> },
            );
          }}
        >
          <option value="">The group's setting</option>
          {PRIVACY_CHOICES.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}
        </select>
      </Field>
      <button
        type="button"
        class="link-button member-remove"
        disabled={!canRemove}
        aria-label={`Remove calendar ${index + 1}`}
        onClick={onRemove}
      >
        Remove
      </button>
    </li>
  );
}
