import assert from "node:assert/strict";
import { ROOT } from "../support/infrastructure.ts";

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, " ");
  return joined.split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

const dockerfile = instructions(await Deno.readTextFile(`${ROOT}Dockerfile`));
const stages: Instruction[][] = [];
for (const ins of dockerfile) {
  if (ins.op === "FROM") stages.push([]);
  stages.at(-1)?.push(ins);
}
const runtime = stages.at(-1)!;
const all = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);

Deno.test("dockerfile: multi-stage, every base pinned by version and digest", () => {
  assert.ok(stages.length >= 2, "a build stage and a runtime stage");
  for (const [from] of stages) {
    const image = from.args.split(/\s+/)[0];
    assert.match(
      image,
      /^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/,
      `${image} is pinned by tag and digest`,
    );
    assert.doesNotMatch(image, /:latest@/, "no latest tag");
  }
});

Deno.test("dockerfile: the build uses the pinned Deno and the lock file, then the build and compile tasks", async () => {
  const pkg = JSON.parse(await Deno.readTextFile(`${ROOT}package.json`));
  const [from] = stages[0];
  assert.ok(
    from.args.startsWith(`denoland/deno:${pkg.devDependencies.deno}@`),
    "same Deno as package.json",
  );
  const runs = all(stages[0], "RUN").map((i) => i.args).join("\n");
  assert.match(runs, /deno install --frozen/);
  assert.match(runs, /deno task build/);
  assert.match(runs, /deno task compile/);

  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const compile: string = config.tasks.compile;
  assert.match(compile, /^deno compile /);
  assert.match(compile, /--include static\//);
  assert.match(compile, /--include emulator\//);
  // A Worker's module is loaded at run time: the binary must carry it.
  assert.match(compile, /--include http_thread\.ts/);
  assert.ok((await Deno.stat(`${ROOT}http_thread.ts`)).isFile, "the included worker module exists");
  assert.match(compile, /--output dist\/busysync cli\.ts$/);
  assert.ok(
    all(runtime, "COPY").some((i) =>
      /--from=build \S*\/dist\/busysync \/app\/busysync$/.test(i.args)
    ),
    "the runtime image gets the compiled binary",
  );
});

Deno.test("dockerfile: the runtime runs as a non-root user with /data as its volume", () => {
  const users = all(runtime, "USER").map((i) => i.args);
  assert.ok(users.length > 0, "the runtime stage sets USER");
  assert.doesNotMatch(users.at(-1)!, /^(root|0)(:|$)/, "the last USER is not root");
  assert.deepEqual(all(runtime, "VOLUME").map((i) => i.args), ['["/data"]']);
  const env = all(runtime, "ENV").map((i) => i.args).join(" ");
  assert.match(env, /\bBUSYSYNC_KV=\/data\/busysync\.kv\b/);
  assert.match(env, /\bHOST=0\.0\.0\.0\b/);
  assert.match(all(runtime, "ENTRYPOINT")[0]?.args ?? "", /^\["\/app\/busysync"\]$/);
});

Deno.test("dockerfile: the healthcheck runs the binary's healthcheck command", () => {
  const [check] = all(runtime, "HEALTHCHECK");
  assert.ok(check, "a HEALTHCHECK");
  assert.match(check.args, /CMD \["\/app\/busysync", "healthcheck"\]$/);
});

Deno.test("dockerfile: no secret is baked into a layer", async () => {
  for (const ins of dockerfile.filter((i) => i.op === "ENV" || i.op === "ARG")) {
    assert.doesNotMatch(ins.args, /(SECRET|TOKEN|PASSWORD|ENCRYPTION_KEY|CLIENT_ID)/, ins.args);
  }
  for (const ins of dockerfile.filter((i) => i.op === "COPY" || i.op === "ADD")) {
    assert.doesNotMatch(ins.args, /\.env\b|\.kv\b/, ins.args);
  }
  const ignored = (await Deno.readTextFile(`${ROOT}.dockerignore`)).split("\n").map((l) =>
    l.trim()
  );
  for (const pattern of [".env", "*.kv", "data/", ".git/", "node_modules/", "dist/"]) {
    assert.ok(ignored.includes(pattern), `.dockerignore excludes ${pattern}`);
  }
});
