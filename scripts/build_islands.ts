/**
 * Bundles the islands and the boot script with `deno bundle` (minified, code-split ESM), gives
 * every output a content-hashed name, copies the stylesheet the same way, and writes
 * static/build/manifest.json. With --if-stale it does nothing when the sources are unchanged,
 * so `start`, `dev` and `test` can call it on every run.
 */
import { encodeHex } from "../lib/encoding.ts";
import { BUILD_DIR, BUILD_URL, type Manifest, ManifestSchema } from "../lib/web/manifest.ts";

export interface BuildOptions {
  /** The repository root (holds deno.json, islands/, static/). */
  root: string;
  /** Skip the build when the manifest's source hash matches the current sources. */
  ifStale: boolean;
}

export interface BuildResult {
  built: boolean;
  manifest: Manifest;
  ms: number;
}

/** Folders whose files can change what a bundle contains. */
const SOURCE_DIRS = ["islands", "components", "lib/browser", "lib/model"];
const SOURCE_FILES = ["deno.json", "deno.lock", "static/styles.css", "scripts/build_islands.ts"];

/**
 * Bundles every `islands/*.tsx` plus `islands/boot.ts`, names each entry `<name>-<hash>.js`
 * (esbuild already names shared chunks by content hash), and writes the manifest.
 * Throws with deno bundle's output when bundling fails.
 */
export async function buildIslands(options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const { root } = options;
  const sourceHash = await hashSources(root);
  const manifestPath = `${root}/${BUILD_DIR}/manifest.json`;
  if (options.ifStale) {
    const existing = await readManifest(manifestPath);
    if (existing?.sourceHash === sourceHash) {
      return { built: false, manifest: existing, ms: performance.now() - started };
    }
  }
  const islandNames: string[] = [];
  for await (const entry of Deno.readDir(`${root}/islands`)) {
    if (entry.isFile && /^[A-Z][A-Za-z0-9]*\.tsx$/.test(entry.name)) {
      islandNames.push(entry.name.replace(/\.tsx$/, ""));
    }
  }
  islandNames.sort();
  const tmp = await Deno.makeTempDir({ prefix: "busysync-bundle-" });
  try {
    const entries = [
      `${root}/islands/boot.ts`,
      ...islandNames.map((n) => `${root}/islands/${n}.tsx`),
    ];
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--minify",
        "--code-splitting",
        "--format",
        "esm",
        "--config",
        `${root}/deno.json`,
        "--outdir",
        tmp,
        ...entries,
      ],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    });
    const out = await cmd.output();
    if (!out.success) {
      throw new Error(`deno bundle failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    const outDir = `${root}/${BUILD_DIR}`;
    await Deno.remove(outDir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    await Deno.mkdir(outDir, { recursive: true });
    const files: Record<string, number> = {};
    const entryUrls: Record<string, string> = {};
    const entryNames = new Set(["boot", ...islandNames]);
    for await (const f of Deno.readDir(tmp)) {
      if (!f.isFile || !f.name.endsWith(".js")) continue;
      const bytes = await Deno.readFile(`${tmp}/${f.name}`);
      const base = f.name.replace(/\.js$/, "");
      const name = entryNames.has(base)
        ? `${base}-${(await sha256Hex(bytes)).slice(0, 10)}.js`
        : f.name;
      await Deno.writeFile(`${outDir}/${name}`, bytes);
      files[name] = bytes.length;
      if (entryNames.has(base)) entryUrls[base] = `${BUILD_URL}/${name}`;
    }
    const css = await Deno.readFile(`${root}/static/styles.css`);
    const cssName = `styles-${(await sha256Hex(css)).slice(0, 10)}.css`;
    await Deno.writeFile(`${outDir}/${cssName}`, css);
    files[cssName] = css.length;
    const manifest: Manifest = {
      v: 1,
      sourceHash,
      boot: entryUrls.boot,
      styles: `${BUILD_URL}/${cssName}`,
      islands: Object.fromEntries(islandNames.map((n) => [n, entryUrls[n]])),
      files,
    };
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
    return { built: true, manifest, ms: performance.now() - started };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function readManifest(path: string): Promise<Manifest | undefined> {
  try {
    return ManifestSchema.parse(JSON.parse(await Deno.readTextFile(path)));
  } catch {
    return undefined;
  }
}

async function hashSources(root: string): Promise<string> {
  const paths: string[] = [...SOURCE_FILES];
  for (const dir of SOURCE_DIRS) paths.push(...await listFiles(root, dir));
  paths.sort();
  const parts: string[] = [];
  for (const p of paths) {
    try {
      parts.push(p, await sha256Hex(await Deno.readFile(`${root}/${p}`)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return await sha256Hex(new TextEncoder().encode(parts.join("\n")));
}

async function listFiles(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(`${root}/${dir}`)) {
      if (e.isFile) out.push(`${dir}/${e.name}`);
      else if (e.isDirectory) out.push(...await listFiles(root, `${dir}/${e.name}`));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return encodeHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource)));
}

if (import.meta.main) {
  const ifStale = Deno.args.includes("--if-stale");
  const root = new URL("..", import.meta.url).pathname;
  const result = await buildIslands({ root, ifStale });
  console.log(
    result.built
      ? `islands: built ${Object.keys(result.manifest.islands).length} island(s) in ${result.ms} ms`
      : "islands: up to date",
  );
}
