import assert from "node:assert/strict";
import { servedBy } from "./served_by.ts";

const INFO = {
  remoteAddr: { hostname: "127.0.0.1", port: 5000, transport: "tcp" },
  completed: Promise.resolve(),
} as const;

Deno.test("served by: every answer names its thread in Server-Timing, immutable headers too", async () => {
  const handler = servedBy(
    "http-1",
    (req) =>
      new URL(req.url).pathname === "/away"
        ? Response.redirect("http://localhost/here", 303)
        : new Response("ok", { headers: { "server-timing": "db;dur=1" } }),
  );
  const ok = await handler(new Request("http://localhost/"), INFO);
  assert.match(ok.headers.get("server-timing")!, /^db;dur=1, app;dur=\d+\.\d;desc="http-1"$/);
  assert.equal(await ok.text(), "ok");
  const away = await handler(new Request("http://localhost/away"), INFO);
  assert.equal(away.status, 303);
  assert.equal(away.headers.get("location"), "http://localhost/here");
  assert.match(away.headers.get("server-timing")!, /desc="http-1"/);
});
