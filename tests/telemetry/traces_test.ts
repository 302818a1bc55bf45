/**
 * Traces as an operator gets them: busysync started the way the README says (OTEL_DENO=true,
 * the sampler and propagators it insists on, OTLP over HTTP in JSON) in a process of its own,
 * against a small OTLP receiver. A sign-in, two connections through OAuth callbacks with a
 * `code=` in their URLs, a rule and a sync leave request spans, a sync.run span and the Google
 * calls under it, and nothing in the export names an OAuth code, a token, an address or a
 * calendar: Deno's own spans, which carry whole URLs, are not there at all.
 */
import assert from "node:assert/strict";
import { HttpSession } from "../support/http_session.ts";
import { type FlatSpan, startOtlpReceiver } from "../support/otlp_receiver.ts";
import { until } from "../support/poll.ts";
import { tempKvPath } from "../support/temp_kv.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const PERSONAL = "alex.personal@example.com";
const WORK = "alex@work.example.com";

/** busysync in demo mode in a child process; resolves once it says where it listens. */
async function startTracedServer(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  for (;;) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`busysync exited before listening: ${seen}`);
    seen += value;
    const url = seen.match(/busysync is running at (\S+)/)?.[1];
    if (url) {
      // Keep reading, so the child never blocks on a full pipe.
      const drained = (async () => {
        while (!(await lines.read()).done);
      })();
      return {
        url,
        async stop() {
          child.kill("SIGTERM");
          await child.status;
          await drained;
        },
      };
    }
  }
}

/** Goes through Google's consent at `authUrl` as `email`; returns the callback's code. */
async function consent(session: HttpSession, authUrl: string, email: string) {
  const auth = new URL(authUrl);
  auth.searchParams.set("login_hint", email);
  const google = await session.call(auth.href);
  await google.body?.cancel();
  const callback = google.headers.get("location")!;
  const code = new URL(callback).searchParams.get("code");
  assert.ok(code, `the callback carries a code: ${callback}`);
  const back = await session.call(callback);
  await back.body?.cancel();
  assert.ok(back.status === 302 || back.status === 303, `callback: ${back.status}`);
  return code;
}

