import assert from "node:assert/strict";
import { filesUnder, findTool, needing, ROOT, run } from "../support/infrastructure.ts";

const shellcheck = findTool("shellcheck");

/** Every shell script of the repository: *.sh files and the CI entry point. */
const scripts = [
  ...(await filesUnder(ROOT, (n) => n.endsWith(".sh"))),
  `${ROOT}.ci/run`,
];

Deno.test({
  name: needing("shell scripts: every script passes shellcheck", { shellcheck }),
  ignore: !shellcheck,
  fn: async (t) => {
    assert.ok(scripts.length >= 4, "the deploy, backup and certificate scripts and .ci/run");
    for (const script of scripts) {
      await t.step(script.slice(ROOT.length), async () => {
        // -x follows `source`d files; severity style reports everything shellcheck knows.
        const result = await run(shellcheck!, ["-x", "--severity=style", script]);
        assert.equal(result.code, 0, result.output);
      });
    }
  },
});

Deno.test("shell scripts: each one is executable, runs under bash and stops on the first error", async (t) => {
  for (const script of scripts) {
    await t.step(script.slice(ROOT.length), async () => {
      const text = await Deno.readTextFile(script);
      assert.ok(text.startsWith("#!/usr/bin/env bash\n"), "bash shebang");
      assert.match(text, /^set -euo pipefail$/m);
      assert.ok(((await Deno.stat(script)).mode ?? 0) & 0o111, "executable bit set");
    });
  }
});
