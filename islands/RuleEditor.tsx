import { useRef, useState } from "preact/hooks";
import { calendarKey } from "../lib/model/calendar_ref.ts";
import { CalendarsSection } from "../components/RuleFields.tsx";
import {
  FiltersSection,
  PrivacySection,
  WindowSection,
} from "../components/MirrorSettingsFields.tsx";
import { EditorActions } from "../components/EditorActions.tsx";
import { GroupProposal } from "../components/GroupProposal.tsx";
import { RulePreview } from "../components/RulePreview.tsx";
import {
  isValid,
  strayFields,
  usePreview,
  useSave,
  useValidation,
} from "../lib/browser/editor_checks.ts";
import { useHydrated } from "../lib/browser/hooks.ts";
import { type CalendarOption, type RuleDraft, suggestName } from "../lib/browser/rule_draft.ts";

export interface RuleEditorProps {
  /** Absent for a new rule. */
  ruleId?: string;
  draft: RuleDraft;
  /** The stored rule's ETag: saving it answers 409 if someone changed it meanwhile. */
  etag?: string;
  calendars: CalendarOption[];
  /** The server's "now" (ISO), so the preview's first week is the same on both renders. */
  today: string;
}

/** Field messages in plain words where the API's are about types and bounds. */
const PLAIN: Record<string, string> = {
  name: "Give the rule a name.",
  title: "Give the busy block a title.",
  "window.daysBack": "A whole number of days from 0 to 365.",
  "window.daysAhead": "A whole number of days from 1 to 730.",
};

/**
 * Creates or edits a rule. Every change is checked by `POST /api/rules/validate` as you type
 * (each error under its field, a cycle or a duplicate under the target, one with no field above
 * the form; Save stays off, saying why, while there is one; a cycle offers to make its
 * calendars a group instead), and
 * once valid the preview (`POST /api/rules/preview`) draws the busy blocks the rule would make
 * into a week of the target calendar, all before anything is saved; for a stored rule the
 * blocks that stay are drawn too. Saving is `POST
 * /api/rules` or `PUT /api/rules/{id}`; then the rules list opens.
 */
export default function RuleEditor(props: RuleEditorProps) {
  const hydrated = useHydrated();
  const [draft, setDraft] = useState<RuleDraft>(props.draft);
  const nameFollows = useRef(props.ruleId === undefined);

  const byKey = new Map(props.calendars.map((c) => [c.key, c]));
  const source = byKey.get(calendarKey(draft.source));
  const target = byKey.get(calendarKey(draft.target));

  const change = (path: string, next: (d: RuleDraft) => RuleDraft) => {
    setDraft((d) => {
      const updated = next(d);
      // A new rule's name follows its calendars until the person types one.
      const follows = path === "source" || path === "target" || path === "bidirectional";
      if (!nameFollows.current || !follows) return updated;
      const s = byKey.get(calendarKey(updated.source));
      const t = byKey.get(calendarKey(updated.target));
      return s && t ? { ...updated, name: suggestName(s, t, updated.bidirectional) } : updated;
    });
  };
  const onName = (name: string) => {
    nameFollows.current = false;
    change("name", (d) => ({ ...d, name }));
  };

  const [validation, setValidation] = useValidation("/api/rules/validate", {
    ...draft,
    ...(props.ruleId ? { id: props.ruleId } : {}),
  });
  const valid = isValid(validation);
  const [preview, refreshPreview] = usePreview("/api/rules/preview", {
    draft,
    id: props.ruleId,
    valid,
    noun: "rule",
  });

  // Every error is shown at once: Save is off while there is one, so the reason must be visible.
  const errorFor = (path: string): string | undefined => {
    const message = validation.fields[path];
    return message === undefined ? undefined : PLAIN[path] ?? message;
  };
  // Errors of fields the form has no place for (they should not happen) still get said.
  const placed = [
    "name",
    "source",
    "target",
    "title",
    "titlePrefix",
    "visibility",
    "filters",
    "window",
  ];
  const stray = strayFields(validation.fields, placed);

  const { saving, saveError, save: send } = useSave(
    "rules",
    { id: props.ruleId, etag: props.etag },
    setValidation,
  );
  const save = (e: Event) => {
    e.preventDefault();
    if (valid) send(draft);
  };

  const targets = [target, draft.bidirectional ? source : undefined].filter(
    (c): c is CalendarOption => c !== undefined && c.writable,
  );
  const sections = { draft, change, errorFor };
  return (
    <form class="editor" onSubmit={save} noValidate aria-describedby="editor-status">
      {validation.problem && (
        <p class="form-problem" role="alert" data-problem>{validation.problem}</p>
      )}
      <div class="editor-form">
        <CalendarsSection
          {...sections}
          calendars={props.calendars}
          hints={validation.hints}
          onName={onName}
        />
        {validation.code === "cycle" && <GroupProposal draft={draft} calendars={props.calendars} />}
        <PrivacySection {...sections} noun="rule" />
        <FiltersSection {...sections} noun="rule" zone={source?.timeZone ?? "UTC"} />
        <WindowSection {...sections} noun="rule" />
      </div>
      <div class="editor-side">
        <RulePreview
          preview={preview}
          targets={targets}
          today={props.today}
          editing={props.ruleId !== undefined}
          noun="rule"
          onRefresh={refreshPreview}
        />
        <EditorActions
          hydrated={hydrated}
          saving={saving}
          valid={valid}
          saveError={saveError}
          problem={validation.problem}
          stray={stray}
          saveLabel={props.ruleId ? "Save changes" : "Create rule"}
        />
      </div>
    </form>
  );
}