Deno.test("traces: a sync's spans reach an OTLP receiver, and no span carries an OAuth code, a token, an address or a calendar id", async () => {
  const receiver = startOtlpReceiver();
  const kv = await tempKvPath();
  const server = await startTracedServer({
    PATH: Deno.env.get("PATH") ?? "",
    NO_COLOR: "1",
    PORT: "0",
    EMULATOR_PORT: "0",
    BUSYSYNC_KV: kv.path,
    BUSYSYNC_LOG_LEVEL: "warn",
    OTEL_DENO: "true",
    OTEL_TRACES_SAMPLER: "parentbased_always_off",
    OTEL_PROPAGATORS: "none",
    OTEL_SERVICE_NAME: "busysync",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    // Deno batches spans; export every 100 ms instead of every 5 s.
    OTEL_BSP_SCHEDULE_DELAY: "100",
  });
  const requestIds: string[] = [];
  const session = new HttpSession(server.url, undefined, (res) => {
    const id = res.headers.get("x-request-id");
    if (id) requestIds.push(id);
  });
  try {
    const login = await session.call(`${server.url}/api/auth/login`);
    await login.body?.cancel();
    const codes = [await consent(session, login.headers.get("location")!, PERSONAL)];
    for (const email of [PERSONAL, WORK]) {
      const { url } = await session.json("/api/user/calendars/connect", "POST", {});
      codes.push(await consent(session, url, email));
    }
    const { items } = await session.json("/api/user/calendars");
    const calendars = items as { connectionId: string; calendarId: string }[];
    const ref = (calendarId: string) => calendars.find((c) => c.calendarId === calendarId)!;
    const rule = await session.json("/api/rules", "POST", {
      name: "Mirror",
      source: ref(PERSONAL),
      target: ref(WORK),
    });
    // A caller asking for the request to be traced (a sampled traceparent) gets Deno's own
    // span, with its url.query, recorded only if a propagator reads the header.
    const forgedCode = "4/emu-forged-code";
    const forged = await fetch(
      `${server.url}/api/auth/callback?code=${encodeURIComponent(forgedCode)}&state=none`,
      { headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } },
    );
    await forged.body?.cancel();
    codes.push(forgedCode);
    const { run } = await session.json("/api/sync?wait=true", "POST", {});
    assert.equal(run.outcome, "ok");

    const runSpan = await until(
      "the sync.run span",
      () =>
        receiver.spans().find((s) =>
          s.name === "sync.run" && s.attributes["busysync.run_id"] === run.id
        ),
      10_000,
    );
    const calls = await until("the run's Google calls", () => {
      const under = receiver.spans().filter((s) => s.parentSpanId === runSpan.spanId);
      return under.some((s) => s.name === "google.events.list") && under;
    }, 10_000);
    // The request's span ends after its answer is sent, so it may come in a later export than
    // the run's.
    await until(
      "the sync request's span",
      () => receiver.spans().some((s) => s.name === "POST /api/sync"),
      10_000,
    );
    const spans = receiver.spans();

    // The run: its own trace, what it did, nothing of whom it ran for.
    assert.equal(runSpan.attributes["busysync.outcome"], "ok");
    assert.equal(runSpan.attributes["busysync.trigger"], run.trigger);
    const made = run.rules.reduce(
      (sum: number, r: { created: number; restored: number }) => sum + r.created + r.restored,
      0,
    );
    assert.equal(runSpan.attributes["busysync.writes.created"], made);
    // Saving the rule queued the first sync, which made the mirrors.
    const first = spans.find((s) =>
      s.name === "sync.run" && Number(s.attributes["busysync.writes.created"]) > 0
    );
    assert.ok(first, "a run that made mirrors");
    for (const call of calls) {
      assert.match(call.name, /^google\.[a-zA-Z]+\.[a-zA-Z]+$/);
      assert.equal(call.traceId, runSpan.traceId);
      assert.equal(call.attributes["busysync.method"], call.name.slice("google.".length));
      assert.equal(call.attributes["http.response.status_code"], 200);
      assert.equal(call.attributes["busysync.attempt"], 1);
    }

    // Requests: one span each, by route template, tied to the request id the response named.
    const named = (name: string) => spans.filter((s) => s.name === name);
    assert.equal(
      named("GET /api/auth/callback").length,
      4,
      "three OAuth callbacks and a forged one",
    );
    const sync = named("POST /api/sync");
    assert.equal(sync.length, 1);
    assert.equal(sync[0].attributes["http.response.status_code"], 200);
    assert.notEqual(sync[0].traceId, runSpan.traceId, "the run is a trace of its own");
    const requestSpans = spans.filter((s) => "http.route" in s.attributes);
    for (const span of requestSpans) {
      assert.equal(
        span.name,
        `${span.attributes["http.request.method"]} ${span.attributes["http.route"]}`,
      );
    }
    assert.ok(named(`POST /api/rules`).length === 1);
    assert.deepEqual(
      requestIds.filter((id) =>
        !requestSpans.some((s) => s.attributes["busysync.request_id"] === id)
      ),
      [],
      "every response's request id is on a request span",
    );

    // Only our spans: Deno's own (with url.full, url.query) are never exported.
    assert.deepEqual([...new Set(spans.map((s) => s.scope))], ["busysync"]);
    assert.ok(!spans.some((s) => s.traceId === "0af7651916cd43dd8448eb211c80319c"));
    const keys = new Set(spans.flatMap((s: FlatSpan) => s.pairs.map(([k]) => k)));
    for (const key of ["url.full", "url.query", "url.path", "http.url", "http.target"]) {
      assert.ok(!keys.has(key), `no span has ${key}`);
    }
    const secrets = new Set<string>([...codes, PERSONAL, WORK, rule.id]);
    for (const c of calendars) secrets.add(c.calendarId);
    const forms = [...secrets].flatMap((s) => [s, encodeURIComponent(s), s.replace("@", "%40")]);
    const exported = JSON.stringify(receiver.bodies.traces);
    for (const secret of forms) {
      assert.ok(!exported.includes(secret), `the export names ${secret}`);
    }
    // The emulator's tokens have Google's shapes: access "ya29.", refresh "1//", code "4/".
    assert.doesNotMatch(exported, /ya29\.|1\/\/|4\/emu-|4%2Femu-|@example\.com/);
  } finally {
    await server.stop();
    await receiver.stop();
    await kv.cleanup();
  }
});
