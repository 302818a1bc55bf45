import { Hono } from "hono";
import { pingKv } from "../lib/db/kv.ts";

/** `GET /healthz`: the process answers (liveness). `GET /readyz`: the KV store answers too. */
export function healthRoutes(kv: Deno.Kv): Hono {
  return new Hono()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
      const kvOk = await pingKv(kv);
      return c.json({ status: kvOk ? "ok" : "unavailable", kv: kvOk }, kvOk ? 200 : 503);
    });
}
