import assert from "node:assert/strict";
import { Hono } from "hono";
import { requestId } from "../http/request_id.ts";
import { requestSpan } from "./request_span.ts";
import type { SpanAttributes, Tracing } from "./tracing.ts";

interface Recorded {
  name: string;
  attributes: SpanAttributes;
  failed?: string;
}

/** A Tracing that keeps what the middleware told each request span. */
function recordingTracing(): Tracing & { spans: Recorded[] } {
  const spans: Recorded[] = [];
  return {
    spans,
    requestSpan(name, work) {
      const span: Recorded = { name, attributes: {} };
      spans.push(span);
      return work({
        setAttributes: (a) => Object.assign(span.attributes, a),
        rename: (n) => (span.name = n),
        fail: (e) => (span.failed = e instanceof Error ? e.name : "Error"),
      });
    },
    runSpan: () => Promise.reject(new Error("not a request")),
    callSpan: () => Promise.reject(new Error("not a request")),
  };
}

Deno.test("request span: named by method and route template, with status and request id, never the path, query or headers", async (t) => {
  const tracing = recordingTracing();
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.use(requestId());
  app.use(requestSpan({ tracing }));
  app.use("/api/*", (_c, next) => next());
  const rules = new Hono();
  rules.get("/:id", (c) => c.json({ id: c.req.param("id") }));
  rules.get("/:id/boom", () => {
    throw new RangeError("rule alex@example.com is broken");
  });
  app.route("/api/rules", rules);
  app.onError((_e, c) => c.json({ error: { code: "internal", message: "" } }, 500));

  await t.step("a matched route", async () => {
    const res = await app.request("/api/rules/alex%40example.com?code=4%2Fsecret", {
      headers: { "x-request-id": "req-1", authorization: "Bearer ya29.secret" },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(tracing.spans.at(-1), {
      name: "GET /api/rules/:id",
      attributes: {
        "http.request.method": "GET",
        "http.route": "/api/rules/:id",
        "http.response.status_code": 200,
        "busysync.request_id": "req-1",
      },
    });
  });

  await t.step(
    "a handler that throws: failed with the error's class, not its message",
    async () => {
      const res = await app.request("/api/rules/r1/boom");
      assert.equal(res.status, 500);
      const span = tracing.spans.at(-1)!;
      assert.equal(span.name, "GET /api/rules/:id/boom");
      assert.equal(span.attributes["http.response.status_code"], 500);
      assert.equal(span.failed, "RangeError");
      assert.equal(span.attributes["busysync.request_id"], res.headers.get("x-request-id"));
    },
  );

  await t.step("no route: named after the wildcard that saw it last", async () => {
    const res = await app.request("/api/nothing/here?token=1");
    assert.equal(res.status, 404);
    const span = tracing.spans.at(-1)!;
    assert.equal(span.name, "GET /api/*");
    assert.doesNotMatch(JSON.stringify(span), /nothing|token/);
  });
});
