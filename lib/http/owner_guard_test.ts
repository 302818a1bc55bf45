import assert from "node:assert/strict";
import { Hono } from "hono";
import { pinOwner } from "../db/owners.ts";
import { upsertUserBySub, type User } from "../db/users.ts";
import type { AuthVariables } from "./auth_middleware.ts";
import { handleError } from "./errors.ts";
import { requireOwner } from "./owner_guard.ts";

const ISSUER = "https://issuer.example";
const NOW = new Date("2030-01-06T09:00:00Z");

/** An app whose requests are signed in as `user` (or nobody), behind the guard. */
function appFor(kv: Deno.Kv, adminEmails: string[], user: User | undefined) {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use(async (c, next) => {
    if (user) {
      c.set("user", { ...user, settings: {} });
    }
    await next();
  });
  app.use(requireOwner({ kv, adminEmails }));
  app.get("/api/admin/overview", (c) => c.text("overview"));
  app.get("/admin", (c) => c.text("page"));
  app.onError(handleError(() => {}));
  return app;
}

const userOf = async (kv: Deno.Kv, sub: string, email: string) =>
  (await upsertUserBySub(kv, { issuer: ISSUER, sub, email, name: email }, NOW)).user;

Deno.test("owner guard: the pinned account of a listed address passes; everyone else meets an unknown path's 404", async (t) => {
  const kv = await Deno.openKv(":memory:");
  try {
    const owner = await userOf(kv, "1", "owner@gmail.com");
    const other = await userOf(kv, "2", "other@gmail.com");
    await pinOwner(kv, { address: "owner@gmail.com", issuer: ISSUER, sub: "1", now: NOW });
    const list = ["owner@gmail.com", "other@gmail.com"];
    const get = (app: Hono<{ Variables: AuthVariables }>, path: string) =>
      app.request(`http://busysync.test${path}`);

    await t.step("the owner", async () => {
      assert.equal(
        await (await get(appFor(kv, list, owner), "/api/admin/overview")).text(),
        "overview",
      );
    });
    await t.step("nobody signed in, and a listed address nobody proved (no pin)", async () => {
      for (const user of [undefined, other]) {
        const res = await get(appFor(kv, list, user), "/api/admin/overview");
        assert.equal(res.status, 404);
        assert.deepEqual(await res.json(), {
          error: { code: "not_found", message: "No such route." },
        });
        const page = await get(appFor(kv, list, user), "/admin");
        assert.equal((await page.json()).error.message, "No such page.");
      }
    });
    await t.step("the owner once the address left BUSYSYNC_ADMIN_EMAILS", async () => {
      const res = await get(appFor(kv, ["other@gmail.com"], owner), "/api/admin/overview");
      assert.equal(res.status, 404);
    });
    await t.step("another account carrying the pinned address", async () => {
      const second = await userOf(kv, "3", "owner@gmail.com");
      const pinned = await pinOwner(kv, {
        address: "owner@gmail.com",
        issuer: ISSUER,
        sub: "3",
        now: NOW,
      });
      assert.equal(pinned.owner, false);
      assert.equal(pinned.pin.sub, "1");
      const res = await get(appFor(kv, list, second), "/api/admin/overview");
      assert.equal(res.status, 404);
    });
  } finally {
    kv.close();
  }
});
