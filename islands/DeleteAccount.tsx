import { useState } from "preact/hooks";
import { described, Field } from "../components/MirrorSettingsFields.tsx";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";

export interface DeleteAccountProps {
  /** The address the person signs in with: typing it confirms. */
  email: string;
}

/**
 * Deleting the account (`DELETE /api/me`), confirmed by typing the sign-in address, so a slip
 * of the mouse cannot do it. By default the busy blocks busysync made go too; unticking keeps
 * them in the calendars.
 */
export default function DeleteAccount({ email }: DeleteAccountProps) {
  const hydrated = useHydrated();
  const [typed, setTyped] = useState("");
  const [removeMirrors, setRemoveMirrors] = useState(true);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const confirmed = typed.trim().toLowerCase() === email.toLowerCase();

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!confirmed) return;
    setBusy(true);
    setProblem(null);
    const res = await callApi<null>("DELETE", `/api/me?removeMirrors=${removeMirrors}`);
    if (res.ok) {
      location.assign("/signin?deleted=1");
      return;
    }
    setBusy(false);
    setProblem(res.error.message);
  };

  return (
    <form class="settings-form" onSubmit={submit} aria-label="Delete your account">
      <label class="check">
        <input
          type="checkbox"
          checked={removeMirrors}
          onChange={(e) => setRemoveMirrors((e.target as HTMLInputElement).checked)}
        />
        <span>Also remove every busy block busysync made in your calendars</span>
      </label>
      <Field
        id="settings-delete-confirm"
        label={`Type ${email} to confirm`}
        hint="Your rules, groups, history, connections and API tokens are deleted, and busysync gives up its access to your connected accounts. This cannot be undone."
      >
        <input
          type="text"
          autocomplete="off"
          spellcheck={false}
          {...described("settings-delete-confirm", undefined, true)}
          value={typed}
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
      </Field>
      {problem && <p class="field-error" role="alert">{problem}</p>}
      <div class="settings-actions">
        <button
          type="submit"
          class="button button-danger"
          disabled={!hydrated || busy || !confirmed}
        >
          {busy ? "Deleting…" : "Delete my account"}
        </button>
      </div>
    </form>
  );
}
