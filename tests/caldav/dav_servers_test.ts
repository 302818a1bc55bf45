/**
 * The DAV layer (lib/caldav/dav_*.ts) against real Radicale and Xandikos servers: discovery,
 * calendar listing with privileges, conditional writes, sync-collection and the marker search,
 * each server's own answers included (shared/docs/caldav.md §2).
 */
import assert from "node:assert/strict";
import { getCalendar, listCalendars } from "../../lib/caldav/dav_calendars.ts";
import { discoverAccount } from "../../lib/caldav/dav_discovery.ts";
import {
  AlreadyExistsError,
  CalDavAuthError,
  CalDavForbiddenError,
  PreconditionFailedError,
  SyncTokenInvalidError,
  UidConflictError,
} from "../../lib/caldav/dav_errors.ts";
import { multigetObjects } from "../../lib/caldav/dav_multiget.ts";
import {
  createObject,
  deleteObject,
  etagsEqual,
  getObject,
  updateObject,
} from "../../lib/caldav/dav_objects.ts";
import { findObjectsByProperty, listEventObjects } from "../../lib/caldav/dav_query.ts";
import { syncCollection } from "../../lib/caldav/dav_sync.ts";
import {
  CALDAV_TEST_SERVERS,
  type CalDavTestServer,
  makeCalendar,
  toolsMissing,
} from "../support/caldav_servers.ts";
import { needing } from "../support/infrastructure.ts";
import { aClient, aMeter, anEventIcs } from "./support.ts";

