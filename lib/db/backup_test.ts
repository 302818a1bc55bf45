import assert from "node:assert/strict";
import { tempKvPath } from "../../tests/support/temp_kv.ts";
import { BackupFormatError, backupKv, restoreKv, StoreNotEmptyError } from "./backup.ts";
import { UnsupportedValueError } from "./backup_codec.ts";
import { keys } from "./keys.ts";
import { createKeyring } from "../auth/crypto.ts";
import { getRun, saveRun } from "./history.ts";
import { openTitles, sealTitles } from "./history_titles.ts";
import { randomKeyBase64 } from "./settings.ts";
import { type Migration, SchemaTooNewError } from "./migrations.ts";
import { aRunRecord } from "./test_runs.ts";

const T0 = new Date("2030-01-01T00:00:00Z");
const HOUR = 3600_000;

/** A store with every key-part type, every value type busysync or Deno KV can hold, and expiry. */
async function populate(kv: Deno.Kv) {
  await kv.set(keys.schemaVersion(), 2);
  await kv.set(["users", "01J0USER"], {
    v: 1,
    email: "a@example.com",
    createdAt: T0.toISOString(),
  });
  await kv.set(["users_by_sub", "https://accounts.google.com", "sub-1"], "01J0USER");
  await kv.set(["k", 1, 2.5, -3, 10n, true, false, new Uint8Array([0, 255])], "every key part");
  await kv.set(["k", "unicode ✓ — \u0000 \n"], "odd strings");
  await kv.set(["values", "bytes"], new Uint8Array([1, 2, 3, 250]));
  await kv.set(["values", "big"], 2n ** 70n);
  await kv.set(["values", "u64"], new Deno.KvU64(42n));
  await kv.set(["values", "date"], new Date("2024-05-06T07:08:09.010Z"));
  await kv.set(["values", "numbers"], [NaN, Infinity, -Infinity, -0, 0, 1.5, undefined, null]);
  await kv.set(["values", "collections"], {
    map: new Map<unknown, unknown>([["a", 1], [2n, new Set([new Uint8Array([7])])]]),
    regexp: /x+y/gi,
    int16: new Int16Array([1, -2, 300]),
    buffer: new Uint8Array([9, 8]).buffer,
    nested: { deep: [{ $: "not a tag", v: 1 }] },
  });
  await kv.set(["values", "dollar"], { $: "bigint", v: "1" });
  await kv.set(["values", "large"], "x".repeat(60_000));
  for (let i = 0; i < 250; i++) await kv.set(["bulk", i], { v: 1, i, pad: "p".repeat(i) });
  await kv.set(["sessions", "live"], {
    v: 1,
    expiresAt: new Date(T0.getTime() + HOUR).toISOString(),
  }, {
    expireIn: HOUR,
  });
  // Written long ago with a far expireIn so KV keeps it, but its own expiry has passed at T0.
  await kv.set(["sessions", "old"], {
    v: 1,
    expiresAt: new Date(T0.getTime() - HOUR).toISOString(),
  });
}

async function allEntries(kv: Deno.Kv): Promise<[Deno.KvKey, unknown][]> {
  const out: [Deno.KvKey, unknown][] = [];
  for await (const e of kv.list({ prefix: [] })) out.push([e.key, e.value]);
  return out;
}

async function withStores(
  fn: (a: Deno.Kv, b: Deno.Kv, dir: string) => Promise<void>,
): Promise<void> {
  const first = await tempKvPath();
  const second = await tempKvPath();
  const a = await Deno.openKv(first.path);
  const b = await Deno.openKv(second.path);
  try {
    await fn(a, b, first.path.replace(/\/[^/]+$/, ""));
  } finally {
    a.close();
    b.close();
    await first.cleanup();
    await second.cleanup();
  }
}

const migrations = (n: number): Migration[] =>
  Array.from({ length: n }, (_, i) => ({ id: `m${i}`, description: "", run: async () => {} }));

Deno.test("backup: a restore into an empty store gives back every entry, equal in type and value", async (t) => {
  await withStores(async (source, target, dir) => {
    await populate(source);
    const file = `${dir}/dump.ndjson`;
    const now = () => T0;
    let paused = 0;
    let resumed = 0;
    const { entries } = await backupKv(source, file, {
      now,
      pauseWriters: () => {
        paused++;
        return Promise.resolve(() => void resumed++);
      },
    });

    await t.step("writers are paused once and resumed after the listing", () => {
      assert.equal(paused, 1);
      assert.equal(resumed, 1);
    });

    await t.step("the file has a header, one line per entry and a trailer", async () => {
      const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");
      assert.deepEqual(JSON.parse(lines[0]), {
        format: "busysync-backup",
        version: 1,
        schemaVersion: 2,
        createdAt: T0.toISOString(),
      });
      assert.equal(lines.length, entries + 2);
      assert.deepEqual(JSON.parse(lines.at(-1)!), { end: true, entries });
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    });

    const result = await restoreKv(target, file, { now, migrations: migrations(2) });

    await t.step("every entry but the expired one comes back deep-equal", async () => {
      const expected = (await allEntries(source)).filter(([k]) => k[1] !== "old");
      const actual = await allEntries(target);
      assert.deepStrictEqual(actual, expected);
      assert.equal(result.restored, expected.length);
      assert.equal(result.skippedExpired, 1);
      const u64 = (await target.get<Deno.KvU64>(["values", "u64"])).value!;
      assert.ok(u64 instanceof Deno.KvU64);
      assert.equal(u64.value, 42n);
    });

    await t.step("a record still within its own expiresAt is restored", async () => {
      const live = await target.get(["sessions", "live"]);
      assert.notEqual(live.value, null);
    });
  });
});

