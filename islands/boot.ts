/**
 * Hydrates the islands on the page. The server marks each island with `data-island` (its name)
 * and `data-props` (its props as JSON) and lists the bundles of just those islands in
 * `#island-manifest`, so a page loads only the code it shows. It also redraws the page's
 * times on the reader's clock.
 */
import { localizeTimes } from "../lib/browser/local_times.ts";

// Every page loads this script, islands or not, so its times read on the reader's clock.
localizeTimes(document);

const manifestEl = document.getElementById("island-manifest");
const manifest: Record<string, string> = manifestEl
  ? JSON.parse(manifestEl.textContent ?? "{}")
  : {};

const islands = [...document.querySelectorAll<HTMLElement>("[data-island]")];
if (islands.length > 0) {
  // Preact only where there is an island: a page of times alone loads just this script.
  const { h, hydrate } = await import("preact");
  for (const el of islands) {
    const name = el.dataset.island ?? "";
    const url = manifest[name];
    if (!url) continue;
    const props = JSON.parse(el.dataset.props ?? "{}");
    import(url).then((mod) => {
      hydrate(h(mod.default, props), el);
      // Hydration puts back the server's text: an island's times are redrawn once it is live.
      localizeTimes(el);
      el.dataset.hydrated = "true";
    }).catch((err) => console.error(`island ${name} failed to load`, err));
  }
}
