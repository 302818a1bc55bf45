/**
 * The admin API's OAuth controls under /__emulator/oauth: rotate the signing key, address a
 * client's id_tokens to several audiences, leave optional fields out of discovery. Each makes
 * the emulator behave as a standard-conforming provider may, so busysync is tested against it.
 */
import { Hono } from "hono";
import { z } from "zod";
import { body } from "./admin_body.ts";
import { type OAuthServer, OPTIONAL_DISCOVERY_FIELDS } from "./oauth.ts";

const AudienceBody = z.object({
  clientId: z.string().min(1),
  extraAudiences: z.array(z.string().min(1)).default([]),
  /** Omitted: the client, as Google sets it; null: no azp claim. */
  azp: z.string().min(1).nullable().optional(),
});
const DiscoveryBody = z.object({ omit: z.array(z.enum(OPTIONAL_DISCOVERY_FIELDS)) });

/** The routes, relative to /__emulator/oauth. */
export function oauthAdminRoutes(oauth: OAuthServer): Hono {
  const app = new Hono();
  app.get("/keys", async (c) => c.json(await oauth.keyStatus()));
  app.post("/keys/rotate", async (c) => c.json({ kid: await oauth.rotateSigningKey() }));
  app.post("/id-token-audience", async (c) => {
    const { clientId, ...audience } = await body(c, AudienceBody);
    oauth.setIdTokenAudience(clientId, audience);
    return c.json({ ok: true });
  });
  app.post("/discovery", async (c) => {
    oauth.omitDiscoveryFields((await body(c, DiscoveryBody)).omit);
    return c.json({ ok: true });
  });
  return app;
}
