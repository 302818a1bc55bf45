/**
 * The issuer's OpenID Connect discovery document: where busysync finds Google's authorization,
 * token, revocation and key endpoints (GOOGLE_ISSUER is the only OAuth URL configured).
 */
import { z } from "zod";

const DiscoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  // Optional in OpenID Connect Discovery 1.0 §3 (Google has one); without it, disconnecting
  // cannot revoke and says so.
  revocation_endpoint: z.url().optional(),
  // RFC 9207 §3: responses then carry `iss`, and one without it is refused.
  authorization_response_iss_parameter_supported: z.boolean().optional(),
});
export type Discovery = z.infer<typeof DiscoverySchema>;

/**
 * Returns a loader that fetches `${issuer}/.well-known/openid-configuration` once and then
 * serves it from memory. A failed fetch is not cached, so the next caller retries. Throws when
 * the document names another issuer (OpenID Connect Discovery 1.0 §4.3).
 */
export function createDiscoveryLoader(issuer: string): () => Promise<Discovery> {
  let cached: Promise<Discovery> | undefined;
  return () => {
    cached ??= fetchDiscovery(issuer).catch((err) => {
      cached = undefined;
      throw err;
    });
    return cached;
  };
}

async function fetchDiscovery(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`, {
    headers: { accept: "application/json" },
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`OpenID discovery at ${issuer} answered HTTP ${res.status}`);
  }
  const doc = DiscoverySchema.parse(await res.json());
  if (doc.issuer !== issuer) {
    throw new Error(`OpenID discovery at ${issuer} names another issuer: ${doc.issuer}`);
  }
  return doc;
}
