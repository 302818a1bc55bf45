import { useState } from "preact/hooks";
import { described, Field } from "../components/MirrorSettingsFields.tsx";
import { callApi } from "../lib/browser/api.ts";
import { formatDateTime } from "../lib/browser/format.ts";
import { useHydrated } from "../lib/browser/hooks.ts";

/** A token as `GET /api/me/tokens` lists it. */
export interface ApiTokenItem {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

export interface ApiTokensProps {
  tokens: ApiTokenItem[];
  limit: number;
  /** The lifetimes offered, in days. */
  expiryDays: readonly number[];
  /** The zone dates are shown in, and the page's "now" (the same on the server and here). */
  zone: string;
  now: string;
}

/**
 * Personal API tokens: the list with each one's last use, creating one (shown once, with a copy
 * button, since busysync keeps only its hash) and revoking one, which asks first.
 */
export default function ApiTokens({ tokens, limit, expiryDays, zone, now }: ApiTokensProps) {
  const hydrated = useHydrated();
  const [items, setItems] = useState(tokens);
  const [name, setName] = useState("");
  const [days, setDays] = useState(expiryDays.includes(90) ? 90 : expiryDays[0]);
  const [busy, setBusy] = useState(false);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const at = new Date(now);
  const when = (iso: string) => formatDateTime(iso, zone, at);

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    setFieldError(undefined);
    const res = await callApi<ApiTokenItem & { token: string }>("POST", "/api/me/tokens", {
      name,
      expiresInDays: days,
    });
    setBusy(false);
    if (!res.ok) {
      if (res.error.fields?.name) setFieldError(res.error.fields.name);
      else setProblem(res.error.message);
      return;
    }
    const { token, ...item } = res.data;
    setItems([...items, item]);
    setCreated({ name: item.name, token });
    setCopied(false);
    setName("");
  };

  const revoke = async (id: string) => {
    setProblem(null);
    const res = await callApi<null>("DELETE", `/api/me/tokens/${encodeURIComponent(id)}`);
    // 404: it was revoked already (another tab): gone either way.
    if (!res.ok && res.error.status !== 404) {
      setProblem(res.error.message);
      return;
    }
    setConfirming(null);
    setItems(items.filter((t) => t.id !== id));
  };

  const copy = async () => {
    if (!created) return;
    try {
      // navigator.clipboard is missing outside secure contexts (plain http on another host).
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      setProblem("The browser refused to copy; select the token and copy it yourself.");
    }
  };

  return (
    <div class="api-tokens">
      {created && (
        <div class="callout token-created" role="status" data-token-created>
          <p>
            <strong>Token “{created.name}” created.</strong>{" "}
            Copy it now: busysync keeps only a fingerprint of it and cannot show it again.
          </p>
          <div class="token-copy">
            <label class="visually-hidden" for="settings-new-token">The new token</label>
            <input
              id="settings-new-token"
              type="text"
              readOnly
              value={created.token}
              spellcheck={false}
              autocomplete="off"
              onFocus={(e) => (e.target as HTMLInputElement).select()}
              data-new-token
            />
            <button type="button" class="button button-secondary" onClick={copy}>
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
          <p class="hint">
            Send it as <code>Authorization: Bearer …</code> to the JSON API.
          </p>
        </div>
      )}
      {items.length === 0
        ? <p class="muted-text" data-no-tokens>No API tokens yet.</p>
        : (
          <ul class="token-list" aria-label="Your API tokens">
            {items.map((t) => (
              <li key={t.id} class="token-row" data-token={t.id}>
                <div class="token-main">
                  <span class="token-name">{t.name}</span>
                  <span class="muted-text">
                    Created {when(t.createdAt)} · expires {when(t.expiresAt)} ·{" "}
                    {t.lastUsedAt ? `last used ${when(t.lastUsedAt)}` : "never used"}
                  </span>
                </div>
                {confirming === t.id
                  ? (
                    <div class="token-confirm" role="group" aria-label={`Revoke “${t.name}”?`}>
                      <span>Scripts using it stop working at once.</span>
                      <button
                        type="button"
                        class="button button-danger button-small"
                        onClick={() => void revoke(t.id)}
                      >
                        Revoke now
                      </button>
                      <button
                        type="button"
                        class="button button-secondary button-small"
                        onClick={() => setConfirming(null)}
                      >
                        Keep it
                      </button>
                    </div>
                  )
                  : (
                    <button
                      type="button"
                      class="button button-danger-quiet button-small"
                      disabled={!hydrated}
                      aria-label={`Revoke “${t.name}”`}
                      onClick={() => setConfirming(t.id)}
                    >
                      Revoke
                    </button>
                  )}
              </li>
            ))}
          </ul>
        )}
      {problem && <p class="field-error" role="alert">{problem}</p>}
      {items.length >= limit
        ? (
          <p class="form-hint">
            You hold {limit} tokens, the most one account may have. Revoke one to create another.
          </p>
        )
        : (
          <form class="settings-form token-form" onSubmit={create} aria-label="Create an API token">
            <Field
              id="settings-token-name"
              label="Name"
              hint="What it is for, e.g. the script that uses it."
              error={fieldError}
            >
              <input
                type="text"
                maxLength={60}
                autocomplete="off"
                {...described("settings-token-name", fieldError, true)}
                value={name}
                onInput={(e) => setName((e.target as HTMLInputElement).value)}
              />
            </Field>
            <Field id="settings-token-expiry" label="Expires after">
              <select
                {...described("settings-token-expiry", undefined)}
                value={String(days)}
                onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}
              >
                {expiryDays.map((d) => (
                  <option key={d} value={String(d)}>{d === 365 ? "1 year" : `${d} days`}</option>
                ))}
              </select>
            </Field>
            <div class="settings-actions">
              <button type="submit" class="button" disabled={!hydrated || busy}>
                {busy ? "Creating…" : "Create token"}
              </button>
            </div>
          </form>
        )}
    </div>
  );
}
