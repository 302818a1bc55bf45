import assert from "node:assert/strict";
import { parseRetryAfter } from "./api.ts";

Deno.test("Retry-After: seconds or an HTTP date, in whole seconds from now", () => {
  const now = Date.parse("2026-12-03T10:00:00Z");
  assert.equal(parseRetryAfter("42", now), 42);
  assert.equal(parseRetryAfter("Thu, 03 Dec 2026 10:00:30 GMT", now), 30);
  assert.equal(parseRetryAfter("Thu, 03 Dec 2026 09:59:00 GMT", now), 0);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter("soon", now), undefined);
});
