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

/**
 * What JSON.stringify with a key-sorting replacer writes, character for character (stored
 * hashes depend on it), built directly: the replacer's copy of every object was most of a full
 * reconcile's hashing time. Mirrors hold only strings, numbers, booleans, arrays and objects.
 */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return "[" + value.map((v) => v === undefined ? "null" : canonicalJson(v)).join(",") + "]";
  }
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const fields: string[] = [];
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) {
        fields.push(JSON.stringify(key) + ":" + canonicalJson(record[key]));
      }
    }
    return "{" + fields.join(",") + "}";
  }
  return JSON.stringify(value);
}
