/**
 * The direction of the arrows, as a test: reads the import graph of the tree (static imports,
 * re-exports, dynamic imports and `new URL(…, import.meta.url)` module references, which is how
 * a Worker's entry is named) and fails on an import a rule forbids, naming the import and the
 * rule.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

interface Rule {
  name: string;
  /** Whether the rule covers imports made by this module (a repository-relative path). */
  from(path: string): boolean;
  /** Whether importing this module (repository-relative) breaks the rule. */
  to(path: string, from: string): boolean;
  /** Whether an import of types alone (`import type`, gone once compiled) is held to it too. */
  typesToo: boolean;
}

const isTest = (path: string) => /_test\.tsx?$/.test(path);

const RULES: Rule[] = [{
  name: "nothing under lib/ imports app.ts, routes/, components/ or islands/, nor the " +
    "composition roots beside main.ts (they are built on lib/ and hand it what it needs)",
  from: (path) => path.startsWith("lib/"),
  // A module at the root is app.ts or a composition root (main.ts, cli.ts, http_thread.ts, …).
  to: (path) => !path.includes("/") || /^(routes|components|islands)\//.test(path),
  typesToo: true,
}, {
  name: "the emulator never imports lib/ (it plays Google, and must not share busysync's " +
    "assumptions)",
  from: (path) => path.startsWith("emulator/"),
  to: (path) => path.startsWith("lib/"),
  typesToo: true,
}, {
  name: "lib/ never imports the emulator outside its tests (busysync reaches it over HTTP only)",
  from: (path) => path.startsWith("lib/") && !isTest(path),
  to: (path) => path.startsWith("emulator/"),
  typesToo: true,
}, {
  name: "routes/ never import app.ts, which mounts them (their shared shapes are in " +
    "app_context.ts)",
  from: (path) => path.startsWith("routes/"),
  to: (path) => path === "app.ts",
  typesToo: true,
}, {
  name: "the model (lib/model/) imports nothing else from lib/: everything else is built on it",
  from: (path) => path.startsWith("lib/model/"),
  to: (path) => path.startsWith("lib/") && !path.startsWith("lib/model/"),
  typesToo: true,
}, {
  name: "the store (lib/db/) never imports the sync engine (lib/sync/): it stores the model's " +
    "shapes, and the engine is built on it",
  from: (path) => path.startsWith("lib/db/"),
  to: (path) => path.startsWith("lib/sync/"),
  typesToo: true,
}, {
  name: "the store and the engine (lib/db/, lib/sync/) never import what is built on them: a " +
    "provider, a use case (lib/rules/, lib/groups/, lib/accounts/), push, the scheduler, notifications, " +
    "HTTP or the CLI",
  from: (path) => /^lib\/(db|sync)\//.test(path),
  to: (path) =>
    /^lib\/(google|caldav|ical|ics|net|providers|rules|groups|accounts|push|scheduler|notify|http|cli|web|browser)\//
      .test(path),
  typesToo: true,
}, {
  name: "code bundled for the browser (islands/, lib/browser/) loads nothing of lib/ but the " +
    "model, lib/browser/ and lib/encoding.ts (a server module would drag KV and secrets into " +
    "the bundle); types may come from anywhere",
  from: (path) => /^(islands|lib\/browser)\//.test(path) && !isTest(path),
  to: (path) =>
    path.startsWith("lib/") && !/^lib\/(model|browser)\//.test(path) &&
    path !== "lib/encoding.ts",
  typesToo: false,
}, {
  name: "one module mounts the routes (routes/mount.ts): no other route module imports a route " +
    "module but routes/api/schemas.ts, the shapes they share (which imports none)",
  from: (path) => path.startsWith("routes/") && path !== "routes/mount.ts",
  to: (path) => path.startsWith("routes/") && path !== "routes/api/schemas.ts",
  typesToo: true,
}, {
  name: "app.ts reaches the routes only through routes/mount.ts",
  from: (path) => path === "app.ts",
  to: (path) => path.startsWith("routes/") && path !== "routes/mount.ts",
  typesToo: true,
}, {
  name: "components/ never import routes/ (pages are built on components, not the other way)",
  from: (path) => path.startsWith("components/"),
  to: (path) => path.startsWith("routes/"),
  typesToo: true,
}];

const SPECIFIERS = [
  // import … from "x", export … from "x" (a statement at the start of a line, across lines);
  // group 1 is there when the statement names types alone.
  /^(?:import|export)(\s+type\b)?[^;()]*?\bfrom\s*["']([^"']+)["']/gm,
  // import "x" (for its effects).
  /^import\s*["']([^"']+)["']/gm,
  // import("x")
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  // new URL("x.ts", import.meta.url): a module (a Worker's entry), not a folder or a file of data.
  /\bnew URL\(\s*["']([^"']+\.tsx?)["']\s*,\s*import\.meta\.url\s*\)/g,
];

