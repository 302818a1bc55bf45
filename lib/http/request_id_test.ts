import assert from "node:assert/strict";
import { Hono } from "hono";
import { createLogger } from "../log.ts";
import { requestId } from "./request_id.ts";

function appLogging() {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.use(requestId({ log }));
  app.get("/", async (c) => {
    // A line deep in the handling, after an await, by code that was handed no id.
    await new Promise((resolve) => setTimeout(resolve, 0));
    log.info("handling");
    return c.text(c.var.requestId);
  });
  app.get("/fails", () => {
    throw new Error("boom");
  });
  app.onError((err, c) => {
    log.error("request failed", { err });
    return c.text("failed", 500);
  });
  return { app, log, lines };
}

const entries = (lines: string[]) => lines.map((line) => JSON.parse(line));

Deno.test("request id: every line written while a request is handled carries its id", async (t) => {
  const { app, log, lines } = appLogging();
  await t.step("a new id, echoed to the client and on the line", async () => {
    const res = await app.request("/");
    const id = res.headers.get("x-request-id");
    assert.ok(id);
    assert.equal(await res.text(), id);
    assert.equal(entries(lines).at(-1).requestId, id);
  });
  await t.step("an incoming id that looks like one is kept", async () => {
    await app.request("/", { headers: { "x-request-id": "lb-1234.abc" } });
    assert.equal(entries(lines).at(-1).requestId, "lb-1234.abc");
  });
  await t.step("one that does not is replaced", async () => {
    const res = await app.request("/", { headers: { "x-request-id": 'a b"c' } });
    assert.notEqual(res.headers.get("x-request-id"), 'a b"c');
    assert.equal(entries(lines).at(-1).requestId, res.headers.get("x-request-id"));
  });
  await t.step("the error handler's line is the request's too", async () => {
    const res = await app.request("/fails");
    assert.equal(res.status, 500);
    assert.equal(entries(lines).at(-1).requestId, res.headers.get("x-request-id"));
  });
  await t.step("a line outside every request carries none", () => {
    log.info("start-up");
    assert.equal(entries(lines).at(-1).requestId, undefined);
  });
});
