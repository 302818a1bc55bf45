import assert from "node:assert/strict";
import { isEmailAllowed } from "./allow_list.ts";

Deno.test("allow-list: no list admits anyone, a list admits only its addresses and domains", () => {
  assert.equal(isEmailAllowed(undefined, "anyone@anywhere.example"), true);
  assert.equal(isEmailAllowed([], "anyone@anywhere.example"), true);
  const list = ["ann@example.org", "@corp.example"];
  assert.equal(isEmailAllowed(list, "Ann@Example.org"), true);
  assert.equal(isEmailAllowed(list, "bob@corp.example"), true);
  assert.equal(isEmailAllowed(list, "bob@example.org"), false);
  assert.equal(isEmailAllowed(list, "eve@eu.corp.example"), false, "no subdomains");
  assert.equal(isEmailAllowed(list, "eve@corp.example.evil"), false);
  assert.equal(isEmailAllowed(list, "corp.example@evil.example"), false);
});
