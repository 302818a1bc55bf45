import { useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";
import { refreshLiveRegions } from "../lib/browser/live_regions.ts";

/**
 * The on/off switch of a rule or a group in the rules list (`PATCH url` with `enabled`). It
 * flips at once and flips back with the server's reason when the change is refused (turning a
 * rule on can close a cycle with the others).
 */
export function OnOffSwitch(
  { url, label, enabled: initial, testAttr }: {
    /** The record's API address. */
    url: string;
    /** The switch's accessible name. */
    label: string;
    enabled: boolean;
    /** `data-*` attribute (and its value) the tests find the switch by. */
    testAttr: Record<`data-${string}`, string>;
  },
) {
  const hydrated = useHydrated();
  const [enabled, setEnabled] = useState(initial);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const toggle = async () => {
    const next = !enabled;
    setEnabled(next);
    setSaving(true);
    setError(null);
    const res = await callApi("PATCH", url, { enabled: next });
    setSaving(false);
    if (!res.ok) {
      setEnabled(!next);
      setError(res.error.message);
      return;
    }
    // The graph (and any other part drawn from the rule set) now draws it as it is.
    await refreshLiveRegions();
  };

  return (
    <div class="toggle">
      <button
        type="button"
        role="switch"
        class="switch"
        aria-checked={enabled}
        aria-label={label}
        aria-busy={saving}
        disabled={!hydrated || saving}
        {...testAttr}
        onClick={toggle}
      >
        <span class="switch-knob" aria-hidden="true" />
      </button>
      <span class="toggle-state" aria-hidden="true">{enabled ? "On" : "Off"}</span>
      {error && <span class="field-error" role="alert">{error}</span>}
    </div>
  );
}
