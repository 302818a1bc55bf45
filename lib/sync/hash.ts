/**
 * The fingerprint of a mirror body: equal bodies hash equal, so re-planning an unchanged event
 * (or one whose change the rule does not copy, such as a new title under `busy`) costs no write.
 */
import { createHash } from "node:crypto";
import type { Mirror } from "../model/events.ts";

/** Part of the hashed input: changing the canonical form must be a deliberate, visible bump. */
const HASH_TAG = "mirror/1";

/**
 * SHA-256 (hex) of the mirror's canonical JSON: keys sorted at every level, undefined fields
 * left out, so key order and absent-vs-undefined never change the hash.
 */
export function hashMirror(mirror: Mirror): string {
  return createHash("sha256").update(canonicalJson([HASH_TAG, mirror])).digest("hex");
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
        : v,
  );
}