interface Import {
  /** Repository-relative. */
  path: string;
  typesOnly: boolean;
}

/** The repository-relative modules `source` (the text of `path`) imports; packages left out. */
function importsOf(path: string, source: string): Import[] {
  const found = new Map<string, boolean>();
  for (const pattern of SPECIFIERS) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match.at(-1)!;
      if (!specifier.startsWith(".")) continue;
      const typesOnly = match.length === 3 && match[1] !== undefined;
      const imported = normalize(join(dirname(path), specifier));
      found.set(imported, (found.get(imported) ?? true) && typesOnly);
    }
  }
  return [...found].map(([path, typesOnly]) => ({ path, typesOnly }));
}

/** One line per forbidden import among `files` (repository-relative path → source). */
function violations(files: Map<string, string>): string[] {
  const lines = [];
  for (const [path, source] of files) {
    for (const { path: imported, typesOnly } of importsOf(path, source)) {
      for (const rule of RULES) {
        if (typesOnly && !rule.typesToo) continue;
        if (rule.from(path) && rule.to(imported, path)) {
          lines.push(`${path} imports ${imported}: ${rule.name}`);
        }
      }
    }
  }
  return lines.sort();
}

/** Packages too heavy for a page: the islands validate nothing themselves (the API does). */
const SERVER_PACKAGES = ["zod", "@hono/zod-openapi", "hono", "@googleapis/calendar"];

/**
 * The chains by which an island's bundle would load a server-side package at run time: the
 * island, each module it loads (imports of types alone vanish from the bundle), and the package.
 */
function serverPackagesInBundles(files: Map<string, string>): string[] {
  const lines = [];
  for (const island of [...files.keys()].filter((p) => /^islands\/.*\.tsx?$/.test(p)).sort()) {
    const seen = new Set<string>();
    const queue: string[][] = [[island]];
    while (queue.length) {
      const chain = queue.shift()!;
      const path = chain.at(-1)!;
      if (seen.has(path)) continue;
      seen.add(path);
      const source = files.get(path);
      if (source === undefined) continue;
      for (const pkg of packagesOf(source)) {
        if (SERVER_PACKAGES.includes(pkg)) lines.push(`${[...chain, pkg].join(" → ")}`);
      }
      for (const { path: next, typesOnly } of importsOf(path, source)) {
        if (!typesOnly) queue.push([...chain, next]);
      }
    }
  }
  return lines;
}

/** The packages `source` loads at run time (bare specifiers of value imports). */
function packagesOf(source: string): string[] {
  const found = [];
  for (
    const match of source.matchAll(/^import(\s+type\b)?[^;()]*?\bfrom\s*["']([^"'.][^"']*)["']/gm)
  ) {
    if (match[1] === undefined) found.push(match[2]);
  }
  return found;
}

async function sourceTree(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const skip = new Set(["node_modules", "static", "data", "test-output", "dist", ".git"]);
  async function walk(dir: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory && !skip.has(entry.name)) await walk(path);
      if (entry.isFile && /\.tsx?$/.test(entry.name)) {
        files.set(relative(ROOT, path), await Deno.readTextFile(path));
      }
    }
  }
  await walk(ROOT);
  return files;
}

Deno.test("architecture: no import in the tree breaks a rule", async () => {
  const files = await sourceTree();
  assert.ok(files.has("lib/services.ts"), "the walk found the tree");
  const broken = violations(files);
  assert.deepEqual(broken, [], `imports that break a rule:\n${broken.join("\n")}`);
});

Deno.test("architecture: no island's bundle loads zod, hono or a Google client", async () => {
  const chains = serverPackagesInBundles(await sourceTree());
  assert.deepEqual(chains, [], `server packages in a browser bundle:\n${chains.join("\n")}`);
});

Deno.test("architecture: a server package reached from an island is reported with its chain", () => {
  const files = new Map([
    [
      "islands/Editor.tsx",
      'import { key } from "../lib/model/ref.ts";\nimport type { R } from "../lib/model/rule.ts";\n',
    ],
    ["lib/model/ref.ts", 'import { z } from "zod";\n'],
    ["lib/model/rule.ts", 'import { z } from "zod";\n'],
  ]);
  assert.deepEqual(serverPackagesInBundles(files), [
    "islands/Editor.tsx → lib/model/ref.ts → zod",
  ]);
});

