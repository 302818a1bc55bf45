/**
 * BUSYSYNC_HTTP_WORKERS: extra threads serve HTTP on the app's port. Real server (demo mode,
 * temp KV file), real sockets: a fresh connection per request lets the kernel hand each to
 * either thread.
 */
import assert from "node:assert/strict";
import { startDemoServer } from "./support/demo_server.ts";
import { HttpSession } from "./support/http_session.ts";

const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";

/**
 * Fetches `url` `times` times at once, each on a new connection; prints when each answered and
 * which thread did (Server-Timing).
 */
const PROBE = `
const [url, times] = Deno.args;
console.log("ready");
for await (const _ of Deno.stdin.readable) break;
const answers = await Promise.all(Array.from({ length: Number(times) }, async () => {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const res = await fetch(url, { client });
  await res.body?.cancel();
  client.close();
  const thread = res.headers.get("server-timing")?.match(/desc="([^"]+)"/)?.[1];
  return { status: res.status, at: Date.now(), thread };
}));
console.log(JSON.stringify(answers));
`;

Deno.test("threads: another thread answers while the main thread is busy", async () => {
  const server = await startDemoServer({ BUSYSYNC_HTTP_WORKERS: "1" });
  try {
    const probe = new Deno.Command(Deno.execPath(), {
      args: ["eval", PROBE, `${server.url}/healthz`, "16"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const out = probe.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await out.read()).value!, /ready/);
    const go = probe.stdin.getWriter();
    await go.write(new TextEncoder().encode("go\n"));
    // This test runs on the server's main thread: blocking it leaves only the other thread.
    // Long enough for the probe to be scheduled even when other test files load the CPU.
    const busyUntil = Date.now() + 3_000;
    while (Date.now() < busyUntil) { /* busy, as a long synchronous computation would be */ }
    await go.close();
    let text = "";
    for (let chunk = await out.read(); !chunk.done; chunk = await out.read()) text += chunk.value;
    await probe.status;
    const answers: { status: number; at: number; thread?: string }[] = JSON.parse(text);
    assert.equal(answers.length, 16);
    assert.ok(answers.every((a) => a.status === 200));
    // With 16 connections spread by the kernel, all on one socket would be a 1 in 2^16 chance.
    const early = answers.filter((a) => a.at < busyUntil);
    assert.ok(early.length > 0, "no request was answered while the main thread was busy");
    assert.deepEqual(new Set(early.map((a) => a.thread)), new Set(["http-1"]), text);
  } finally {
    await server.stop();
  }
});

Deno.test("threads: sign-in, connect, rules and syncs work whichever thread each request meets", async () => {
  const server = await startDemoServer({ BUSYSYNC_HTTP_WORKERS: "1" });
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const servedBy: string[] = [];
    const session = new HttpSession(server.url, client, (res) => {
      servedBy.push(res.headers.get("server-timing")?.match(/desc="([^"]+)"/)?.[1] ?? "unnamed");
    });
    // The OAuth state, session cookies and rule cross threads: every request is a new socket.
    await session.setUp([PERSONAL, WORK]);
    for (let i = 0; i < 3; i++) {
      const { run } = await session.json("/api/sync?wait=true", "POST", {});
      assert.equal(run?.outcome, "ok");
    }
    // Every thread sees what the others wrote.
    for (let i = 0; i < 10; i++) {
      const status = await session.json("/api/status");
      assert.equal(status.connections.length, 2);
      assert.equal(status.rules.length, 1);
    }
    // Only a flow both threads served shows that state crosses them: with some twenty fresh
    // connections spread by the kernel, all on one thread is about a 1 in 2^20 chance.
    const threads = new Set(servedBy);
    assert.deepEqual([...threads].sort(), ["http-1", "main"], servedBy.join(" "));
  } finally {
    client.close();
    await server.stop();
  }
});
