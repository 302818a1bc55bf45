/**
 * Parts of a server-rendered page that an island's action makes stale (the dashboard's last
 * sync and recent runs after "Sync now", the rule graph after a switch): each is marked
 * `data-live="name"` and holds no island. `refreshLiveRegions` reads the page again and puts
 * the new markup of each marked part in place, so what is on screen matches what just
 * happened without a reload, and without a second rendering of the same thing in the browser.
 */
import { localizeTimes } from "./local_times.ts";

/** Swaps in the current server rendering of every `[data-live]` part of this page. */
export async function refreshLiveRegions(): Promise<void> {
  const here = document.querySelectorAll<HTMLElement>("[data-live]");
  if (here.length === 0) return;
  const res = await fetch(location.href, { headers: { accept: "text/html" } });
  if (!res.ok) return;
  const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
  for (const region of here) {
    const name = region.dataset.live!;
    const next = fresh.querySelector<HTMLElement>(`[data-live="${CSS.escape(name)}"]`);
    if (next) {
      region.replaceChildren(...next.childNodes);
      // The server's text is 24-hour: redrawn on the reader's clock like the rest of the page.
      localizeTimes(region);
    }
  }
  document.dispatchEvent(new CustomEvent("busysync:live-refreshed"));
}
