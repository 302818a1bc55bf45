/**
 * Connecting a CalDAV account through the API, against a real Radicale: the password is checked
 * before anything is stored, the calendars come with the roles their privileges give, the
 * password is stored only sealed, and connecting the same account again keeps its id.
 */
import assert from "node:assert/strict";
import { getConnectionEntry } from "../../lib/db/connections.ts";
import { startApiWorld } from "../api/support.ts";
import { needing } from "../support/infrastructure.ts";
import {
  makeCalendar,
  RADICALE_TOOLS,
  startRadicale,
  toolsMissing,
} from "../support/caldav_servers.ts";

Deno.test({
  name: needing(
    "caldav connect: checked before it is stored, listed with roles, renewed in place",
    RADICALE_TOOLS,
  ),
  ignore: toolsMissing(RADICALE_TOOLS),
  fn: async (t) => {
    await using server = await startRadicale();
    const w = await startApiWorld({ BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32" });
    const { ann, annId } = w;
    try {
      const work = await makeCalendar(server.aliceHome, server.alice, "work", {
        displayName: "Work (CalDAV)",
        color: "#3366CC",
      });
      const connect = (body: Record<string, unknown>) =>
        ann.request("/api/user/connections/caldav", { method: "POST", json: body });
      const before = (await ann.connections()).length;

      await t.step(
        "a wrong password is a 422 under its own code, and nothing is stored",
        async () => {
          const res = await connect({
            preset: "other",
            serverUrl: server.baseUrl,
            username: server.alice.username,
            password: "wrong",
          });
          assert.equal(res.status, 422);
          const { error } = await res.json();
          assert.equal(error.code, "caldav_auth");
          assert.match(error.message, /refused the user name or password/);
          assert.equal((await ann.connections()).length, before);
        },
      );

      await t.step("a private address the instance does not allow is refused", async () => {
        for (const serverUrl of ["https://10.0.0.5/", "https://[::ffff:169.254.169.254]/"]) {
          const res = await connect({ preset: "other", serverUrl, username: "a", password: "b" });
          assert.equal(res.status, 422);
          const { error } = await res.json();
          assert.equal(error.code, "address_refused");
          assert.match(error.message, /BUSYSYNC_OUTBOUND_ALLOW/);
        }
      });

      await t.step("a server whose answer cannot be read is a 502 naming it", async () => {
        // Says gzip, sends plain text: the body breaks while it is read.
        const broken = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen() {} },
          () =>
            new Response("not gzip at all", {
              status: 207,
              headers: { "content-encoding": "gzip", "content-type": "application/xml" },
            }),
        );
        try {
          const res = await connect({
            preset: "other",
            serverUrl: `http://127.0.0.1:${broken.addr.port}/`,
            username: "a",
            password: "b",
          });
          assert.equal(res.status, 502);
          const { error } = await res.json();
          assert.equal(error.code, "caldav_error");
          assert.match(error.message, /could not read/);
        } finally {
          await broken.shutdown();
        }
      });

      await t.step("nextcloud and other need the server's address", async () => {
        const res = await connect({ preset: "nextcloud", username: "a", password: "b" });
        assert.equal(res.status, 400);
        assert.match(JSON.stringify(await res.json()), /server's address/);
      });

      let connectionId = "";
      await t.step("the right password connects; calendars come with their roles", async () => {
        const res = await connect({
          preset: "other",
          serverUrl: server.baseUrl,
          username: server.alice.username,
          password: server.alice.password,
        });
        const body = await res.json();
        assert.equal(res.status, 201, JSON.stringify(body));
        connectionId = body.connection.id;
        assert.equal(body.connection.kind, "caldav");
        assert.equal(body.connection.status, "active");
        const cal = body.calendars.find((c: { id: string }) => c.id === work);
        assert.equal(cal?.summary, "Work (CalDAV)");
        assert.equal(cal?.writable, true);
        assert.equal(cal?.color, "#3366cc");
        const { items } = await (await ann.request("/api/user/calendars")).json();
        assert.ok(
          items.some((c: { calendarId: string; connectionId: string }) =>
            c.calendarId === work && c.connectionId === connectionId
          ),
          "the calendar is offered for rules",
        );
        const stored = await getConnectionEntry(w.h.kv, annId, connectionId);
        assert.ok(stored?.connection.tokens?.refresh);
        assert.ok(
          !JSON.stringify(stored).includes(server.alice.password),
          "the password is stored only sealed",
        );
      });

      await t.step("the same account connected again keeps its id", async () => {
        const res = await connect({
          preset: "other",
          serverUrl: server.baseUrl,
          username: server.alice.username,
          password: server.alice.password,
        });
        assert.equal(res.status, 201);
        assert.equal((await res.json()).connection.id, connectionId);
        assert.equal((await ann.connections()).length, before + 1);
      });

      await t.step("disconnecting forgets the password and says it cannot revoke it", async () => {
        const res = await ann.request(`/api/user/connections/${connectionId}`, {
          method: "DELETE",
        });
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(body.revoked, false);
        assert.match(body.message, /app password/);
        assert.equal(await getConnectionEntry(w.h.kv, annId, connectionId), null);
      });
    } finally {
      await w.h.close();
    }
  },
});
