import assert from "node:assert/strict";
import { createLogger } from "./log.ts";

function capture() {
  const lines: string[] = [];
  return { log: createLogger("debug", (line) => lines.push(line)), lines };
}

Deno.test("log: an error anywhere in the fields keeps only its name, message, stack and cause", () => {
  const { log, lines } = capture();
  // Shaped like a Google client error: its request (with the bearer token) rides on the error.
  const google = Object.assign(new Error("Request failed with status code 500"), {
    config: { headers: { Authorization: "Bearer ya29.secret-access-token" } },
    response: { data: { access_token: "ya29.other" } },
  });
  const outer = new Error("sync failed", { cause: google });
  log.error("run failed", { err: outer, context: { attempt: 2, last: google } });
  const text = lines.join("\n");
  assert.ok(!text.includes("ya29"), text);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.err.message, "sync failed");
  assert.equal(entry.err.cause.message, "Request failed with status code 500");
  assert.equal(entry.context.attempt, 2);
  assert.equal(entry.context.last.name, "Error");
});

Deno.test("log: fields named like secrets are redacted at any depth", () => {
  const { log, lines } = capture();
  log.info("oauth", {
    refresh_token: "1//refresh",
    nested: { headers: { authorization: "Bearer abc", cookie: "busysync_rt=xyz" } },
    clientSecret: "s3cret",
    items: [{ accessToken: "at" }],
    tokenHash: "kept: a digest, not a token",
  });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.refresh_token, "[redacted]");
  assert.equal(entry.nested.headers.authorization, "[redacted]");
  assert.equal(entry.nested.headers.cookie, "[redacted]");
  assert.equal(entry.clientSecret, "[redacted]");
  assert.equal(entry.items[0].accessToken, "[redacted]");
  assert.equal(entry.tokenHash, "kept: a digest, not a token");
});

Deno.test("log: a cycle or a deep structure cannot break a log line", () => {
  const { log, lines } = capture();
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 50; i++) deep = (deep.next = {}) as Record<string, unknown>;
  log.warn("odd", { loop, root });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.loop.self, "[cycle]");
  assert.ok(JSON.stringify(entry.root).includes("[too deep]"));
});
