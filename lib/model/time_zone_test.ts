import assert from "node:assert/strict";
import { isKnownTimeZone } from "./time_zone.ts";

Deno.test("time zone: IANA names and UTC are known, anything else is not", () => {
  assert.equal(isKnownTimeZone("Europe/Berlin"), true);
  assert.equal(isKnownTimeZone("UTC"), true);
  assert.equal(isKnownTimeZone("Mars/Olympus_Mons"), false);
  assert.equal(isKnownTimeZone(""), false);
});
