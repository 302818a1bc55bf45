import assert from "node:assert/strict";
import { Hono } from "hono";
import { handleError } from "./errors.ts";
import { jsonBodiesOnly, sameOriginGuard } from "./csrf.ts";

const SITE = "https://sync.example.com";

function app() {
  const a = new Hono();
  a.use(sameOriginGuard({ publicUrl: SITE }));
  a.use("/api/*", jsonBodiesOnly({ formRoutes: ["POST /api/things/:id/form"] }));
  a.all("*", (c) => c.text("ran"));
  a.onError(handleError(() => {}));
  return a;
}

async function status(req: Request): Promise<number> {
  return (await app().request(req)).status;
}

Deno.test("csrf: unsafe requests need our Origin; safe methods, Bearer and webhooks do not", async () => {
  const post = (headers: Record<string, string>, path = "/api/x") =>
    new Request(`${SITE}${path}`, { method: "POST", headers });
  assert.equal(await status(post({ origin: SITE })), 200);
  assert.equal(await status(post({ origin: "https://evil.example" })), 403);
  assert.equal(await status(post({ origin: "null" })), 403);
  assert.equal(await status(post({})), 403, "no Origin, no Referer fallback");
  assert.equal(await status(post({ referer: `${SITE}/page` })), 403);
  assert.equal(await status(post({ origin: "https://sync.example.com.evil.example" })), 403);
  assert.equal(await status(post({ authorization: "Bearer x" })), 200);
  assert.equal(await status(post({}, "/api/webhooks/google")), 200);
  assert.equal(await status(new Request(`${SITE}/api/x`)), 200);
  const del = new Request(`${SITE}/api/x`, { method: "DELETE", headers: { origin: SITE } });
  assert.equal(await status(del), 200);
});

Deno.test("csrf: API bodies must be JSON, except on routes a plain form posts to", async () => {
  const send = (path: string, type: string, body = "a=1") =>
    new Request(`${SITE}${path}`, {
      method: "POST",
      headers: { origin: SITE, "content-type": type },
      body,
    });
  assert.equal(await status(send("/api/x", "application/json", "{}")), 200);
  assert.equal(await status(send("/api/x", "application/json; charset=utf-8", "{}")), 200);
  assert.equal(await status(send("/api/x", "application/x-www-form-urlencoded")), 415);
  assert.equal(await status(send("/api/x", "text/plain", "{}")), 415);
  assert.equal(await status(send("/api/x", "multipart/form-data; boundary=x")), 415);
  assert.equal(await status(send("/api/things/7/form", "application/x-www-form-urlencoded")), 200);
  assert.equal(await status(send("/api/things/7/form", "text/plain")), 415);
  const empty = new Request(`${SITE}/api/x`, { method: "POST", headers: { origin: SITE } });
  assert.equal(await status(empty), 200, "no body, nothing to check");
  // How Deno.serve hands over a browser's body-less DELETE: an empty stream and no headers.
  const bare = new Request(`${SITE}/api/x`, {
    method: "DELETE",
    headers: { origin: SITE },
    body: new ReadableStream({ start: (c) => c.close() }),
  });
  assert.equal(await status(bare), 200, "an empty body without a type is no body");
});
