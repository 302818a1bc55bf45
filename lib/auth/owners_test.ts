import assert from "node:assert/strict";
import { provenOwnerAddress } from "./owners.ts";

const LIST = ["ann@gmail.com", "it@corp.example"];

Deno.test("owners: a listed, verified Gmail address is proven without hd", () => {
  assert.equal(
    provenOwnerAddress(LIST, { email: "Ann@Gmail.com", emailVerified: true }),
    "ann@gmail.com",
  );
});

Deno.test("owners: an unverified or unlisted email proves nothing", () => {
  assert.equal(provenOwnerAddress(LIST, { email: "ann@gmail.com", emailVerified: false }), null);
  assert.equal(provenOwnerAddress(LIST, { email: "bob@gmail.com", emailVerified: true }), null);
  assert.equal(provenOwnerAddress([], { email: "ann@gmail.com", emailVerified: true }), null);
});

Deno.test("owners: a domain's address needs that domain's hd (a personal account carrying it is refused)", () => {
  const it = { email: "it@corp.example", emailVerified: true };
  assert.equal(provenOwnerAddress(LIST, { ...it, hd: "corp.example" }), "it@corp.example");
  assert.equal(provenOwnerAddress(LIST, { ...it, hd: "CORP.example" }), "it@corp.example");
  assert.equal(provenOwnerAddress(LIST, it), null);
  assert.equal(provenOwnerAddress(LIST, { ...it, hd: "other.example" }), null);
});
