import { useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";
import { refreshLiveRegions } from "../lib/browser/live_regions.ts";

/** What turning off answers with `?undo=true` (routes/api/schemas.ts UndoWindowSchema). */
interface UndoWindow {
  expiresAt: string;
  blocks: number;
  url: string;
}

/** "2 busy blocks", "1 busy block". */
function blocksText(n: number): string {
  return `${n} busy block${n === 1 ? "" : "s"}`;
}

/**
 * The on/off switch of a rule or a group in the rules list (`PATCH url` with `enabled`). It
 * flips at once and flips back with the server's reason when the change is refused (turning a
 * rule on can close a cycle with the others). Turning off asks for an undo window: a polite
 * message says what will be removed and offers Undo until the window ends, then says what
 * was done.
 */
export function OnOffSwitch(
  { url, label, enabled: initial, testAttr, kind }: {
    /** The record's API address. */
    url: string;
    /** What the message calls it. */
    kind: "Rule" | "Group";
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
  const [undo, setUndo] = useState<UndoWindow | null>(null);
  const [message, setMessage] = useState("");

  const toggle = async () => {
    const next = !enabled;
    setEnabled(next);
    setSaving(true);
    setError(null);
    setUndo(null);
    setMessage("");
    const res = await callApi<{ undo?: UndoWindow }>(
      "PATCH",
      next ? url : `${url}?undo=true`,
      { enabled: next },
    );
    setSaving(false);
    if (!res.ok) {
      setEnabled(!next);
      setError(res.error.message);
      return;
    }
    const window = res.data.undo;
    if (window) {
      const removed = window.blocks ? ` — ${blocksText(window.blocks)} will be removed` : "";
      setMessage(`${kind} turned off${removed}`);
      setUndo(window);
      // After the window the message says what was done; the server decides, this only words it.
      setTimeout(() => {
        setUndo((open) => {
          if (open === window) {
            setMessage(
              `${kind} turned off${window.blocks ? ` — ${blocksText(window.blocks)} removed` : ""}`,
            );
          }
          return open === window ? null : open;
        });
      }, Math.max(0, Date.parse(window.expiresAt) - Date.now()));
    } else {
      setMessage(`${kind} turned ${next ? "on" : "off"}`);
    }
    // The graph (and any other part drawn from the rule set) now draws it as it is.
    await refreshLiveRegions();
  };

  const takeBack = async () => {
    if (!undo) return;
    setSaving(true);
    const res = await callApi("POST", undo.url);
    setSaving(false);
    setUndo(null);
    if (!res.ok) {
      setMessage(res.error.message);
      return;
    }
    setEnabled(true);
    setMessage(`${kind} turned on again — its busy blocks stay`);
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
      <p class="toggle-message" role="status" aria-live="polite" data-toggle-message>
        {message}
        {undo && (
          <>
            {" · "}
            <button type="button" class="link-button" data-undo onClick={takeBack}>
              Undo
            </button>
          </>
        )}
      </p>
    </div>
  );
}
