import { useRef, useState } from "preact/hooks";
import { calendarKey } from "../lib/model/calendar_ref.ts";
import { EditorActions } from "../components/EditorActions.tsx";
import { GroupMembersSection } from "../components/GroupMembers.tsx";
import {
  FiltersSection,
  PrivacySection,
  WindowSection,
} from "../components/MirrorSettingsFields.tsx";
import { RulePreview } from "../components/RulePreview.tsx";
import {
  isValid,
  strayFields,
  usePreview,
  useSave,
  useValidation,
} from "../lib/browser/editor_checks.ts";
import { type GroupDraft, suggestGroupName } from "../lib/browser/group_draft.ts";
import type { CalendarOption } from "../lib/browser/rule_draft.ts";
import { useHydrated } from "../lib/browser/hooks.ts";

export interface GroupEditorProps {
  /** Absent for a new group. */
  groupId?: string;
  draft: GroupDraft;
  /** The stored group's ETag: saving it answers 409 if someone changed it meanwhile. */
  etag?: string;
  calendars: CalendarOption[];
  /** How many calendars a group may hold. */
  maxMembers: number;
  /** The server's "now" (ISO), so the preview's first week is the same on both renders. */
  today: string;
}

/** Field messages in plain words where the API's are about types and bounds. */
const PLAIN: Record<string, string> = {
  name: "Give the group a name.",
  title: "Give the busy block a title.",
  "window.daysBack": "A whole number of days from 0 to 365.",
  "window.daysAhead": "A whole number of days from 1 to 730.",
};

/** The form's sections, by the first part of the paths of the errors they show. */
const PLACED = ["name", "members", "title", "titlePrefix", "visibility", "filters", "window"];

/**
 * Creates or edits a group. As the rule editor: every change is checked by
 * `POST /api/groups/validate` (each error under its field, `members.N.calendar` under that
 * member; Save stays off, saying why, while there is one), and once valid the preview
 * (`POST /api/groups/preview`) draws the busy blocks the group would make, a tab per member it
 * writes to. Saving is `POST /api/groups` or `PUT /api/groups/{id}`; then the rules list opens.
 */
export default function GroupEditor(props: GroupEditorProps) {
  const hydrated = useHydrated();
  const [draft, setDraft] = useState<GroupDraft>(props.draft);
  const nameFollows = useRef(props.groupId === undefined);

  const byKey = new Map(props.calendars.map((c) => [c.key, c]));
  const members = draft.members.map((m) => byKey.get(calendarKey(m.calendar)))
    .filter((c): c is CalendarOption => c !== undefined);

  const change = (path: string, next: (d: GroupDraft) => GroupDraft) => {
    setDraft((d) => {
      const updated = next(d);
      // A new group's name follows its members until the person types one.
      if (!nameFollows.current || path !== "members") return updated;
      const named = updated.members.map((m) => byKey.get(calendarKey(m.calendar)))
        .filter((c): c is CalendarOption => c !== undefined);
      return { ...updated, name: suggestGroupName(named) || updated.name };
    });
  };
  const onName = (name: string) => {
    nameFollows.current = false;
    change("name", (d) => ({ ...d, name }));
  };

  const [validation, setValidation] = useValidation("/api/groups/validate", {
    ...draft,
    ...(props.groupId ? { id: props.groupId } : {}),
  });
  const valid = isValid(validation);
  const [preview, refreshPreview] = usePreview("/api/groups/preview", {
    draft,
    id: props.groupId,
    valid,
    noun: "group",
  });

  const errorFor = (path: string): string | undefined => {
    const message = validation.fields[path];
    return message === undefined ? undefined : PLAIN[path] ?? message;
  };
  const stray = strayFields(validation.fields, PLACED);

  const { saving, saveError, save: send } = useSave(
    "groups",
    { id: props.groupId, etag: props.etag },
    setValidation,
  );
  const save = (e: Event) => {
    e.preventDefault();
    if (valid) send(draft);
  };

  const sections = { draft, change, errorFor, noun: "group" as const };
  return (
    <form class="editor" onSubmit={save} noValidate aria-describedby="editor-status">
      {validation.problem && (
        <p class="form-problem" role="alert" data-problem>{validation.problem}</p>
      )}
      <div class="editor-form">
        <GroupMembersSection
          draft={draft}
          change={change}
          errorFor={errorFor}
          calendars={props.calendars}
          max={props.maxMembers}
          onName={onName}
        />
        <PrivacySection {...sections} />
        <FiltersSection {...sections} zone={members[0]?.timeZone ?? "UTC"} />
        <WindowSection {...sections} />
      </div>
      <div class="editor-side">
        <RulePreview
          preview={preview}
          targets={members.filter((c) => c.writable)}
          today={props.today}
          editing={props.groupId !== undefined}
          noun="group"
          onRefresh={refreshPreview}
        />
        <EditorActions
          hydrated={hydrated}
          saving={saving}
          valid={valid}
          saveError={saveError}
          problem={validation.problem}
          stray={stray}
          saveLabel={props.groupId ? "Save changes" : "Create group"}
        />
      </div>
    </form>
  );
}
