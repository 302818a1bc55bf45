import { useState } from "preact/hooks";
import { described, Field } from "../components/MirrorSettingsFields.tsx";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";

interface Added {
  connection: { id: string; email: string };
}

/**
 * "Add a calendar feed": an ICS address (https or webcal) and the name it goes by. busysync
 * fetches the feed before it stores anything, so a wrong address, a login page or a host that
 * does not answer shows here, under the address.
 */
export interface IcsConnectProps {
  /** Unique on the page: the form's control ids start with it. */
  idPrefix: string;
}

export default function IcsConnect({ idPrefix }: IcsConnectProps) {
  const hydrated = useHydrated();
  const [url, setUrl] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    const res = await callApi<Added>("POST", "/api/user/connections/ics", {
      url,
      ...(name.trim() ? { name } : {}),
    });
    if (res.ok) {
      location.assign(`/connections?connected=${encodeURIComponent(res.data.connection.id)}`);
      return;
    }
    setBusy(false);
    if (res.error.fields) setFields(res.error.fields);
    else setError(res.error.message);
  };

  return (
    <form class="caldav-form" onSubmit={submit} aria-label="Add a calendar feed">
      <Field
        id={`${idPrefix}-url`}
        label="Feed address"
        hint="The calendar's ICS or webcal:// address. It is stored encrypted and shown only as its host."
        error={fields.url}
      >
        <input
          type="text"
          inputMode="url"
          autocomplete="off"
          placeholder="https://example.com/calendar.ics"
          {...described(`${idPrefix}-url`, fields.url, true)}
          value={url}
          onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
        />
      </Field>
      <Field id={`${idPrefix}-name`} label="Name (optional)" error={fields.name}>
        <input
          type="text"
          placeholder="School timetable"
          {...described(`${idPrefix}-name`, fields.name)}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </Field>
      {error && <p class="field-error" role="alert">{error}</p>}
      <button type="submit" class="button" disabled={!hydrated || busy}>
        {busy ? "Fetching…" : "Add feed"}
      </button>
    </form>
  );
}
