import { useEffect, useState } from "preact/hooks";
import { described, Field } from "../components/MirrorSettingsFields.tsx";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";

export interface TimeZoneSettingProps {
  /** The zone pages show times in now (the setting, or the primary calendar's zone). */
  current: string;
  /** Whether `current` is the person's own choice rather than the fallback. */
  chosen: boolean;
  /** Every IANA zone the server knows, so server and browser render the same list. */
  zones: string[];
}

/**
 * The time zone pages show times in (`PATCH /api/me/settings`). The browser's own zone is
 * offered when it differs, since that is the usual reason to come here (a move, a trip).
 */
export default function TimeZoneSetting({ current, chosen, zones }: TimeZoneSettingProps) {
  const hydrated = useHydrated();
  const [saved, setSaved] = useState(current);
  const [zone, setZone] = useState(current);
  const [browserZone, setBrowserZone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (own && zones.includes(own)) setBrowserZone(own);
  }, []);

  const save = async (value: string) => {
    setBusy(true);
    setStatus(null);
    const res = await callApi<{ timeZone?: string }>("PATCH", "/api/me/settings", {
      timeZone: value,
    });
    setBusy(false);
    if (!res.ok) {
      setStatus({ ok: false, text: res.error.fields?.timeZone ?? res.error.message });
      return;
    }
    setSaved(value);
    setZone(value);
    setStatus({ ok: true, text: `Saved: times are shown in ${value}.` });
  };

  return (
    <form
      class="settings-form"
      aria-label="Time zone"
      onSubmit={(e) => {
        e.preventDefault();
        void save(zone);
      }}
    >
      <Field
        id="settings-zone"
        label="Show times in"
        hint={chosen || saved !== current
          ? undefined
          : "Not chosen yet: times follow your primary calendar's zone."}
      >
        <select
          {...described("settings-zone", undefined, !(chosen || saved !== current))}
          value={zone}
          onChange={(e) => setZone((e.target as HTMLSelectElement).value)}
        >
          {zones.map((z) => <option key={z} value={z}>{z.replaceAll("_", " ")}</option>)}
        </select>
      </Field>
      <div class="settings-actions">
        <button type="submit" class="button" disabled={!hydrated || busy || zone === saved}>
          {busy ? "Saving…" : "Save time zone"}
        </button>
        {browserZone && browserZone !== saved && (
          <button
            type="button"
            class="button button-secondary"
            disabled={busy}
            onClick={() => void save(browserZone)}
            data-browser-zone={browserZone}
          >
            Use this browser's zone ({browserZone.replaceAll("_", " ")})
          </button>
        )}
      </div>
      <p
        class={status?.ok === false ? "field-error" : "settings-status"}
        role="status"
        data-zone-status
      >
        {status?.text ?? ""}
      </p>
    </form>
  );
}
