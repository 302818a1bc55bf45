import type { Browser, BrowserContextOptions, Request } from "playwright-core";

/** Bytes of one kind of resource a page loaded: as sent (gzip) and as decoded. */
export interface Bytes {
  wire: number;
  raw: number;
}

export interface PageWeight {
  path: string;
  html: Bytes;
  js: Bytes;
  css: Bytes;
  requests: number;
  /** Cumulative layout shift of the load, hydration and the page's first data included. */
  cls: number;
  /** Median time from sending the request to the response's headers, on loopback. */
  serverMs: number;
}

/**
 * Loads `url` as a first visit (a fresh context: nothing cached) and adds up what came over
 * the wire per resource type, as Chromium counted it (encoded body sizes), once every island
 * has hydrated, so each bundle the page needs is in, and the layout shift until then (or until
 * `settled` appears: what an island loads after hydrating). Then times `samples` plain
 * requests for the HTML with the same cookies, for the server's render time.
 */
export async function measurePage(
  browser: Browser,
  url: string,
  options: {
    storageState?: BrowserContextOptions["storageState"];
    settled?: string;
    samples?: number;
  } = {},
): Promise<PageWeight> {
  const { storageState, settled, samples = 5 } = options;
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  const zero = () => ({ wire: 0, raw: 0 });
  const sums = { document: zero(), script: zero(), stylesheet: zero() };
  const pending: Promise<void>[] = [];
  const urls: [keyof typeof sums, string][] = [];
  let requests = 0;
  const count = (req: Request) => {
    requests++;
    const type = req.resourceType() as keyof typeof sums;
    if (!(type in sums)) return;
    urls.push([type, req.url()]);
    pending.push(req.sizes().then((sizes) => void (sums[type].wire += sizes.responseBodySize)));
  };
  page.on("requestfinished", count);
  let cookie = "";
  let cls = 0;
  try {
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLElement>("[data-island]")].every((el) =>
        el.dataset.hydrated === "true"
      )
    );
    if (settled) await page.waitForSelector(settled);
    await Promise.all(pending);
    cls = await page.evaluate(() =>
      new Promise<number>((resolve) => {
        let sum = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries() as (PerformanceEntry & { value: number })[]) {
            sum += e.value;
          }
          resolve(sum);
        }).observe({ type: "layout-shift", buffered: true });
        // No shift at all means no callback: answer once the buffered entries had their turn.
        setTimeout(() => resolve(sum), 50);
      })
    );
    cookie = (await context.cookies(url)).map((c) => `${c.name}=${c.value}`).join("; ");
  } finally {
    await context.close();
  }
  // Decoded sizes from the server itself: Chromium keeps no body for some module loads.
  for (const [type, resource] of urls) {
    const res = await fetch(resource, { headers: { cookie, "accept-encoding": "identity" } });
    sums[type].raw += (await res.arrayBuffer()).byteLength;
  }
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers: { cookie, "accept-encoding": "gzip" } });
    times.push(performance.now() - started);
    await res.body?.cancel();
  }
  times.sort((a, b) => a - b);
  return {
    path: new URL(url).pathname,
    html: sums.document,
    js: sums.script,
    css: sums.stylesheet,
    requests,
    cls: Math.round(cls * 1000) / 1000,
    serverMs: Math.round(times[Math.floor(samples / 2)] * 10) / 10,
  };
}

/** The weights as a Markdown table, for the test log and a reviewer. */
export function weightTable(rows: PageWeight[]): string {
  const kb = (b: Bytes) => `${(b.wire / 1024).toFixed(1)} (${(b.raw / 1024).toFixed(1)})`;
  return [
    "| page | HTML KB | JS KB | CSS KB | total KB | requests | CLS | server ms |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${r.path} | ${kb(r.html)} | ${kb(r.js)} | ${kb(r.css)} | ${
        ((r.html.wire + r.js.wire + r.css.wire) / 1024).toFixed(1)
      } | ${r.requests} | ${r.cls} | ${r.serverMs} |`
    ),
    "",
    "KB over the wire (gzip), decoded size in brackets; server ms: median time to the response " +
    "headers over loopback.",
  ].join("\n");
}
