/**
 * The foot of the rule and group editors: why Save is off (or that it is ready), Cancel, and
 * Save, which stays disabled while the form has an error.
 */
export function EditorActions(
  { hydrated, saving, valid, saveError, problem, stray, saveLabel }: {
    hydrated: boolean;
    saving: boolean;
    valid: boolean;
    /** What the last save attempt was refused with. */
    saveError: string | null;
    /** Something wrong with the whole draft rather than a field (shown above the form). */
    problem?: string;
    /** Errors of fields the form has no place for (they should not happen), by path. */
    stray: [string, string][];
    saveLabel: string;
  },
) {
  return (
    <div class="editor-actions">
      <p id="editor-status" class="editor-status" role="status" aria-live="polite">
        {saveError
          ? <span class="field-error">{saveError}</span>
          : stray.length
          ? <span class="field-error">{stray.map(([p, m]) => `${p}: ${m}`).join("; ")}</span>
          : valid
          ? <span class="ok-text">✓ Ready to save</span>
          : problem
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
        {saving ? "Saving…" : saveLabel}
      </button>
    </div>
  );
}
