/**
 * A feed is fetched through the outbound-safety fetch with the instance's policy: each check
 * of lib/net/ holds for feeds too (a redirect to a private address, endless redirects, a body
 * over the cap, a host that does not answer in time, plain http where it is not allowed), every
 * error names the host only, and both kinds of validators make a conditional request.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseCidr } from "../../lib/net/address_ranges.ts";
import { OutboundRefusedError } from "../../lib/net/outbound_errors.ts";
import { createOutboundFetch, type OutboundPolicy } from "../../lib/net/outbound_fetch.ts";
import { fetchFeed } from "../../lib/ics/feed_fetch.ts";
import { FeedHttpError, FeedNotCalendarError } from "../../lib/ics/feed_errors.ts";
import { feed, vevent } from "./support.ts";

const SECRET = "f3e9a0c2b7d14e5a";
const POLICY: OutboundPolicy = {
  allow: [parseCidr("127.0.0.1/32")!],
  allowHttp: false,
  maxBytes: 64 * 1024,
  timeoutMs: 300,
  maxRedirects: 5,
};
const LAST_MODIFIED = "Wed, 02 Dec 2026 10:00:00 GMT";

/** A publisher with a route per misbehaviour, every path under the secret. */
function startPublisher() {
  const body = feed([vevent("a@x", "A", new Date("2027-01-04T09:00:00Z"))]);
  const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 12)}"`;
  const stalled: (() => void)[] = [];
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req): Response | Promise<Response> => {
      const path = new URL(req.url).pathname.replace(`/${SECRET}`, "");
      const base: string = `http://127.0.0.1:${server.addr.port}/${SECRET}`;
      switch (path) {
        case "/feed.ics":
          if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304 });
          return new Response(body, { headers: { etag } });
        case "/dated.ics":
          if (req.headers.get("if-modified-since") === LAST_MODIFIED) {
            return new Response(null, { status: 304 });
          }
          return new Response(body, { headers: { "last-modified": LAST_MODIFIED } });
        case "/to-private.ics":
          return Response.redirect("http://10.20.30.40/calendar.ics", 302);
        case "/loop.ics":
          return Response.redirect(`${base}/loop.ics`, 302);
        case "/huge.ics":
          return new Response("X".repeat(200 * 1024));
        case "/slow.ics":
          return new Promise<Response>((resolve) =>
            stalled.push(() => resolve(new Response(body)))
          );
        case "/empty.ics":
          return new Response("");
        default:
          return new Response("gone", { status: 410 });
      }
    },
  );
  return {
    url: (name: string) => `http://127.0.0.1:${server.addr.port}/${SECRET}/${name}`,
    async close() {
      for (const release of stalled) release();
      await server.shutdown();
    },
  };
}

/** The error `promise` rejects with; fails when it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error);
    assert.doesNotMatch(err.message, new RegExp(SECRET), "errors name the host only");
    return err;
  }
  throw new Error("expected a failure");
}

Deno.test("ics feed fetch: the outbound-safety checks hold for feeds, and errors name the host only", async (t) => {
  const publisher = startPublisher();
  const get = createOutboundFetch(POLICY);
  try {
    await t.step("a redirect to a private address is refused", async () => {
      const err = await failure(fetchFeed(get, publisher.url("to-private.ics")));
      assert.ok(err instanceof OutboundRefusedError);
      assert.equal(err.reason, "private_address");
    });

    await t.step("more than five redirects are refused", async () => {
      const err = await failure(fetchFeed(get, publisher.url("loop.ics")));
      assert.ok(err instanceof OutboundRefusedError);
      assert.equal(err.reason, "too_many_redirects");
    });

    await t.step("a body over the cap is cut off as an error", async () => {
      const err = await failure(fetchFeed(get, publisher.url("huge.ics")));
      assert.ok(err instanceof OutboundRefusedError);
      assert.equal(err.reason, "too_large");
    });

    await t.step("a host that does not answer in time is a time-out", async () => {
      const err = await failure(fetchFeed(get, publisher.url("slow.ics")));
      assert.ok(err instanceof OutboundRefusedError);
      assert.equal(err.reason, "timeout");
    });

    await t.step("plain http is refused where the range is not allowed", async () => {
      const strict = createOutboundFetch({ ...POLICY, allow: [] });
      const err = await failure(fetchFeed(strict, publisher.url("feed.ics")));
      assert.ok(err instanceof OutboundRefusedError);
    });

    await t.step(
      "an empty answer and an HTTP error are failures, never an empty feed",
      async () => {
        assert.ok(
          await failure(fetchFeed(get, publisher.url("empty.ics"))) instanceof FeedNotCalendarError,
        );
        const gone = await failure(fetchFeed(get, publisher.url("missing.ics")));
        assert.ok(gone instanceof FeedHttpError);
        assert.equal(gone.status, 410);
      },
    );

    await t.step("an ETag and a Last-Modified each make the next fetch conditional", async () => {
      const first = await fetchFeed(get, publisher.url("feed.ics"));
      assert.equal(first.kind, "fetched");
      if (first.kind !== "fetched") return;
      assert.ok(first.validators.etag);
      assert.equal(
        (await fetchFeed(get, publisher.url("feed.ics"), first.validators)).kind,
        "not_modified",
      );

      const dated = await fetchFeed(get, publisher.url("dated.ics"));
      assert.equal(dated.kind, "fetched");
      if (dated.kind !== "fetched") return;
      assert.deepEqual(dated.validators, { lastModified: LAST_MODIFIED });
      assert.equal(
        (await fetchFeed(get, publisher.url("dated.ics"), dated.validators)).kind,
        "not_modified",
      );
    });
  } finally {
    await publisher.close();
  }
});