Deno.test("architecture: a forbidden import is reported with the import and the rule", () => {
  const files = new Map([
    ["lib/web/page.tsx", 'import { Layout } from "../../components/Layout.tsx";\n'],
    ["lib/server/stack.ts", 'import {\n  createApp,\n} from "../../app.ts";\n'],
    ["lib/server/threads.ts", 'new Worker(new URL("../../islands/boot.ts", import.meta.url));\n'],
    ["lib/web/lazy.ts", 'const m = await import("../../routes/health.ts");\n'],
    ["lib/cli/serve.ts", 'import { serveUntilSignal } from "../../main.ts";\n'],
    [
      "lib/fine.ts",
      'import { z } from "zod";\nimport { openKv } from "./db/kv.ts";\n' +
      'const root = new URL("../", import.meta.url);\n',
    ],
    ["routes/health.ts", 'import { createApp } from "../app.ts";\n'],
    ["routes/pages/home.tsx", 'import { d } from "./dashboard.tsx";\n'],
    [
      "routes/api/rules.ts",
      'import { WaitQuery } from "./schemas.ts";\nimport { triggerSync } from "./sync.ts";\n',
    ],
    ["routes/api/schemas.ts", 'import { LoginQuery } from "./auth.tsx";\n'],
    ["routes/mount.ts", 'import { ruleRoutes } from "./api/rules.ts";\n'],
    [
      "app.ts",
      'import { mountRoutes } from "./routes/mount.ts";\n' +
      'import { errorPage } from "./routes/pages/error.tsx";\n',
    ],
    ["components/Dashboard.tsx", 'import { homePage } from "../routes/pages/home.tsx";\n'],
    ["emulator/state.ts", 'import { calendarKey } from "../lib/model/calendar_ref.ts";\n'],
    ["lib/google/seed.ts", 'import { startEmulator } from "../../emulator/server.ts";\n'],
    ["lib/google/provider_test.ts", 'import { startEmulator } from "../../emulator/server.ts";\n'],
    [
      "lib/model/rule.ts",
      'import { keys } from "../db/keys.ts";\nimport { n } from "./name.ts";\n',
    ],
    ["lib/db/ledger.ts", 'import type { Edge } from "../sync/types.ts";\n'],
    ["lib/sync/engine.ts", 'import { checkRule } from "../rules/check.ts";\n'],
    [
      "routes/pages/home.tsx",
      'import { renderDashboard } from "./dashboard.tsx";\n' +
      'import { RunSchema } from "../api/schemas.ts";\n',
    ],
    [
      "islands/RuleEditor.tsx",
      'import { listRules } from "../lib/db/rules.ts";\n' +
      'import type { RulePreview } from "../lib/rules/preview.ts";\n' +
      'import { buildRule } from "../lib/model/rule.ts";\n',
    ],
    ["lib/browser/api.ts", 'import { type Config, loadConfig } from "../config.ts";\n'],
  ]);
  const [roots, emulatorOut, emulatorIn, routesUp, model, store, layers, browser, mounts] = RULES
    .map((r) => r.name);
  const [appMounts, components] = RULES.slice(-2).map((r) => r.name);
  assert.deepEqual(violations(files), [
    `app.ts imports routes/pages/error.tsx: ${appMounts}`,
    `components/Dashboard.tsx imports routes/pages/home.tsx: ${components}`,
    `emulator/state.ts imports lib/model/calendar_ref.ts: ${emulatorOut}`,
    `islands/RuleEditor.tsx imports lib/db/rules.ts: ${browser}`,
    `lib/browser/api.ts imports lib/config.ts: ${browser}`,
    `lib/cli/serve.ts imports main.ts: ${roots}`,
    `lib/db/ledger.ts imports lib/sync/types.ts: ${store}`,
    `lib/google/seed.ts imports emulator/server.ts: ${emulatorIn}`,
    `lib/model/rule.ts imports lib/db/keys.ts: ${model}`,
    `lib/server/stack.ts imports app.ts: ${roots}`,
    `lib/server/threads.ts imports islands/boot.ts: ${roots}`,
    `lib/sync/engine.ts imports lib/rules/check.ts: ${layers}`,
    `lib/web/lazy.ts imports routes/health.ts: ${roots}`,
    `lib/web/page.tsx imports components/Layout.tsx: ${roots}`,
    `routes/api/rules.ts imports routes/api/sync.ts: ${mounts}`,
    `routes/api/schemas.ts imports routes/api/auth.tsx: ${mounts}`,
    `routes/health.ts imports app.ts: ${routesUp}`,
    `routes/pages/home.tsx imports routes/pages/dashboard.tsx: ${mounts}`,
  ]);
});
