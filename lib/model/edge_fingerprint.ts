/**
 * An edge's fingerprint: equal exactly when two edges would mirror the same events the same way
 * (same rule, direction, source, target and mirror settings). A change of fingerprint means the
 * edge's ledger no longer matches what the edge wants, so its source must be listed in full
 * again; a rule's name or status does not take part.
 */
import { createHash } from "node:crypto";
import type { Edge } from "./events.ts";

/** Part of the hashed input: changing what counts must be a deliberate, visible bump. */
const FINGERPRINT_TAG = "edge/1";

/** SHA-256 (hex, shortened to 32 characters) of the edge's canonical JSON. */
export function edgeFingerprint(edge: Edge): string {
  const input = JSON.stringify(
    [FINGERPRINT_TAG, edge],
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
        : v,
  );
  return createHash("sha256").update(input).digest("hex").slice(0, 32);
}
