import assert from "node:assert/strict";
import { commitWithRetry } from "./commit.ts";
import { getOrCreateSetting } from "./settings.ts";
import { type Migration, MIGRATIONS, runMigrations, SchemaTooNewError } from "./migrations.ts";

Deno.test("commit: concurrent read-modify-writes on one key all land exactly once", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(["n"], 0);
    await Promise.all(Array.from({ length: 25 }, () =>
      commitWithRetry(async () => {
        const cur = await kv.get<number>(["n"]);
        return { op: kv.atomic().check(cur).set(["n"], (cur.value ?? 0) + 1) };
      }, { attempts: 200, baseDelayMs: 1 })));
    assert.equal((await kv.get(["n"])).value, 25);
  } finally {
    kv.close();
  }
});

Deno.test("commit: two processes incrementing one KV file with check-and-set lose no update", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/x.kv`;
  const script = `
    import { commitWithRetry } from ${JSON.stringify(new URL("./commit.ts", import.meta.url).href)};
    const kv = await Deno.openKv(${JSON.stringify(path)});
    for (let i = 0; i < 100; i++) {
      await commitWithRetry(async () => {
        const cur = await kv.get(["n"]);
        return { op: kv.atomic().check(cur).set(["n"], (cur.value ?? 0) + 1) };
      }, { attempts: 1000, baseDelayMs: 1 });
    }
    kv.close();`;
  // Made before the two start: two processes creating one KV file at once can meet SQLite's
  // "database is locked" while the schema is set up, which is not what this test is about.
  (await Deno.openKv(path)).close();
  try {
    const run = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", "--unstable-kv", script],
        stdout: "null",
        stderr: "piped",
      }).output();
    const results = await Promise.all([run(), run()]);
    for (const r of results) assert.ok(r.success, new TextDecoder().decode(r.stderr));
    const kv = await Deno.openKv(path);
    assert.equal((await kv.get(["n"])).value, 200);
    kv.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("settings: concurrent first reads agree on one generated value", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let n = 0;
    const values = await Promise.all(
      Array.from({ length: 10 }, () => getOrCreateSetting(kv, "secret", () => `value-${n++}`)),
    );
    assert.equal(new Set(values).size, 1);
    assert.equal(await getOrCreateSetting(kv, "secret", () => "other"), values[0]);
  } finally {
    kv.close();
  }
});

Deno.test("migrations: pending steps run once in order, a newer store is refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const ran: string[] = [];
    const steps: Migration[] = ["0001-a", "0002-b"].map((id) => ({
      id,
      description: id,
      run: async (k) => {
        ran.push(id);
        await k.set(["touched", id], true);
      },
    }));
    assert.deepEqual(await runMigrations(kv, steps.slice(0, 1)), ["0001-a"]);
    assert.deepEqual(await runMigrations(kv, steps), ["0002-b"]);
    assert.deepEqual(await runMigrations(kv, steps), []);
    assert.deepEqual(ran, ["0001-a", "0002-b"]);
    // A store migrated by a newer busysync (one step more than this one knows).
    const newer = Array.from({ length: MIGRATIONS.length + 1 }, (_, i) => ({
      id: `${String(i + 1).padStart(4, "0")}-newer`,
      description: "newer",
      run: () => Promise.resolve(),
    }));
    const other = await Deno.openKv(":memory:");
    try {
      await runMigrations(other, newer);
      await assert.rejects(() => runMigrations(other, MIGRATIONS), SchemaTooNewError);
    } finally {
      other.close();
    }
  } finally {
    kv.close();
  }
});
