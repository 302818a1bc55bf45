import assert from "node:assert/strict";
import { Hono } from "hono";
import { canonicalHost } from "./canonical_host.ts";

const PAGE = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

function app() {
  const a = new Hono();
  a.use(canonicalHost({ publicUrl: "http://localhost:8000" }));
  a.all("*", (c) => c.text("served"));
  return a;
}

Deno.test("canonical host: a page opened at another address of the server goes to PUBLIC_URL", async (t) => {
  const a = app();
  await t.step("a page at 127.0.0.1 is redirected with its path and query", async () => {
    const res = await a.request("http://127.0.0.1:8000/rules/new?x=1", { headers: PAGE });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "http://localhost:8000/rules/new?x=1");
  });
  await t.step("starting a sign-in elsewhere is redirected before it starts", async () => {
    const res = await a.request("http://127.0.0.1:8000/api/auth/login?next=%2F", { headers: PAGE });
    assert.equal(res.headers.get("location"), "http://localhost:8000/api/auth/login?next=%2F");
  });
  await t.step("a path that looks like another host stays a path", async () => {
    const res = await a.request("http://127.0.0.1:8000//evil.example/x", { headers: PAGE });
    assert.equal(res.headers.get("location"), "http://localhost:8000//evil.example/x");
  });
  await t.step(
    "behind a proxy, only a forwarded host that is not PUBLIC_URL's is redirected",
    async () => {
      // A proxy passing its upstream name as Host must not loop the browser back to itself.
      const upstream = await a.request("http://busysync:8000/", {
        headers: { ...PAGE, "x-forwarded-for": "198.51.100.7" },
      });
      assert.equal(await upstream.text(), "served");
      const named = await a.request("http://busysync:8000/", {
        headers: {
          ...PAGE,
          "x-forwarded-for": "198.51.100.7",
          "x-forwarded-host": "localhost:8000",
        },
      });
      assert.equal(await named.text(), "served");
      const elsewhere = await a.request("http://busysync:8000/rules", {
        headers: { ...PAGE, "x-forwarded-host": "10.0.0.5:8000" },
      });
      assert.equal(elsewhere.headers.get("location"), "http://localhost:8000/rules");
    },
  );
  await t.step("the public host itself is served", async () => {
    const res = await a.request("http://localhost:8000/", { headers: PAGE });
    assert.equal(await res.text(), "served");
  });
  await t.step(
    "health checks, webhooks, metrics, Bearer and non-page requests are served",
    async () => {
      for (const path of ["/healthz", "/readyz", "/metrics", "/api/webhooks/google"]) {
        const res = await a.request(`http://127.0.0.1:8000${path}`, { headers: PAGE });
        assert.equal(res.status, 200, path);
      }
      const bearer = await a.request("http://127.0.0.1:8000/api/status", {
        headers: { ...PAGE, authorization: "Bearer x" },
      });
      assert.equal(bearer.status, 200);
      const json = await a.request("http://127.0.0.1:8000/api/status");
      assert.equal(json.status, 200);
      const post = await a.request("http://127.0.0.1:8000/api/auth/logout", {
        method: "POST",
        headers: PAGE,
      });
      assert.equal(post.status, 200);
    },
  );
});
