import assert from "node:assert/strict";
import { safeNextPath } from "./next_path.ts";

const SITE = "https://sync.example.com";

Deno.test("next path: same-origin paths pass with their query and fragment", () => {
  assert.equal(safeNextPath("/connections", SITE), "/connections");
  assert.equal(safeNextPath("/rules?id=1#top", SITE), "/rules?id=1#top");
  assert.equal(safeNextPath("/a/../b", SITE), "/b");
});

Deno.test("next path: every way of naming another site is refused", () => {
  for (
    const evil of [
      "//evil.example",
      "https://evil.example",
      "/\\evil.example",
      "\\\\evil.example",
      "/\t/evil.example",
      "http:evil.example",
      "javascript:alert(1)",
      "evil.example",
      "",
    ]
  ) {
    assert.equal(safeNextPath(evil, SITE), null, evil);
  }
  assert.equal(safeNextPath("/%2F%2Fevil.example", SITE), "/%2F%2Fevil.example", "stays a path");
});