Deno.test("backup: restore refuses a dump from a newer schema and writes nothing", async () => {
  await withStores(async (source, target, dir) => {
    await source.set(keys.schemaVersion(), 3);
    await source.set(["users", "u"], { v: 1 });
    const file = `${dir}/dump.ndjson`;
    await backupKv(source, file);
    await assert.rejects(
      () => restoreKv(target, file, { migrations: migrations(2) }),
      (err) => err instanceof SchemaTooNewError && err.stored === 3 && err.supported === 2,
    );
    assert.deepEqual(await allEntries(target), []);
  });
});

Deno.test("backup: restore refuses a non-empty store unless forced", async () => {
  await withStores(async (source, target, dir) => {
    await source.set(["users", "u"], { v: 1, name: "from backup" });
    const file = `${dir}/dump.ndjson`;
    await backupKv(source, file);
    await target.set(["users", "u"], { v: 1, name: "already here" });
    await target.set(["other"], 1);

    await assert.rejects(() => restoreKv(target, file), StoreNotEmptyError);
    assert.deepEqual((await target.get(["users", "u"])).value, { v: 1, name: "already here" });

    await restoreKv(target, file, { force: true });
    assert.deepEqual((await target.get(["users", "u"])).value, { v: 1, name: "from backup" });
    assert.equal((await target.get(["other"])).value, 1, "force leaves keys outside the dump");
  });
});

Deno.test("backup: a truncated or foreign file is refused before anything is written", async (t) => {
  await withStores(async (source, target, dir) => {
    for (let i = 0; i < 5; i++) await source.set(["n", i], i);
    const file = `${dir}/dump.ndjson`;
    await backupKv(source, file);
    const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");

    const cases: [string, string][] = [
      ["cut before the trailer", lines.slice(0, -1).join("\n")],
      ["cut mid-line", lines.join("\n").slice(0, -20)],
      ["trailer count wrong", [...lines.slice(0, 2), lines.at(-1)].join("\n")],
      ["not a backup", '{"hello":"world"}\n'],
      ["newer format", lines[0].replace('"version":1', '"version":2') + "\n"],
      ["unknown tag", [lines[0], '{"key":["a"],"value":{"$":"wat"}}', lines.at(-1)].join("\n")],
      ["empty", ""],
    ];
    for (const [name, text] of cases) {
      await t.step(name, async () => {
        const bad = `${dir}/${name.replaceAll(" ", "_")}.ndjson`;
        await Deno.writeTextFile(bad, text);
        await assert.rejects(() => restoreKv(target, bad), BackupFormatError);
        assert.deepEqual(await allEntries(target), []);
      });
    }
  });
});

Deno.test("backup: a value the format cannot carry fails the backup and leaves no file", async () => {
  await withStores(async (source, _target, dir) => {
    await source.set(["bad"], new Error("not data"));
    const file = `${dir}/dump.ndjson`;
    let resumed = false;
    await assert.rejects(
      () =>
        backupKv(source, file, {
          pauseWriters: () => Promise.resolve(() => void (resumed = true)),
        }),
      UnsupportedValueError,
    );
    assert.ok(resumed, "writers are resumed after a failed backup");
    await assert.rejects(() => Deno.stat(file), Deno.errors.NotFound);
    await assert.rejects(() => Deno.stat(`${file}.partial`), Deno.errors.NotFound);
  });
});

Deno.test("backup: a dump written to a stream restores like one written to a file", async () => {
  await withStores(async (source, target, dir) => {
    await source.set(["a"], new Uint8Array([1]));
    const file = `${dir}/stream.ndjson`;
    const out = await Deno.open(file, { write: true, create: true });
    await backupKv(source, out.writable);
    await restoreKv(target, file);
    assert.deepEqual((await target.get(["a"])).value, new Uint8Array([1]));
  });
});

Deno.test("backup: a restore leaves out runs and their actions past BUSYSYNC_HISTORY_MAX_DAYS and re-expires the rest", async () => {
  await withStores(async (source, target, dir) => {
    const keyring = await createKeyring([randomKeyBase64()]);
    const now = new Date();
    const retention = { maxRuns: 10, maxDays: 30 };
    const save = async (runId: string, endedAt: Date, title: string) => {
      const at = endedAt.toISOString();
      const actions = await sealTitles(keyring, "u1", runId, [{
        ruleId: "r1",
        direction: "forward",
        kind: "create",
        reason: "new",
        sourceEventId: "e1",
        mirrorId: "m1",
        target: "c1/cal",
        sourceTitle: title,
      }]);
      await saveRun(
        source,
        aRunRecord("u1", runId, { startedAt: at, endedAt: at }),
        actions,
        retention,
      );
    };
    await save("01OLD", new Date(now.getTime() - 40 * 24 * HOUR), "Old dentist");
    await save("01NEW", new Date(now.getTime() - 2 * 24 * HOUR), "New dentist");
    const file = `${dir}/dump.ndjson`;
    await backupKv(source, file);

    const result = await restoreKv(target, file);
    assert.equal(result.skippedExpired, 2);
    assert.equal((await target.get(keys.run("u1", "01OLD"))).value, null);
    assert.equal((await target.get(keys.runActions("u1", "01OLD"))).value, null);
    const fresh = await getRun(target, "u1", "01NEW");
    const [opened] = await openTitles(keyring, "u1", "01NEW", fresh!.actions);
    assert.equal(opened.title, "New dentist");
  });
});