for (const { name, start, tools } of CALDAV_TEST_SERVERS) {
  Deno.test({
    name: needing(`caldav on ${name}: discovery, listing, writes, sync and marker search`, tools),
    ignore: toolsMissing(tools),
    fn: async (t) => {
      await using server = await start();
      const alice = aClient(server.alice);

      await t.step(
        "discovery finds the calendar home; a wrong password is its own error",
        async () => {
          const meter = aMeter();
          const account = await discoverAccount(aClient(server.alice, meter), server.baseUrl);
          assert.equal(account.homeUrl, server.aliceHome);
          // The well-known PROPFIND follows the redirect to the root, then asks the principal.
          assert.deepEqual([...meter.counts], [["caldav.propfind", 2]]);
          await assert.rejects(
            discoverAccount(aClient({ username: "alice", password: "wrong" }), server.baseUrl),
            (e) => e instanceof CalDavAuthError && /app password/.test(e.message),
          );
        },
      );

      await t.step("a new calendar is listed with its name, as the owner's", async () => {
        const url = await makeCalendar(server.aliceHome, server.alice, "work", {
          displayName: "Work",
          color: "#3366CC",
        });
        const work = (await listCalendars(alice, server.aliceHome)).find((c) => c.url === url);
        assert.ok(work, "the calendar is listed");
        assert.equal(work.displayName, "Work");
        assert.equal(work.accessRole, "owner");
        assert.ok(work.components.includes("VEVENT"));
        assert.ok(work.syncToken, "it supports sync-collection");
        // Xandikos 0.2.8 drops the colour given to MKCALENDAR (notes §2).
        assert.equal(work.color, name === "radicale" ? "#3366cc" : undefined);
      });

      if (server.bob) {
        await t.step(
          "a calendar shared read-only is a reader's, and a write is refused",
          async () => {
            await readOnlyShare(server);
          },
        );
      }

      await t.step(
        "writes are conditional: create once, update and delete at an ETag",
        async () => {
          const cal = await makeCalendar(server.aliceHome, server.alice, "writes");
          const url = `${cal}m1.ics`;
          const created = await createObject(alice, url, anEventIcs({ uid: "m1" }));
          assert.ok(created.etag);
          await assert.rejects(
            createObject(alice, url, anEventIcs({ uid: "m1" })),
            AlreadyExistsError,
          );

          const updated = await updateObject(
            alice,
            url,
            anEventIcs({ uid: "m1", summary: "Moved" }),
            created.etag,
          );
          assert.ok(updated.etag && !etagsEqual(updated.etag, created.etag));
          await assert.rejects(
            updateObject(alice, url, anEventIcs({ uid: "m1", summary: "Stale" }), created.etag),
            PreconditionFailedError,
          );
          const read = await getObject(alice, url);
          assert.ok(read && etagsEqual(read.etag, updated.etag));
          assert.match(read.body, /SUMMARY:Moved/);

          await assert.rejects(
            createObject(alice, `${cal}other.ics`, anEventIcs({ uid: "m1" })),
            UidConflictError,
            "a second resource with the same UID is refused, in whatever form the server says it",
          );

          await assert.rejects(deleteObject(alice, url, created.etag), PreconditionFailedError);
          assert.equal(await deleteObject(alice, url, updated.etag), "deleted");
          assert.equal(await deleteObject(alice, url), "already_gone");
          assert.equal(await getObject(alice, url), undefined);
          await assert.rejects(
            updateObject(alice, url, anEventIcs({ uid: "m1" }), "*"),
            PreconditionFailedError,
            "If-Match: * on a missing resource says it is gone",
          );
        },
      );

      await t.step("sync-collection lists everything, then only what changed", async () => {
        const cal = await makeCalendar(server.aliceHome, server.alice, "sync");
        for (const uid of ["a", "b", "c"]) {
          await createObject(alice, `${cal}${uid}.ics`, anEventIcs({ uid, summary: uid }));
        }
        const full = await syncCollection(alice, cal);
        assert.deepEqual(full.changed.map((c) => c.href).sort(), [
          `${cal}a.ics`,
          `${cal}b.ics`,
          `${cal}c.ics`,
        ]);
        assert.equal(full.truncated, false);
        const withoutData = full.changed.filter((c) => c.calendarData === undefined);
        // Xandikos leaves calendar-data out of the report (notes §2): a multiget fetches it.
        assert.equal(withoutData.length, name === "xandikos" ? 3 : 0);
        if (withoutData.length) {
          const got = await multigetObjects(alice, cal, withoutData.map((c) => c.href));
          assert.deepEqual(
            got.objects.map((o) => o.calendarData.match(/SUMMARY:(\w+)/)?.[1]).sort(),
            ["a", "b", "c"],
          );
          assert.ok(got.objects.every((o) => full.changed.some((c) => etagsEqual(c.etag, o.etag))));
        }

        const idle = await syncCollection(alice, cal, full.cursor);
        assert.deepEqual([idle.changed, idle.deleted], [[], []]);
        assert.equal(idle.cursor.token, full.cursor.token);

        const b = full.changed.find((c) => c.href.endsWith("/b.ics"))!;
        await updateObject(alice, b.href, anEventIcs({ uid: "b", summary: "b2" }), b.etag!);
        await deleteObject(alice, `${cal}c.ics`);
        await createObject(alice, `${cal}d.ics`, anEventIcs({ uid: "d" }));
        const next = await syncCollection(alice, cal, full.cursor);
        assert.deepEqual(next.changed.map((c) => c.href).sort(), [`${cal}b.ics`, `${cal}d.ics`]);
        assert.deepEqual(next.deleted, [`${cal}c.ics`]);
        assert.notEqual(next.cursor.token, full.cursor.token);
      });

      await t.step("an invalid sync token asks for a full listing", async () => {
        const cal = await makeCalendar(server.aliceHome, server.alice, "tokens");
        const meter = aMeter();
        const client = aClient(server.alice, meter);
        // Radicale's tokens are URLs of its namespace; Xandikos' are git commit ids.
        const bogus = name === "radicale"
          ? "http://radicale.org/ns/sync/0000000000000000000000000000000000000000"
          : "0123456789abcdef0123456789abcdef01234567";
        await assert.rejects(
          syncCollection(client, cal, { calendarUrl: cal, token: bogus }),
          (e) =>
            e instanceof SyncTokenInvalidError &&
            // Radicale says 403 valid-sync-token; Xandikos 0.2.8 a 500, twice, for the retry.
            e.reason === (name === "radicale" ? "valid-sync-token" : "server_error"),
        );
        assert.equal(meter.counts.get("caldav.report.sync"), name === "radicale" ? 1 : 2);
      });

      await t.step(
        "the marker search finds exactly the marked events; a plain query finds all",
        async () => {
          const cal = await makeCalendar(server.aliceHome, server.alice, "marked");
          await createObject(alice, `${cal}own.ics`, anEventIcs({ uid: "own" }));
          await createObject(alice, `${cal}m1.ics`, anEventIcs({ uid: "m1", marker: "1" }));
          await createObject(alice, `${cal}m2.ics`, anEventIcs({ uid: "m2", day: 5, marker: "1" }));
          const found = await findObjectsByProperty(alice, cal, "X-BUSYSYNC", "1");
          assert.deepEqual(found.map((o) => o.href).sort(), [`${cal}m1.ics`, `${cal}m2.ics`]);
          assert.ok(found.every((o) => /X-BUSYSYNC:1/.test(o.calendarData) && o.etag));
          const all = await listEventObjects(alice, cal);
          assert.deepEqual(all.map((o) => o.href).sort(), [
            `${cal}m1.ics`,
            `${cal}m2.ics`,
            `${cal}own.ics`,
          ]);
        },
      );

      await t.step("every request was counted under its CalDAV method", () => {
        for (const method of ["caldav.propfind", "caldav.put", "caldav.report.sync"]) {
          assert.ok((alice.meter.counts.get(method) ?? 0) > 0, method);
        }
      });
    },
  });
}

/** Radicale's rights give bob read access to alice/shared (tests/support/caldav_servers.ts). */
async function readOnlyShare(server: CalDavTestServer): Promise<void> {
  const shared = await makeCalendar(server.aliceHome, server.alice, "shared");
  const bob = aClient(server.bob!);
  const seen = await getCalendar(bob, shared);
  assert.equal(seen?.accessRole, "reader");
  await assert.rejects(
    createObject(bob, `${shared}x.ics`, anEventIcs({ uid: "x" })),
    CalDavForbiddenError,
  );
}
