import { useEffect, useRef, useState } from "preact/hooks";
import { calendarKey } from "../lib/model/calendar_ref.ts";
import {
  CalendarsSection,
  FiltersSection,
  PrivacySection,
  WindowSection,
} from "../components/RuleFields.tsx";
import { type PreviewState, RulePreview } from "../components/RulePreview.tsx";
import { type ApiError, callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";
import {
  type CalendarOption,
  type PreviewAnswer,
  type RuleDraft,
  suggestName,
  withUnchanged,
} from "../lib/browser/rule_draft.ts";

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

interface Validation {
  fields: Record<string, string>;
  /** A problem of the rule set rather than a field: a cycle, an unwritable target. */
  problem?: string;
  /** Chains of rules that stop short of what a person may expect, in words. */
  hints?: string[];
}

/** Field messages in plain words where the API's are about types and bounds. */
const PLAIN: Record<string, string> = {
  name: "Give the rule a name.",
  title: "Give the busy block a title.",
  "window.daysBack": "A whole number of days from 0 to 365.",
  "window.daysAhead": "A whole number of days from 1 to 730.",
};

const VALIDATE_DELAY_MS = 250;
const PREVIEW_DELAY_MS = 400;

/**
 * Creates or edits a rule. Every change is checked by `POST /api/rules/validate` as you type
 * (each error under its field, a cycle or a duplicate under the target, one with no field above
 * the form; Save stays off, saying why, while there is one), and
 * once valid the preview (`POST /api/rules/preview`) draws the busy blocks the rule would make
 * into a week of the target calendar, all before anything is saved; for a stored rule the
 * blocks that stay are drawn too. Saving is `POST
 * /api/rules` or `PUT /api/rules/{id}`; then the rules list opens.
 */
export default function RuleEditor(props: RuleEditorProps) {
  const hydrated = useHydrated();
  const [draft, setDraft] = useState<RuleDraft>(props.draft);
  const [validation, setValidation] = useState<Validation>({ fields: {} });
  const [preview, setPreview] = useState<PreviewState>({
    state: "loading",
  });
  const [previewTick, setPreviewTick] = useState(0);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
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

  // Live validation: a burst of keystrokes makes one request, and a stale answer is dropped.
  useEffect(() => {
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      const res = await callApi<{ hints: { message: string }[] }>(
        "POST",
        "/api/rules/validate",
        { ...draft, ...(props.ruleId ? { id: props.ruleId } : {}) },
        { signal: abort.signal },
      ).catch(() => null);
      if (!res) return;
      setValidation(
        res.ok
          ? { fields: {}, hints: res.data.hints.map((h) => h.message) }
          : validationOf(res.error),
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [draft]);

  const valid = Object.keys(validation.fields).length === 0 && !validation.problem;
  // Everything but the name and the on/off switch changes what the preview shows.
  const { name: _n, enabled: _e, ...previewed } = draft;
  const previewKey = JSON.stringify(previewed);

  useEffect(() => {
    if (!valid) {
      setPreview({ state: "waiting", reason: "The preview appears once the rule is valid." });
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      setPreview((p) => ({
        state: "loading",
        answer: p.state === "ready" || p.state === "loading" ? p.answer : undefined,
      }));
      const ask = (body: unknown) =>
        callApi<PreviewAnswer>("POST", "/api/rules/preview", body, { signal: abort.signal });
      const answers = await Promise.all([
        ask({ ...draft, ...(props.ruleId ? { id: props.ruleId } : {}) }),
        props.ruleId ? ask(draft) : undefined,
      ]).catch(() => null);
      if (!answers) return;
      const [changes, whole] = answers;
      if (!changes.ok) return setPreview({ state: "error", message: changes.error.message });
      setPreview({
        state: "ready",
        answer: whole?.ok ? withUnchanged(changes.data, whole.data) : changes.data,
      });
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [previewKey, valid, previewTick]);

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
  const stray = Object.entries(validation.fields).filter(([p]) =>
    !placed.some((k) => p === k || p.startsWith(`${k}.`))
  );

  const save = async (e: Event) => {
    e.preventDefault();
    if (!valid) return;
    setSaving(true);
    setSaveError(null);
    const res = props.ruleId
      ? await callApi("PUT", `/api/rules/${encodeURIComponent(props.ruleId)}`, draft, {
        headers: props.etag ? { "if-match": `"${props.etag}"` } : {},
      })
      : await callApi("POST", "/api/rules", draft);
    if (res.ok) {
      // The rules page then says "Saved — syncing" and, once the sync this save queued has
      // run, what it did.
      const id = (res.data as { id?: string } | undefined)?.id ?? props.ruleId ?? "";
      const run = res.headers.get("busysync-sync-run");
      const query = new URLSearchParams({ saved: id, ...(run ? { run } : {}) });
      location.assign(`/rules?${query}`);
      return;
    }
    setSaving(false);
    setSaveError(res.error.message);
    if (res.error.fields || res.error.status === 422) setValidation(validationOf(res.error));
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
        <PrivacySection {...sections} />
        <FiltersSection {...sections} zone={source?.timeZone ?? "UTC"} />
        <WindowSection {...sections} />
      </div>
      <div class="editor-side">
        <RulePreview
          preview={preview}
          targets={targets}
          today={props.today}
          editing={props.ruleId !== undefined}
          onRefresh={() => setPreviewTick((n) => n + 1)}
        />
        <div class="editor-actions">
          <p id="editor-status" class="editor-status" role="status" aria-live="polite">
            {saveError
              ? <span class="field-error">{saveError}</span>
              : stray.length
              ? <span class="field-error">{stray.map(([p, m]) => `${p}: ${m}`).join("; ")}</span>
              : valid
              ? <span class="ok-text">✓ Ready to save</span>
              : validation.problem
              ? <span class="field-error">Save is off until the problem above is solved.</span>
              : <span class="field-error">Save is off until the marked fields are fixed.</span>}
          </p>
          <a class="button button-secondary" href="/rules">Cancel</a>
          <button
            type="submit"
            class="button"
            disabled={!hydrated || saving || !valid}
            aria-describedby="editor-status"
          >
            {saving ? "Saving…" : props.ruleId ? "Save changes" : "Create rule"}
          </button>
        </div>
      </div>
    </form>
  );
}

/** Field errors by path, and what is wrong with the rule as a whole (422: cycle, targets). */
function validationOf(error: ApiError): Validation {
  return {
    fields: error.fields ?? {},
    problem: error.fields && Object.keys(error.fields).length ? undefined : error.message,
  };
}
