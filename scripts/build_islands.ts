/**
 * Bundles the islands and the boot script with `deno bundle` (minified, code-split ESM), gives
 * every output a content-hashed name, copies the stylesheet the same way, and writes
 * static/build/manifest.json. With --if-stale it does nothing when the sources are unchanged,
 * so `start`, `dev` and `test` can call it on every run.
 */
import { buildIslands } from "../lib/web/build.ts";

const ifStale = Deno.args.includes("--if-stale");
const root = new URL("..", import.meta.url).pathname;
const result = await buildIslands({ root, ifStale });
console.log(
  result.built
    ? `islands: built ${Object.keys(result.manifest.islands).length} island(s) in ${result.ms} ms`
    : "islands: up to date",
);
