/**
 * What the rule and group editors do alike as a person types: ask the API whether the draft
 * can be saved (each error by its field's dotted path), and once it can, ask for its preview.
 * A burst of keystrokes makes one request, and a stale answer is dropped.
 */
import { useEffect, useState } from "preact/hooks";
import { type ApiError, callApi } from "./api.ts";
import { type PreviewAnswer, type PreviewState, withUnchanged } from "./rule_draft.ts";

export interface Validation {
  fields: Record<string, string>;
  /** The API's error code ("cycle", "duplicate", …); absent while the draft is valid. */
  code?: string;
  /** A problem of the set as a whole rather than of a field: a cycle, an unwritable target. */
  problem?: string;
  /** Chains of rules that stop short of what a person may expect, in words. */
  hints?: string[];
}

const VALIDATE_DELAY_MS = 250;
const PREVIEW_DELAY_MS = 400;

/** Field errors by path, and what is wrong with the draft as a whole (422 with no field). */
export function validationOf(error: ApiError): Validation {
  return {
    fields: error.fields ?? {},
    code: error.code,
    problem: error.fields && Object.keys(error.fields).length ? undefined : error.message,
  };
}

/** Whether a validation answer lets the draft be saved. */
export function isValid(v: Validation): boolean {
  return Object.keys(v.fields).length === 0 && !v.problem;
}

/**
 * `POST path` with `body` (the draft, plus the stored record's id) whenever `body` changes;
 * the last answer, and a setter for the answer a save brings back.
 */
export function useValidation(path: string, body: object) {
  const [validation, setValidation] = useState<Validation>({ fields: {} });
  const key = JSON.stringify(body);
  useEffect(() => {
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      const res = await callApi<{ hints?: { message: string }[] }>("POST", path, body, {
        signal: abort.signal,
      }).catch(() => null);
      if (!res) return;
      setValidation(
        res.ok
          ? { fields: {}, hints: res.data.hints?.map((h) => h.message) }
          : validationOf(res.error),
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [key]);
  return [validation, setValidation] as const;
}

/**
 * The preview of `draft` from `POST path` while `valid`: for a stored record (`id`) what would
 * change, with the blocks that stay added from a preview of the same draft as a new one. The
 * last answer stays on screen while the next loads. Returns the state and a refresh.
 */
export function usePreview(
  path: string,
  { draft, id, valid, noun }: {
    draft: { name: string; enabled: boolean };
    id?: string;
    valid: boolean;
    noun: string;
  },
) {
  const [preview, setPreview] = useState<PreviewState>({ state: "loading" });
  const [tick, setTick] = useState(0);
  // Everything but the name and the on/off switch changes what the preview shows.
  const { name: _n, enabled: _e, ...previewed } = draft;
  const key = JSON.stringify(previewed);
  useEffect(() => {
    if (!valid) {
      setPreview({ state: "waiting", reason: `The preview appears once the ${noun} is valid.` });
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      setPreview((p) => ({
        state: "loading",
        answer: p.state === "ready" || p.state === "loading" ? p.answer : undefined,
      }));
      const ask = (body: unknown) =>
        callApi<PreviewAnswer>("POST", path, body, { signal: abort.signal });
      const answers = await Promise.all([
        ask({ ...draft, ...(id ? { id } : {}) }),
        id ? ask(draft) : undefined,
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
  }, [key, valid, tick]);
  return [preview, () => setTick((n) => n + 1)] as const;
}

/**
 * Saving a rule or group draft from its editor: `PUT /api/{collection}/{id}` (with the ETag it
 * was read at) or `POST /api/{collection}`; on success the rules page, which says "Saved —
 * syncing" ("Created — syncing" for a new one) and, once the sync this save queued has run, what it did; on failure the message,
 * and the fields it names for `onInvalid`.
 */
export function useSave(
  collection: "rules" | "groups",
  stored: { id?: string; etag?: string },
  onInvalid: (v: Validation) => void,
) {
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const save = async (draft: object) => {
    setSaving(true);
    setSaveError(null);
    const res = stored.id
      ? await callApi("PUT", `/api/${collection}/${encodeURIComponent(stored.id)}`, draft, {
        headers: stored.etag ? { "if-match": `"${stored.etag}"` } : {},
      })
      : await callApi("POST", `/api/${collection}`, draft);
    if (res.ok) {
      const id = (res.data as { id?: string } | undefined)?.id ?? stored.id ?? "";
      const run = res.headers.get("busysync-sync-run");
      const params = {
        saved: id,
        ...(run ? { run } : {}),
        ...(stored.id ? {} : { created: "1" }),
      };
      location.assign(`/rules?${new URLSearchParams(params)}`);
      return;
    }
    setSaving(false);
    setSaveError(res.error.message);
    if (res.error.fields || res.error.status === 422) onInvalid(validationOf(res.error));
  };
  return { saving, saveError, save };
}

/** The field errors a form has no place for (shown above it), given the paths it places. */
export function strayFields(
  fields: Record<string, string>,
  placed: readonly string[],
): [string, string][] {
  return Object.entries(fields).filter(([p]) =>
    !placed.some((k) => p === k || p.startsWith(`${k}.`))
  );
}
