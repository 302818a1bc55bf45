import assert from "node:assert/strict";
import { type CommitConflict, reportingCommitConflicts } from "./commit_conflicts.ts";
import { commitWithRetry } from "./commit.ts";

Deno.test("commit conflicts: a commit refused by its check is reported, and the retry loop goes on to commit", async () => {
  const raw = await Deno.openKv(":memory:");
  const seen: CommitConflict[] = [];
  const kv = reportingCommitConflicts(raw, (reason) => seen.push(reason));
  try {
    await kv.set(["n"], 0);
    let builds = 0;
    const done = await commitWithRetry(async () => {
      const entry = await kv.get<number>(["n"]);
      // The first attempt loses to a writer that gets in between the read and the commit.
      if (builds++ === 0) await raw.set(["n"], 10);
      return { op: kv.atomic().check(entry).set(["n"], (entry.value ?? 0) + 1) };
    });
    assert.ok(done);
    assert.equal((await kv.get(["n"])).value, 11);
    assert.deepEqual(seen, ["check_failed"]);
    // Everything else about the handle is the handle's own.
    assert.deepEqual((await Array.fromAsync(kv.list({ prefix: [] }))).map((e) => e.key), [["n"]]);
  } finally {
    kv.close();
  }
});
