import { useState } from "preact/hooks";
import { described, Field } from "../components/MirrorSettingsFields.tsx";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";
import { CALDAV_PRESETS, type CalDavPreset, PRESET_INFO } from "../lib/model/caldav_presets.ts";

interface Connected {
  connection: { id: string; email: string };
  calendars: unknown[];
}

/**
 * "Connect a CalDAV account": the service, the server's address where the service has no fixed
 * one, a user name and an app password. busysync checks them against the server before it
 * stores anything, so a wrong password shows here, under the field it concerns.
 */
export interface CalDavConnectProps {
  /** Unique on the page: the form's control ids start with it. */
  idPrefix: string;
  /** Connecting an account again: what it was connected with (never the password). */
  initial?: { serverUrl: string; username: string };
}

export default function CalDavConnect({ idPrefix, initial }: CalDavConnectProps) {
  const hydrated = useHydrated();
  const [preset, setPreset] = useState<CalDavPreset>(
    initial ? presetOf(initial.serverUrl) : "icloud",
  );
  const [serverUrl, setServerUrl] = useState(initial?.serverUrl ?? "");
  const [username, setUsername] = useState(initial?.username ?? "");
  const [password, setPassword] = useState("");
  const [address, setAddress] = useState("");
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const info = PRESET_INFO[preset];

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    const res = await callApi<Connected>("POST", "/api/user/connections/caldav", {
      preset,
      ...(info.serverUrl ? {} : { serverUrl }),
      username,
      password,
      ...(address.trim() ? { address: address.trim() } : {}),
    });
    if (res.ok) {
      location.assign(`/connections?connected=${encodeURIComponent(res.data.connection.id)}`);
      return;
    }
    setBusy(false);
    if (res.error.fields) setFields(res.error.fields);
    // A refused password belongs under the password; anything else is said above the button.
    if (res.error.code === "caldav_auth") setFields({ password: res.error.message });
    else if (!res.error.fields) setError(res.error.message);
  };

  return (
    <form class="caldav-form" onSubmit={submit} aria-label="Connect a CalDAV account">
      <Field id={`${idPrefix}-preset`} label="Service">
        <select
          {...described(`${idPrefix}-preset`, undefined)}
          value={preset}
          onChange={(e) => setPreset((e.target as HTMLSelectElement).value as CalDavPreset)}
        >
          {CALDAV_PRESETS.map((p) => <option key={p} value={p}>{PRESET_INFO[p].label}</option>)}
        </select>
      </Field>
      {!info.serverUrl && (
        <Field id={`${idPrefix}-server`} label="Server address" error={fields.serverUrl}>
          <input
            type="text"
            inputMode="url"
            autocomplete="url"
            placeholder="https://cloud.example.com"
            {...described(`${idPrefix}-server`, fields.serverUrl)}
            value={serverUrl}
            onInput={(e) =>
              setServerUrl((e.target as HTMLInputElement).value)}
          />
        </Field>
      )}
      <Field id={`${idPrefix}-user`} label="User name" error={fields.username}>
        <input
          type="text"
          autocomplete="username"
          {...described(`${idPrefix}-user`, fields.username)}
          value={username}
          onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
        />
      </Field>
      <Field
        id={`${idPrefix}-password`}
        label="App password"
        hint={info.passwordHelp}
        error={fields.password}
      >
        <input
          type="password"
          autocomplete="off"
          {...described(`${idPrefix}-password`, fields.password, true)}
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
      </Field>
      {!info.serverUrl && (
        <Field
          id={`${idPrefix}-address`}
          label="Your email address in invitations (optional)"
          hint="Where the server does not say it: invitations you declined then block no time."
          error={fields.address}
        >
          <input
            type="email"
            autocomplete="email"
            {...described(`${idPrefix}-address`, fields.address, true)}
            value={address}
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
          />
        </Field>
      )}
      {error && <p class="field-error" role="alert">{error}</p>}
      <button type="submit" class="button" disabled={!hydrated || busy}>
        {busy ? "Checking…" : "Connect"}
      </button>
    </form>
  );
}

/** The preset an address belongs to, so connecting again shows the same service. */
function presetOf(serverUrl: string): CalDavPreset {
  return CALDAV_PRESETS.find((p) => PRESET_INFO[p].serverUrl === serverUrl) ?? "other";
}
