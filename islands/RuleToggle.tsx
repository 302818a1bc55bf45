import { useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";

export interface RuleToggleProps {
  ruleId: string;
  name: string;
  enabled: boolean;
}

/**
 * The on/off switch of one rule in the rules list (`PATCH /api/rules/{id}` with `enabled`).
 * It flips at once and flips back with the server's reason when the change is refused (turning
 * a rule on can close a cycle with the others).
 */
export default function RuleToggle({ ruleId, name, enabled: initial }: RuleToggleProps) {
  const hydrated = useHydrated();
  const [enabled, setEnabled] = useState(initial);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const toggle = async () => {
    const next = !enabled;
    setEnabled(next);
    setSaving(true);
    setError(null);
    const res = await callApi("PATCH", `/api/rules/${encodeURIComponent(ruleId)}`, {
      enabled: next,
    });
    setSaving(false);
    if (!res.ok) {
      setEnabled(!next);
      setError(res.error.message);
    }
  };

  return (
    <div class="toggle">
      <button
        type="button"
        role="switch"
        class="switch"
        aria-checked={enabled}
        aria-label={`Rule “${name}”`}
        aria-busy={saving}
        disabled={!hydrated || saving}
        data-rule-toggle={ruleId}
        onClick={toggle}
      >
        <span class="switch-knob" aria-hidden="true" />
      </button>
      <span class="toggle-state" aria-hidden="true">{enabled ? "On" : "Off"}</span>
      {error && <span class="field-error" role="alert">{error}</span>}
    </div>
  );
}
