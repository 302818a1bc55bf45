import { useEffect, useState } from "preact/hooks";
import { formatTimeOfDay } from "../lib/browser/format.ts";
import { readerUsesHour12 } from "../lib/browser/local_times.ts";

interface Props {
  /** What the server saw while rendering, shown until the browser has checked for itself. */
  initial: "ready" | "unavailable";
  /** How often to re-check, in seconds. */
  everySeconds: number;
}

type State = "ready" | "unavailable" | "checking";

/** Shows whether the service and its data store answer, re-checking /readyz in the browser. */
export default function LiveStatus({ initial, everySeconds }: Props) {
  const [state, setState] = useState<State>(initial);
  const [checkedAt, setCheckedAt] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    const check = async () => {
      setState((s) => (s === "ready" ? s : "checking"));
      try {
        const res = await fetch("/readyz", { headers: { accept: "application/json" } });
        if (!cancelled) setState(res.ok ? "ready" : "unavailable");
      } catch {
        if (!cancelled) setState("unavailable");
      }
      // Signed out, there is no person's zone: the browser's own, on its own clock, to the
      // minute like every other time in the app.
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const at = formatTimeOfDay(new Date().toISOString(), zone, { hour12: readerUsesHour12() });
      if (!cancelled) setCheckedAt(at);
    };
    check();
    const timer = setInterval(check, everySeconds * 1000);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [everySeconds]);

  const label = state === "ready"
    ? "Service ready"
    : state === "checking"
    ? "Checking…"
    : "Service unavailable";
  return (
    <p class={`status status-${state}`} role="status" aria-live="polite">
      <span class="status-dot" aria-hidden="true" />
      {label}
      {checkedAt && <span class="muted" data-testid="checked-at">checked {checkedAt}</span>}
    </p>
  );
}
