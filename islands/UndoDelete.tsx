import { useEffect, useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import { useHydrated } from "../lib/browser/hooks.ts";
import { plural } from "../lib/browser/format.ts";

export interface UndoDeleteProps {
  kind: "Rule" | "Group";
  name: string;
  /** `POST` here takes the delete back (routes/api/schemas.ts undoAnswer). */
  url: string;
  blocks: number;
  expiresAt: string;
}

/**
 * What the rules list says right after a delete made with an undo window: "Rule “X” deleted — 3
 * busy blocks will be removed · Undo" in a polite status. Undo brings the same rule back (the
 * list is read again to show it); once the window has passed it says what was done.
 */
export default function UndoDelete({ kind, name, url, blocks, expiresAt }: UndoDeleteProps) {
  const hydrated = useHydrated();
  const [open, setOpen] = useState(true);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => setOpen(false), Math.max(0, Date.parse(expiresAt) - Date.now()));
    return () => clearTimeout(timer);
  }, [expiresAt]);
  const head = `${kind} “${name}” deleted`;
  const words = blocks === 0
    ? head
    : open
    ? `${head} — ${plural(blocks, "busy block")} will be removed`
    : `${head} — ${plural(blocks, "busy block")} removed`;
  const undo = async () => {
    const res = await callApi("POST", url);
    if (!res.ok) {
      setOpen(false);
      setError(res.error.message);
      return;
    }
    location.assign("/rules");
  };
  return (
    <p class="callout" role="status" aria-live="polite" data-undo-delete>
      {words}
      {open && (
        <>
          {" · "}
          <button type="button" class="link-button" data-undo disabled={!hydrated} onClick={undo}>
            Undo
          </button>
        </>
      )}
      {error && <span class="field-error">{error}</span>}
    </p>
  );
}
