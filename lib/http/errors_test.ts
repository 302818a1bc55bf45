import assert from "node:assert/strict";
import { Hono } from "hono";
import { type ErrorPage, handleError, handleNotFound } from "./errors.ts";

Deno.test("errors: outside /api/ a failure is the page's, with the status and no detail of the cause", async () => {
  const logged: string[] = [];
  const page: ErrorPage = (c, status, message) => c.html(`<p>${status}: ${message}</p>`, status);
  const app = new Hono();
  const boom = () => {
    throw new Error("secret detail");
  };
  app.get("/api/boom", boom);
  app.get("/boom", boom);
  app.notFound(handleNotFound(page));
  app.onError(handleError((msg) => logged.push(msg), page));

  const api = await app.request("/api/boom");
  assert.equal(api.status, 500);
  assert.equal((await api.json()).error.code, "internal");
  const html = await app.request("/boom");
  assert.equal(html.status, 500);
  assert.equal(await html.text(), "<p>500: Something went wrong on our side.</p>");
  assert.equal(logged.length, 2, "both logged");
  assert.equal(await (await app.request("/nope")).text(), "<p>404: No such page.</p>");
});
