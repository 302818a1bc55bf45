/**
 * The busysync CLI as a person runs it: `deno task cli …` (here `deno run -A cli.ts …`) in a
 * child process, against real KV files and the emulator.
 */
import assert from "node:assert/strict";
import { openKv } from "../lib/db/kv.ts";
import { keys } from "../lib/db/keys.ts";
import { enqueueJob, listJobsOfUser, listOpenJobsOfUser } from "../lib/db/jobs.ts";
import { getLastBackup } from "../lib/db/maintenance.ts";
import { MIGRATIONS, readSchemaVersion } from "../lib/db/migrations.ts";
import { createRule, getRule, listRules } from "../lib/db/rules.ts";
import { getOrCreateSetting } from "../lib/db/settings.ts";
import { getUser } from "../lib/db/users.ts";
import { buildRule, RuleInputSchema } from "../lib/model/rule.ts";
import {
  ANN,
  ANN_WORK,
  CLIENT,
  dumpKv,
  type Harness,
  refreshWorks,
  startHarness,
  storedTokens,
} from "./support/accounts.ts";
import { until } from "./support/poll.ts";
import { tempKvPath } from "./support/temp_kv.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string> = {}, stdin?: Uint8Array) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", BUSYSYNC_LOG_LEVEL: "error", ...env },
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function dump(kv: Deno.Kv): Promise<[unknown, unknown][]> {
  const out: [unknown, unknown][] = [];
  for await (const e of kv.list({ prefix: [] })) out.push([e.key, e.value]);
  return out;
}

Deno.test("cli: --help lists every command, --version prints it, a wrong command exits 2", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  const commands = [
    "serve",
    "emulator",
    "sync",
    "purge",
    "user delete",
    "rule disable",
    "rule enable",
    "keys rotate",
    "migrate",
    "healthcheck",
    "log-id",
  ];
  for (const c of commands) {
    assert.match(help.stdout, new RegExp(`\\n  ${c}`));
  }
  assert.match(help.stdout, /backup FILE/);
  assert.match((await cli(["--version"])).stdout, /^busysync \d+\.\d+\.\d+/);
  const wrong = await cli(["frobnicate"]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /unknown command frobnicate/);
  assert.equal((await cli(["sync"])).code, 2);
});

Deno.test("cli: migrate upgrades a store written by the previous schema version", async () => {
  const temp = await tempKvPath();
  try {
    // Schema 0 (the first release) kept a removal note per disconnected account.
    const kv = await openKv(temp.path);
    await kv.set([...keys.legacyConnectionRemovals(), "user1", "conn1"], {
      v: 1,
      connectionId: "conn1",
      email: "ann@example.com",
      removeMirrors: true,
      removedAt: "2026-11-01T00:00:00.000Z",
    });
    await kv.set(["users", "user1"], { v: 1, id: "user1" });
    // Schema 1 had no index of a user's unfinished jobs.
    const { jobId } = await enqueueJob(kv, "user1", { reason: "manual" }, {
      now: new Date(),
      newId: () => "job1",
    });
    await kv.delete(keys.jobOpenByUser("user1", jobId));
    kv.close();
    const run = await cli(["migrate"], { BUSYSYNC_KV: temp.path });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /applied 0001-drop-connection-removals, 0002-open-jobs-index, 0003-connections-by-account/,
    );
    const after = await openKv(temp.path);
    assert.equal(await readSchemaVersion(after), MIGRATIONS.length);
    assert.deepEqual((await listOpenJobsOfUser(after, "user1")).map((j) => j.id), ["job1"]);
    assert.deepEqual(
      await dump(after).then((d) => d.map(([k]) => (k as string[])[0])).then(
        (cols) => cols.filter((c) => c === "connection_removals"),
      ),
      [],
    );
    assert.equal((await after.get(["users", "user1"])).value !== null, true);
    after.close();
    assert.match((await cli(["migrate"], { BUSYSYNC_KV: temp.path })).stdout, /up to date/);
  } finally {
    await temp.cleanup();
  }
});

