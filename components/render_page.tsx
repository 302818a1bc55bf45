import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { Manifest } from "../lib/web/manifest.ts";
import { IslandCollector } from "./Island.tsx";
import { Layout, type NavKey } from "./Layout.tsx";

export interface PageOptions {
  title: string;
  demo: boolean;
  manifest: Manifest;
  /** The signed-in person, shown in the header. */
  user?: { email: string };
  /** The header link marked as the current page. */
  nav?: NavKey;
}

/** What routes render pages with: the instance-wide options (demo, bundles) already bound. */
export type PageRenderer = (
  body: VNode,
  page: Pick<PageOptions, "title" | "user" | "nav">,
) => string;

/** A renderer for this instance's pages (built by the composition root, passed to createApp). */
export function createPageRenderer(options: Pick<PageOptions, "demo" | "manifest">): PageRenderer {
  return (body, page) => renderPage(body, { ...page, ...options });
}

/**
 * Renders a page body inside the layout and appends the boot script (every page: it also redraws
 * times on the reader's clock) plus the bundle URLs of only the islands the body used. The manifest JSON is escaped so no `</script>` can end it.
 */
function renderPage(body: VNode, options: PageOptions): string {
  const used = new Set<string>();
  const html = renderToString(
    <IslandCollector.Provider value={used}>
      <Layout
        title={options.title}
        stylesUrl={options.manifest.styles}
        demo={options.demo}
        user={options.user}
        nav={options.nav}
      >
        {body}
      </Layout>
    </IslandCollector.Provider>,
  );
  const islands = Object.fromEntries(
    [...used].map((name) => {
      const url = options.manifest.islands[name];
      if (!url) throw new Error(`island ${name} has no bundle; run deno task build`);
      return [name, url];
    }),
  );
  const json = JSON.stringify(islands).replaceAll("<", "\\u003c");
  const scripts = `<script type="application/json" id="island-manifest">${json}</script>` +
    `<script type="module" src="${options.manifest.boot}"></script>`;
  return `<!DOCTYPE html>${html.replace("</body>", `${scripts}</body>`)}`;
}
