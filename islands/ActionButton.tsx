import { useRef, useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated, useRetryCountdown } from "../lib/browser/hooks.ts";

/** One way to go on, as an API call. */
export interface ActionChoice {
  label: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: string;
  body?: Record<string, unknown>;
  /** The destructive choice is red; the others are plain. */
  danger?: boolean;
  /** A delete asked with `?undo=true`: the name the next page's undo message gives it. */
  undoName?: string;
}

export interface ActionButtonProps {
  label: string;
  danger?: boolean;
  /**
   * Ask first: a modal dialog (native `<dialog>`: focus stays inside, Escape cancels) explains
   * what will happen and offers the choices. Without it the button makes its one call at once.
   */
  question?: {
    title: string;
    message: string;
    /** Named after the message, as a list: e.g. the rules a disconnect affects. */
    items?: string[];
    /** A paragraph after the list. */
    note?: string;
  };
  choices: ActionChoice[];
  /** Where the browser goes once a call succeeded (usually the page itself, refreshed). */
  done: string;
  /** What the button says while its call runs, when "Working…" says too little. */
  busyLabel?: string;
}

/**
 * A button that calls the JSON API and then reloads or moves on: disconnecting an account and
 * deleting a rule (both ask whether the busy blocks go too), letting a rule held by the delete
 * guard go ahead, refreshing the calendar list.
 */
export default function ActionButton(props: ActionButtonProps) {
  const hydrated = useHydrated();
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** What the API said about a call that succeeded (disconnect: the grant was not revoked). */
  const [notice, setNotice] = useState<string | null>(null);
  const dialogId = `dlg-${props.choices[0].url.replace(/[^A-Za-z0-9]+/g, "-")}`;
  const retry = useRetryCountdown();
  const waiting = retry.secondsLeft > 0;
  /** A choice's label, or while rate limited the time until it may be tried again. */
  const labelOf = (label: string) => waiting ? `Try again in ${retry.secondsLeft} s` : label;

  const choose = async (index: number) => {
    const choice = props.choices[index];
    setBusy(index);
    setError(null);
    const res = await callApi<
      { message?: unknown; undo?: { url: string; blocks: number; expiresAt: string } }
    >(
      choice.method,
      choice.url,
      choice.body,
    );
    if (res.ok) {
      const undo = res.data?.undo;
      if (undo && choice.undoName) {
        // The next page offers the undo (islands/UndoDelete.tsx); the window is the server's.
        const query = new URLSearchParams({
          undo: undo.url,
          name: choice.undoName,
          blocks: String(undo.blocks),
          until: undo.expiresAt,
        });
        location.assign(`${props.done}?${query}`);
        return;
      }
      const said = res.data?.message;
      if (typeof said === "string" && said) {
        setBusy(null);
        setNotice(said);
        return;
      }
      location.assign(props.done);
      return;
    }
    setBusy(null);
    if (res.error.retryAfterSeconds !== undefined) {
      retry.start(res.error.retryAfterSeconds);
      setError("Too many attempts in a short time; the button comes back by itself.");
      return;
    }
    setError(res.error.message);
  };

  if (notice) {
    return (
      <span class="action-button" role="status">
        <span>{notice}</span>{" "}
        <button type="button" class="button" onClick={() => location.assign(props.done)}>OK</button>
      </span>
    );
  }
  if (!props.question) {
    return (
      <span class="action-button">
        <button
          type="button"
          class={props.danger ? "button button-danger-quiet" : "button button-secondary"}
          disabled={!hydrated || busy !== null || waiting}
          onClick={() => choose(0)}
        >
          {busy === null ? labelOf(props.label) : props.busyLabel ?? "Working…"}
        </button>
        {error && <span class="field-error" role="alert">{error}</span>}
      </span>
    );
  }
  return (
    <>
      <button
        type="button"
        class={props.danger ? "button button-danger-quiet" : "button button-secondary"}
        disabled={!hydrated}
        onClick={() => {
          setError(null);
          dialog.current?.showModal();
        }}
      >
        {props.label}
      </button>
      <dialog ref={dialog} class="dialog" aria-labelledby={`${dialogId}-title`}>
        <h2 id={`${dialogId}-title`}>{props.question.title}</h2>
        <p>{props.question.message}</p>
        {props.question.items?.length
          ? (
            <ul class="dialog-list">
              {props.question.items.map((item) => <li key={item}>{item}</li>)}
            </ul>
          )
          : null}
        {props.question.note && <p>{props.question.note}</p>}
        {error && <p class="field-error" role="alert">{error}</p>}
        <div class="dialog-actions">
          {props.choices.map((choice, i) => (
            <button
              type="button"
              class={choice.danger ? "button button-danger" : "button"}
              disabled={busy !== null || waiting}
              onClick={() => choose(i)}
            >
              {busy === i ? props.busyLabel ?? "Working…" : labelOf(choice.label)}
            </button>
          ))}
          <button
            type="button"
            class="button button-secondary"
            disabled={busy !== null}
            onClick={() => dialog.current?.close()}
          >
            Cancel
          </button>
        </div>
      </dialog>
    </>
  );
}