Deno.test("cli: migrate reports rules that duplicate each other and deletes neither", async () => {
  const temp = await tempKvPath();
  try {
    const kv = await openKv(temp.path);
    await kv.set(["users", "user1"], { v: 1, id: "user1" });
    // Written past the store's check, as a store from before duplicates were refused holds them.
    const input = (name: string) =>
      RuleInputSchema.parse({
        name,
        source: { connectionId: "c1", calendarId: "personal@example.com" },
        target: { connectionId: "c2", calendarId: "work@example.com" },
        bidirectional: true,
      });
    const now = new Date("2026-11-01T00:00:00.000Z");
    for (const [id, name] of [["r1", "Personal ↔ Work"], ["r2", "Again"]]) {
      await kv.set(keys.rule("user1", id), { v: 1, ...buildRule(input(name), { id, now }) });
    }
    kv.close();
    const run = await cli(["migrate"], { BUSYSYNC_KV: temp.path });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /user user1: rules "Personal ↔ Work" and "Again" both mirror .*personal@example\.com.* into .*work@example\.com.*; edit or delete one/,
    );
    assert.equal(run.stdout.match(/both mirror/g)?.length, 1);
    const after = await openKv(temp.path);
    assert.deepEqual((await listRules(after, "user1")).map((e) => e.rule.id), ["r1", "r2"]);
    after.close();
  } finally {
    await temp.cleanup();
  }
});

Deno.test("cli: backup then restore into an empty store round-trips it exactly and the backup is recorded; a full store is refused", async () => {
  const source = await tempKvPath();
  const target = await tempKvPath();
  const file = `${source.path}.ndjson`;
  try {
    const kv = await openKv(source.path);
    await getOrCreateSetting(kv, "session_secret", () => "s".repeat(40));
    await createRule(
      kv,
      "user1",
      RuleInputSchema.parse({
        name: "Personal into work",
        source: { connectionId: "c1", calendarId: ANN },
        target: { connectionId: "c2", calendarId: ANN_WORK },
      }),
      { now: new Date("2026-11-24T10:00:00Z") },
    );
    await kv.set(["meta", "bytes"], new Uint8Array([1, 2, 3]));
    await kv.set(["meta", "big"], 12345678901234567890n);
    const before = await dump(kv);
    kv.close();

    const backup = await cli(["backup", file], { BUSYSYNC_KV: source.path });
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, new RegExp(`${before.length} entries written`));
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    // Recorded for the owner's page, after the dump (which holds the store as it was).
    const recorded = await openKv(source.path);
    const last = await getLastBackup(recorded);
    recorded.close();
    assert.equal(last?.entries, before.length);
    assert.ok(!Number.isNaN(Date.parse(last!.at)));

    const restore = await cli(["restore", file], { BUSYSYNC_KV: target.path });
    assert.equal(restore.code, 0, restore.stderr);
    const restored = await openKv(target.path);
    assert.deepEqual(await dump(restored), before);
    restored.close();

    const again = await cli(
      ["restore", "-"],
      { BUSYSYNC_KV: target.path },
      await Deno.readFile(file),
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty/i);
  } finally {
    await source.cleanup();
    await target.cleanup();
  }
});

Deno.test("cli: healthcheck exits 0 while the server answers and 1 when nothing listens", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/healthz"
        ? Response.json({ status: "ok" })
        : new Response(null, { status: 404 }),
  );
  const port = String((server.addr as Deno.NetAddr).port);
  try {
    assert.equal((await cli(["healthcheck"], { PORT: port })).code, 0);
  } finally {
    await server.shutdown();
  }
  assert.equal((await cli(["healthcheck"], { PORT: port })).code, 1);
});

