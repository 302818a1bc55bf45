/**
 * Helpers for the offline checks of the deployment files (tests/infrastructure/): Terraform
 * parsed with @cdktf/hcl2json, Terraform's template syntax rendered by a tiny stand-in, and the
 * Debian tools (nginx, shellcheck, openssl) found or reported missing.
 */
import { parse } from "@cdktf/hcl2json";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const INFRA = `${ROOT}infrastructure/`;
export const TERRAFORM = `${INFRA}terraform/`;

/** hcl2json's shape: blocks are arrays, expressions are `${...}` strings. */
// deno-lint-ignore no-explicit-any
export type Hcl = Record<string, any>;

/** A Terraform module: the .tf files of one folder, merged the way Terraform merges them. */
export interface TfModule {
  dir: string;
  variables: Record<string, Hcl>;
  locals: Hcl;
  modules: Record<string, Hcl>;
  resources: Record<string, Record<string, Hcl>>;
  data: Record<string, Record<string, Hcl>>;
  outputs: Record<string, Hcl>;
  terraform: Hcl[];
  providers: Record<string, Hcl>;
}

/** Parses one HCL file; a syntax error rejects with hcl2json's message. */
export async function parseHcl(path: string): Promise<Hcl> {
  return await parse(path, await Deno.readTextFile(path));
}

/** Every folder under `infrastructure/terraform` holding .tf files. */
export async function terraformDirs(): Promise<string[]> {
  const dirs = new Set<string>();
  for (const file of await filesUnder(TERRAFORM, (n) => n.endsWith(".tf"))) {
    dirs.add(file.slice(0, file.lastIndexOf("/")));
  }
  return [...dirs].sort();
}

/** Loads and merges the .tf files of `dir`. */
export async function loadModule(dir: string): Promise<TfModule> {
  const m: TfModule = {
    dir,
    variables: {},
    locals: {},
    modules: {},
    resources: {},
    data: {},
    outputs: {},
    terraform: [],
    providers: {},
  };
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".tf")) continue;
    const hcl = await parseHcl(`${dir}/${entry.name}`);
    for (const [name, blocks] of Object.entries(hcl.variable ?? {})) {
      m.variables[name] = (blocks as Hcl[])[0];
    }
    for (const block of hcl.locals ?? []) Object.assign(m.locals, block);
    for (const [name, blocks] of Object.entries(hcl.module ?? {})) {
      m.modules[name] = (blocks as Hcl[])[0];
    }
    for (const [name, blocks] of Object.entries(hcl.output ?? {})) {
      m.outputs[name] = (blocks as Hcl[])[0];
    }
    for (const [name, blocks] of Object.entries(hcl.provider ?? {})) {
      m.providers[name] = (blocks as Hcl[])[0];
    }
    for (const kind of ["resource", "data"] as const) {
      const into = kind === "resource" ? m.resources : m.data;
      for (const [type, byName] of Object.entries(hcl[kind] ?? {})) {
        for (const [name, blocks] of Object.entries(byName as Hcl)) {
          (into[type] ??= {})[name] = (blocks as Hcl[])[0];
        }
      }
    }
    m.terraform.push(...(hcl.terraform ?? []));
  }
  return m;
}

/** Every string inside a parsed HCL value (expressions included), depth first. */
export function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === "string") yield value;
  else if (Array.isArray(value)) { for (const v of value) yield* stringsIn(v); }
  else if (value && typeof value === "object") {
    for (const v of Object.values(value)) yield* stringsIn(v);
  }
}

/** Names referenced as `<prefix>.name` (e.g. `var`, `local`) anywhere in `value`. */
export function referencesTo(prefix: string, value: unknown): Set<string> {
  const names = new Set<string>();
  const re = new RegExp(`(?<![\\w.])${prefix}\\.([A-Za-z_][A-Za-z0-9_-]*)`, "g");
  for (const s of stringsIn(value)) for (const m of s.matchAll(re)) names.add(m[1]);
  return names;
}

/**
 * Replaces `${local.x}` (string locals only) and `${path.module}` in an expression, so the file
 * paths given to file(), filebase64() and templatefile() can be checked on disk.
 */
export function resolvePaths(expr: string, module: TfModule): string {
  let out = expr;
  for (let i = 0; i < 5 && /\$\{local\.\w+\}/.test(out); i++) {
    out = out.replace(/\$\{local\.(\w+)\}/g, (whole, name) => {
      const v = module.locals[name];
      return typeof v === "string" ? v : whole;
    });
  }
  return out.replaceAll("${path.module}", module.dir);
}

/**
 * Renders a Terraform template the way templatefile() does for the subset our templates use:
 * `${name}` placeholders and the `$${` escape. Directives (`%{ if }`, `%{ for }`) and function
 * calls are refused so the templates stay simple enough for this to be faithful. Throws on a
 * placeholder without a value, as Terraform does.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  if (/(?<!%)%\{/.test(template)) throw new Error("template directives are not supported");
  return template.replace(/\$(\$?)\{([^}]*)\}/g, (whole, escaped: string, inner: string) => {
    if (escaped) return whole.slice(1);
    const name = inner.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`unsupported template expression \${${inner}}`);
    }
    if (!(name in vars)) throw new Error(`no value for template variable ${name}`);
    return vars[name];
  });
}

/** The `${name}` placeholders of a template (escaped `$${` ones excluded). */
export function templatePlaceholders(template: string): Set<string> {
  const names = new Set<string>();
  for (const m of template.matchAll(/(?<!\$)\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}/g)) {
    names.add(m[1]);
  }
  return names;
}

/** Absolute path of an executable, searching PATH and the sbin folders; undefined if absent. */
export function findTool(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/bin", "/sbin"];
  for (const dir of dirs) {
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not in this folder */ }
  }
  return undefined;
}

/** A Deno.test name that says why the test is ignored when a Debian tool is missing. */
export function needing(name: string, tools: Record<string, string | undefined>): string {
  const missing = Object.entries(tools).filter(([, path]) => !path).map(([tool]) => tool);
  return missing.length === 0
    ? name
    : `${name} [ignored: ${missing.join(", ")} not installed; apt-get install ${
      missing.join(" ")
    }]`;
}

/** Runs a command from the repository root, returning its exit code and combined output. */
export async function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code, output: dec.decode(stdout) + dec.decode(stderr) };
}

/** Files under `dir` (recursively) whose name passes `keep`, skipping dependency folders. */
export async function filesUnder(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if ([".git", "node_modules", ".terraform"].includes(entry.name)) continue;
    const path = `${dir.replace(/\/$/, "")}/${entry.name}`;
    if (entry.isDirectory) out.push(...(await filesUnder(path, keep)));
    else if (entry.isFile && keep(entry.name)) out.push(path);
  }
  return out.sort();
}

/** Standard base64 of UTF-8 text, as Terraform's base64encode() and filebase64() produce. */
export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Decodes standard base64 to UTF-8 text. */
export function unbase64(b64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}
