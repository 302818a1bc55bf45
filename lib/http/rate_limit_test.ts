import assert from "node:assert/strict";
import { Hono } from "hono";
import { handleError } from "./errors.ts";
import { clientAddress, rateLimit } from "./rate_limit.ts";

function envFor(hostname: string) {
  return { remoteAddr: { hostname, port: 5000, transport: "tcp" } };
}

Deno.test("rate limit: the 11th start from one address in a window gets 429 with Retry-After", async () => {
  const kv = await Deno.openKv(":memory:");
  let t = Date.parse("2030-01-01T10:01:00Z");
  try {
    const app = new Hono();
    app.use(rateLimit({ kv, bucket: "oauthStart", now: () => new Date(t), trustProxy: false }));
    app.get("/", (c) => c.text("ok"));
    app.onError(handleError(() => {}));
    for (let i = 0; i < 10; i++) {
      assert.equal((await app.request("/", {}, envFor("203.0.113.9"))).status, 200);
    }
    const refused = await app.request("/", {}, envFor("203.0.113.9"));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "240");
    assert.equal((await refused.json()).error.code, "rate_limited");
    assert.equal((await app.request("/", {}, envFor("203.0.113.10"))).status, 200, "other address");
    t += 240_000;
    assert.equal((await app.request("/", {}, envFor("203.0.113.9"))).status, 200, "next window");
  } finally {
    kv.close();
  }
});

Deno.test("rate limit: X-Forwarded-For counts only when the proxy is trusted, and only its entry", async () => {
  const seen: string[] = [];
  for (const trust of [false, true]) {
    const app = new Hono();
    app.get("/", (c) => c.text(clientAddress(c, trust)));
    const res = await app.request("/", {
      headers: { "x-forwarded-for": "198.51.100.1, 192.0.2.7" },
    }, envFor("10.0.0.2"));
    seen.push(await res.text());
  }
  assert.deepEqual(seen, ["10.0.0.2", "192.0.2.7"]);
});

Deno.test("rate limit: IPv6 clients are counted per /64", async () => {
  const app = new Hono();
  app.get("/", (c) => c.text(clientAddress(c, false)));
  const of = async (host: string) => await (await app.request("/", {}, envFor(host))).text();
  assert.equal(await of("2001:db8:0:1::5"), "2001:db8:0:1::/64");
  assert.equal(await of("2001:db8:0:1:aaaa:bbbb:cccc:dddd"), "2001:db8:0:1::/64");
  assert.equal(await of("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(await of("::1"), "0:0:0:0::/64");
});

Deno.test("rate limit: IPv4 clients behind a dual-stack listener each keep their own bucket", async () => {
  const app = new Hono();
  app.get("/", (c) => c.text(clientAddress(c, false)));
  const of = async (host: string) => await (await app.request("/", {}, envFor(host))).text();
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2).
  assert.equal(await of("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(await of("::ffff:198.51.100.7"), "198.51.100.7");
  assert.equal(await of("::FFFF:c633:6407"), "198.51.100.7", "the hex spelling");
  assert.equal(await of("[::ffff:192.0.2.1]"), "192.0.2.1");
});