async function annWithRule(h: Harness) {
  const ann = h.client();
  await ann.signIn(ANN);
  await ann.connect(ANN);
  await ann.connect(ANN_WORK);
  const userId = (await (await ann.request("/api/me")).json()).id;
  const byEmail = new Map((await ann.connections()).map((c) => [c.email, c.id]));
  const start = new Date(Date.now() + 24 * 3600_000);
  start.setUTCHours(9, 0, 0, 0);
  await h.admin(`calendars/${encodeURIComponent(ANN)}/events`, {
    summary: "Dentist",
    start: { dateTime: start.toISOString() },
    end: { dateTime: new Date(start.getTime() + 3600_000).toISOString() },
  });
  await createRule(
    h.kv,
    userId,
    RuleInputSchema.parse({
      name: "Personal into work",
      source: { connectionId: byEmail.get(ANN)!, calendarId: ANN },
      target: { connectionId: byEmail.get(ANN_WORK)!, calendarId: ANN_WORK },
    }),
    { now: new Date() },
  );
  return userId;
}

async function liveMirrors(h: Harness): Promise<number> {
  const res = await fetch(
    `${h.emulator.url}/__emulator/calendars/${encodeURIComponent(ANN_WORK)}/events`,
  );
  const { items } = await res.json() as {
    items: { status: string; extendedProperties?: { private?: Record<string, string> } }[];
  };
  return items.filter((e) =>
    e.status !== "cancelled" && e.extendedProperties?.private?.busysync === "1"
  ).length;
}

Deno.test("cli: sync --dry-run plans without writing, sync writes, purge removes every busysync event", async () => {
  const h = await startHarness();
  try {
    await annWithRule(h);
    const env = cliEnv(h);
    const planned = await cli(["sync", "--user", ANN, "--dry-run"], env);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /1 write\(s\) planned/);
    assert.equal(await liveMirrors(h), 0);

    const synced = await cli(["sync", "--user", ANN], env);
    assert.equal(synced.code, 0, synced.stderr + synced.stdout);
    assert.match(synced.stdout, /\+1 /);
    assert.equal(await liveMirrors(h), 1);

    const purged = await cli(["purge", "--user", ANN], env);
    assert.equal(purged.code, 0, purged.stderr + purged.stdout);
    assert.equal(await liveMirrors(h), 0);

    assert.equal((await cli(["sync", "--user", "nobody@example.com"], env)).code, 2);
  } finally {
    await h.close();
  }
});

Deno.test("cli: log-id prints the tokens the logs carry for a user, as a sync logged them", async () => {
  const h = await startHarness();
  try {
    const userId = await annWithRule(h);
    const env = cliEnv(h);
    // The CLI's own logger, keyed by the instance's secret in the store, as the server's is.
    const synced = await cli(["sync", "--user", ANN], { ...env, BUSYSYNC_LOG_LEVEL: "info" });
    assert.equal(synced.code, 0, synced.stderr);
    assert.ok(!synced.stderr.includes("ann@") && !synced.stderr.includes(userId), synced.stderr);
    const finished = synced.stderr.split("\n").filter(Boolean).map((line) => JSON.parse(line))
      .find((entry) => entry.msg === "sync: run finished");
    assert.match(finished?.userId ?? "", /^user:[0-9a-f]{12}$/);

    for (const who of [ANN, userId]) {
      const listed = await cli(["log-id", who], env);
      assert.equal(listed.code, 0, listed.stderr);
      const lines = listed.stdout.trim().split("\n");
      assert.ok(lines.includes(`${finished.userId}  user ${userId}`), listed.stdout);
      // Ann's address, her two connections and her four calendars (two of them her addresses).
      assert.equal(
        lines.filter((l) => /^email:[0-9a-f]{12} {2}ann@example\.com/.test(l)).length,
        1,
      );
      assert.equal(lines.filter((l) => l.startsWith("conn:")).length, 2);
      assert.equal(lines.filter((l) => l.startsWith("cal:")).length, 4);
      const emailHex = lines.find((l) => l.startsWith("email:"))!.slice(6, 18);
      assert.ok(lines.includes(`cal:${emailHex}  calendar ${ANN}`), listed.stdout);
    }
    const stranger = await cli(["log-id", "nobody@example.com"], env);
    assert.equal(stranger.code, 0, stranger.stderr);
    assert.match(stranger.stdout, /^[0-9a-f]{12} {2}nobody@example\.com, logged as /);
    assert.equal((await cli(["log-id"], env)).code, 2);
  } finally {
    await h.close();
  }
});

