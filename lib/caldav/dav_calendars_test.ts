import assert from "node:assert/strict";
import { accessRoleOf } from "./dav_calendars.ts";

Deno.test("accessRoleOf: privileges map onto the roles the engine knows", () => {
  assert.equal(accessRoleOf(["read", "all", "write", "writeProperties", "writeContent"]), "owner");
  assert.equal(accessRoleOf(["read", "writeContent"]), "writer");
  assert.equal(accessRoleOf(["read", "write"]), "writer");
  assert.equal(accessRoleOf(["read", "readFreeBusy"]), "reader");
  assert.equal(accessRoleOf(["readFreeBusy"]), "freeBusyReader");
  assert.equal(accessRoleOf(["writeProperties"]), "freeBusyReader", "no read, no write-content");
  assert.equal(accessRoleOf(undefined), "writer", "a server that reports none: a write tells");
});
