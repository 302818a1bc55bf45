import assert from "node:assert/strict";
import { isEmailAllowed } from "./allow_list.ts";

Deno.test("allow-list: no list admits anyone, a list admits only its addresses and domains", () => {
  assert.equal(isEmailAllowed(undefined, { email: "anyone@anywhere.example" }), true);
  assert.equal(isEmailAllowed([], { email: "anyone@anywhere.example" }), true);
  const list = ["ann@example.org", "@corp.example"];
  const staff = (email: string) => ({ email, hd: "corp.example" });
  assert.equal(isEmailAllowed(list, { email: "Ann@Example.org" }), true);
  assert.equal(isEmailAllowed(list, staff("bob@corp.example")), true);
  assert.equal(isEmailAllowed(list, { email: "bob@example.org" }), false);
  assert.equal(
    isEmailAllowed(list, { email: "eve@eu.corp.example", hd: "eu.corp.example" }),
    false,
  );
  assert.equal(isEmailAllowed(list, { email: "eve@corp.example.evil" }), false);
  assert.equal(isEmailAllowed(list, { email: "corp.example@evil.example" }), false);
});

Deno.test("allow-list: a domain entry needs the Workspace domain (hd), except for Gmail's domains", () => {
  const list = ["@corp.example", "@gmail.com"];
  assert.equal(isEmailAllowed(list, { email: "kept@corp.example" }), false, "personal account");
  assert.equal(isEmailAllowed(list, { email: "x@corp.example", hd: "other.example" }), false);
  assert.equal(isEmailAllowed(list, { email: "alias@corp.example.net", hd: "CORP.example" }), true);
  assert.equal(isEmailAllowed(list, { email: "gus@gmail.com" }), true);
  assert.equal(isEmailAllowed(["@googlemail.com"], { email: "gus@googlemail.com" }), true);
  assert.equal(isEmailAllowed(["ann@corp.example"], { email: "ann@corp.example" }), true);
});