/** The environment a CLI command needs to reach the harness's store and emulator. */
function cliEnv(h: Harness): Record<string, string> {
  return {
    BUSYSYNC_KV: h.kvPath,
    GOOGLE_CLIENT_ID: CLIENT.clientId,
    GOOGLE_CLIENT_SECRET: CLIENT.clientSecret,
    GOOGLE_ISSUER: h.emulator.url,
    GOOGLE_API_URL: h.emulator.url,
    BUSYSYNC_ENCRYPTION_KEY: h.config.encryptionKeys!.join(","),
  };
}

Deno.test("cli: rule disable and enable go through the rule use case: stored, and a sync queued that the server's worker runs", async () => {
  // The harness's scheduler plays the running server: its worker claims what the CLI queues.
  const h = await startHarness();
  try {
    const userId = await annWithRule(h);
    const [{ rule }] = await listRules(h.kv, userId);
    const env = cliEnv(h);
    assert.equal((await cli(["sync", "--user", ANN], env)).code, 0);
    assert.equal(await liveMirrors(h), 1);
    const queued = (out: string) => /sync job (\S+) queued/.exec(out)?.[1];

    const off = await cli(["rule", "disable", "--user", ANN, "--rule", rule.id], env);
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /“Personal into work” .* is off; sync job \S+ queued to remove/);
    assert.equal((await getRule(h.kv, userId, rule.id))?.rule.enabled, false);
    const jobs = await listJobsOfUser(h.kv, userId);
    const job = jobs.find((j) => j.id === queued(off.stdout));
    assert.equal(job?.reason, "rule_turned_off");
    assert.deepEqual(job?.ruleIds, [rule.id]);
    await until("the busy block to be removed", async () => await liveMirrors(h) === 0);

    const on = await cli(["rule", "enable", "--user", userId, "--rule", rule.id], env);
    assert.equal(on.code, 0, on.stderr);
    assert.equal((await getRule(h.kv, userId, rule.id))?.rule.enabled, true);
    assert.ok((await listJobsOfUser(h.kv, userId)).some((j) => j.id === queued(on.stdout)));
    await until("the busy block to be back", async () => await liveMirrors(h) === 1);

    const keep = await cli(
      ["rule", "disable", "--user", ANN, "--rule", rule.id, "--keep-mirrors"],
      env,
    );
    assert.equal(keep.code, 0, keep.stderr);
    assert.match(keep.stdout, /is off; its busy blocks were left in place/);
    assert.equal(queued(keep.stdout), undefined, "nothing to sync: the busy blocks stay");
    assert.equal(await liveMirrors(h), 1);

    const missing = await cli(["rule", "enable", "--user", ANN, "--rule", "nope"], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no rule nope/);
    assert.equal((await cli(["rule", "enable", "--user", ANN], env)).code, 2);
    assert.equal((await cli(["rule", "toggle", "--user", ANN, "--rule", rule.id], env)).code, 2);
  } finally {
    await h.close();
  }
});

Deno.test("cli: user delete removes the user's busy blocks, revokes their grants and leaves nothing of them in KV", async () => {
  const h = await startHarness();
  try {
    const userId = await annWithRule(h);
    const env = cliEnv(h);
    assert.equal((await cli(["sync", "--user", ANN], env)).code, 0);
    assert.equal(await liveMirrors(h), 1);
    const tokens = [];
    for await (const e of h.kv.list({ prefix: keys.connections(userId) })) {
      tokens.push((await storedTokens(h, userId, String(e.key[2]))).refresh);
    }

    const deleted = await cli(["user", "delete", "--user", ANN], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`${ANN} \\(${userId}\\) and all their data deleted`));
    assert.equal(await liveMirrors(h), 0);
    for (const token of tokens) assert.equal(await refreshWorks(h, token), false);
    assert.equal(await getUser(h.kv, userId), null);
    assert.ok(!(await dumpKv(h.kvPath)).includes(userId), "no key or value mentions the user");

    const again = await cli(["user", "delete", "--user", ANN], env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no user with id or email/);
  } finally {
    await h.close();
  }
});
