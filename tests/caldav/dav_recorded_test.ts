/**
 * The DAV layer on answers our test servers never give but others do (shared/docs/caldav.md §2,
 * §3, §7): Cyrus' weak ETags, CDATA colours and data, sharee privileges, its foreign-token
 * acceptance and 507 truncation, its UID-clash 403; Cyrus' absolute well-known redirect and the
 * Nextcloud fallback; a passing 500. Served over real HTTP by a small Deno.serve in the form
 * those servers answer, so the client code runs unchanged.
 */
import assert from "node:assert/strict";
import { getCalendar } from "../../lib/caldav/dav_calendars.ts";
import { discoverAccount } from "../../lib/caldav/dav_discovery.ts";
import {
  CalDavNotFoundError,
  CalDavUnreachableError,
  SyncTokenInvalidError,
  UidConflictError,
} from "../../lib/caldav/dav_errors.ts";
import {
  createObject,
  etagsEqual,
  getObject,
  normalizeEtag,
} from "../../lib/caldav/dav_objects.ts";
import { multigetObjects } from "../../lib/caldav/dav_multiget.ts";
import { syncCollection } from "../../lib/caldav/dav_sync.ts";
import { aClient, aMeter, anEventIcs } from "./support.ts";

const ALICE = { username: "alice", password: "alicepw" };
const XML = { "content-type": "application/xml; charset=utf-8" };

interface Seen {
  method: string;
  path: string;
  body: string;
}

/** A loopback server answering with `answer`; `seen` lists the requests it got. */
function recordedServer(answer: (req: Seen, url: string) => Response) {
  const seen: Seen[] = [];
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request): Promise<Response> => {
      const req = {
        method: request.method,
        path: new URL(request.url).pathname,
        body: await request.text(),
      };
      seen.push(req);
      return answer(req, `http://127.0.0.1:${server.addr.port}`);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const multistatus = (inner: string, status = 207) =>
  new Response(
    `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"
  xmlns:A="http://apple.com/ns/ical/" xmlns:CS="http://calendarserver.org/ns/">${inner}
</D:multistatus>`,
    { status, headers: XML },
  );

const ICS = anEventIcs({ uid: "m1" });

Deno.test("caldav recorded: a weak ETag from a compressed GET equals the strong one of the PUT", async () => {
  await using server = recordedServer((req) =>
    req.method === "PUT"
      ? new Response(null, { status: 201, headers: { etag: '"1-2"' } })
      : new Response(ICS, { headers: { etag: 'W/"1-2"', "content-type": "text/calendar" } })
  );
  const client = aClient(ALICE);
  const url = `${server.url}/dav/calendars/user/alice/Default/m1.ics`;
  const put = await createObject(client, url, ICS);
  const got = await getObject(client, url);
  assert.equal(got?.etag, 'W/"1-2"');
  assert.ok(etagsEqual(put.etag, got?.etag));
  assert.equal(normalizeEtag('W/"1-2"'), '"1-2"');
  assert.ok(!etagsEqual('"1-2"', '"1-3"'));
  assert.ok(!etagsEqual(undefined, undefined), "no ETag matches nothing");
});

Deno.test("caldav recorded: a token of another collection is refused before any request", async () => {
  // Cyrus answers such a token with a 207 as if it were its own (notes §2).
  await using server = recordedServer(() => multistatus("<D:sync-token>data:,1</D:sync-token>"));
  const meter = aMeter();
  const home = `${server.url}/dav/calendars/user/alice/`;
  await assert.rejects(
    syncCollection(aClient(ALICE, meter), `${home}Work/`, {
      calendarUrl: `${home}Default/`,
      token: "data:,1",
    }),
    (e) => e instanceof SyncTokenInvalidError && e.reason === "other_collection",
  );
  assert.equal(server.seen.length, 0);
  assert.equal(meter.counts.size, 0);
});

Deno.test("caldav recorded: a truncated report (507) is continued with the token it returned", async () => {
  const cal = "/dav/calendars/user/alice/Default/";
  await using server = recordedServer((req) => {
    const token = req.body.match(/<d:sync-token>(.*)<\/d:sync-token>/)?.[1];
    if (token === "") {
      return multistatus(`
  <D:response><D:href>${cal}a.ics</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag>
    <C:calendar-data><![CDATA[${ICS}]]></C:calendar-data></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>${cal}gone.ics</D:href><D:propstat><D:prop><D:getetag>"2"</D:getetag>
    </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>${cal}</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>
  </D:response>
  <D:sync-token>data:,page1</D:sync-token>`);
    }
    assert.equal(token, "data:,page1");
    return multistatus(`
  <D:response><D:href>${cal}b.ics</D:href><D:propstat><D:prop><D:getetag>"3"</D:getetag>
    <C:calendar-data><![CDATA[${ICS}]]></C:calendar-data></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>${cal}gone.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status>
  </D:response>
  <D:sync-token>data:,page2</D:sync-token>`);
  });
  const url = `${server.url}${cal}`;
  const result = await syncCollection(aClient(ALICE), url);
  assert.deepEqual(result.changed.map((c) => [c.href, c.etag]), [
    [`${url}a.ics`, '"1"'],
    [`${url}b.ics`, '"3"'],
  ]);
  assert.ok(result.changed.every((c) => c.calendarData?.startsWith("BEGIN:VCALENDAR")));
  assert.deepEqual(result.deleted, [`${url}gone.ics`]);
  assert.deepEqual(result.cursor, { calendarUrl: url, token: "data:,page2" });
  assert.equal(result.truncated, true);
  assert.equal(result.requests, 2);
});

Deno.test("caldav recorded: a 500 to a stored token is retried once before a full listing", async (t) => {
  const cal = "/cal/";
  let failures = 0;
  await using server = recordedServer(() => {
    if (failures-- > 0) return new Response("Internal Server Error", { status: 500 });
    return multistatus("<D:sync-token>t2</D:sync-token>");
  });
  const url = `${server.url}${cal}`;
  await t.step("one passing 500 costs a retry, not a full listing", async () => {
    failures = 1;
    const result = await syncCollection(aClient(ALICE), url, { calendarUrl: url, token: "t1" });
    assert.equal(result.cursor.token, "t2");
    assert.equal(result.requests, 2);
  });
  await t.step("two in a row mean the token is unusable", async () => {
    failures = 2;
    await assert.rejects(
      syncCollection(aClient(ALICE), url, { calendarUrl: url, token: "t1" }),
      (e) => e instanceof SyncTokenInvalidError && e.reason === "server_error",
    );
  });
  await t.step(
    "a 500 to a listing from no token is a server error, not a token problem",
    async () => {
      failures = 2;
      await assert.rejects(
        syncCollection(aClient(ALICE), url),
        (e) => !(e instanceof SyncTokenInvalidError) && /500/.test(String(e)),
      );
    },
  );
});

Deno.test("caldav recorded: Cyrus' CDATA colour and a sharee's privileges", async (t) => {
  const privileges = { value: "" };
  await using server = recordedServer((req) =>
    multistatus(`
  <D:response><D:href>${req.path}</D:href><D:propstat><D:prop>
    <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
    <D:displayname>Alice's shared</D:displayname>
    <A:calendar-color><![CDATA[#3366CCFF]]></A:calendar-color>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
    <C:calendar-timezone><![CDATA[BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n]]></C:calendar-timezone>
    <D:current-user-privilege-set>${privileges.value}</D:current-user-privilege-set>
    <CS:getctag>1700000000-42</CS:getctag>
    <D:sync-token>data:,42</D:sync-token>
  </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
  );
  const url = `${server.url}/dav/calendars/user/bob/alice.shared/`;
  await t.step("read and read-free-busy make a reader; the colour loses its alpha", async () => {
    privileges.value = "<D:privilege><D:read/></D:privilege>" +
      "<D:privilege><C:read-free-busy/></D:privilege>";
    const calendar = await getCalendar(aClient(ALICE), url);
    assert.deepEqual(calendar, {
      url,
      displayName: "Alice's shared",
      color: "#3366cc",
      components: ["VEVENT"],
      timeZone: "Europe/Berlin",
      accessRole: "reader",
      ctag: "1700000000-42",
      syncToken: "data:,42",
    });
  });
  await t.step("read-free-busy alone makes a free/busy reader", async () => {
    privileges.value = "<D:privilege><C:read-free-busy/></D:privilege>";
    assert.equal((await getCalendar(aClient(ALICE), url))?.accessRole, "freeBusyReader");
  });
  await t.step("write-content makes a writer", async () => {
    privileges.value = "<D:privilege><D:read/></D:privilege>" +
      "<D:privilege><D:write-content/></D:privilege>";
    assert.equal((await getCalendar(aClient(ALICE), url))?.accessRole, "writer");
  });
});

Deno.test("caldav recorded: Cyrus' 403 unique-scheduling-object-resource is a UID clash", async () => {
  await using server = recordedServer(() =>
    new Response(
      `<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:unique-scheduling-object-resource><D:href>/dav/calendars/user/alice/Default/first.ics</D:href>
  </C:unique-scheduling-object-resource></D:error>`,
      { status: 403, headers: XML },
    )
  );
  await assert.rejects(
    createObject(aClient(ALICE), `${server.url}/dav/calendars/user/alice/Default/m1.ics`, ICS),
    (e) =>
      e instanceof UidConflictError && e.status === 403 &&
      e.existingHref === "/dav/calendars/user/alice/Default/first.ics",
  );
});

Deno.test("caldav recorded: discovery follows an absolute redirect and falls back to Nextcloud's root", async (t) => {
  const principal = (base: string, user: string) => `
  <D:response><D:href>${base}</D:href><D:propstat><D:prop>
    <D:current-user-principal><D:href>${user}</D:href></D:current-user-principal>
  </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
  const home = (user: string, home: string) => `
  <D:response><D:href>${user}</D:href><D:propstat><D:prop>
    <C:calendar-home-set><D:href>${home}</D:href></C:calendar-home-set>
  </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;

  await t.step("Cyrus: the well-known URL redirects to an absolute URL", async () => {
    await using server = recordedServer((req, origin) => {
      if (req.path === "/.well-known/caldav") {
        return new Response(null, {
          status: 301,
          headers: { location: `${origin}/dav/calendars` },
        });
      }
      if (req.path === "/dav/calendars") {
        return multistatus(principal("/dav/calendars", "/dav/principals/user/alice/"));
      }
      if (req.path === "/dav/principals/user/alice/") {
        return multistatus(home(req.path, "/dav/calendars/user/alice/"));
      }
      return new Response("no", { status: 404 });
    });
    assert.deepEqual(await discoverAccount(aClient(ALICE), `${server.url}/`), {
      principalUrl: `${server.url}/dav/principals/user/alice/`,
      homeUrl: `${server.url}/dav/calendars/user/alice/`,
      addresses: [],
    });
  });

  await t.step(
    "Nextcloud: no well-known redirect, the DAV root under /remote.php/dav/",
    async () => {
      await using server = recordedServer((req) => {
        if (req.path === "/remote.php/dav/") {
          return multistatus(principal(req.path, "/remote.php/dav/principals/users/alice/"));
        }
        if (req.path === "/remote.php/dav/principals/users/alice/") {
          return multistatus(home(req.path, "/remote.php/dav/calendars/alice/"));
        }
        return new Response("<html>Nextcloud</html>", { status: 404 });
      });
      const account = await discoverAccount(aClient(ALICE), `${server.url}/`);
      assert.equal(account.homeUrl, `${server.url}/remote.php/dav/calendars/alice/`);
    },
  );

  await t.step(
    "the owner's addresses are the mailto: ones of calendar-user-address-set (RFC 6638)",
    async () => {
      await using server = recordedServer((req) => {
        if (req.path === "/.well-known/caldav") {
          return multistatus(principal(req.path, "/remote.php/dav/principals/users/alice/"));
        }
        // Nextcloud's answer: the principal's URL beside the user's address, in any case.
        return multistatus(`
  <D:response><D:href>${req.path}</D:href><D:propstat><D:prop>
    <C:calendar-home-set><D:href>/remote.php/dav/calendars/alice/</D:href></C:calendar-home-set>
    <C:calendar-user-address-set>
      <D:href>MAILTO:Alice@Example.org</D:href>
      <D:href>/remote.php/dav/principals/users/alice/</D:href>
    </C:calendar-user-address-set>
  </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`);
      });
      const account = await discoverAccount(aClient(ALICE), `${server.url}/`);
      assert.deepEqual(account.addresses, ["alice@example.org"]);
    },
  );

  await t.step("a web server that is no CalDAV server says so, naming what was tried", async () => {
    await using server = recordedServer(() => new Response("<html>hello</html>", { status: 404 }));
    await assert.rejects(
      discoverAccount(aClient(ALICE), `${server.url}/`),
      (e) =>
        e instanceof CalDavNotFoundError && /\/\.well-known\/caldav: HTTP 404/.test(e.message) &&
        /remote\.php\/dav/.test(e.message),
    );
  });

  await t.step("nothing listening is unreachable, not a wrong password", async () => {
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (closed.addr as Deno.NetAddr).port;
    closed.close();
    await assert.rejects(
      discoverAccount(aClient(ALICE), `http://127.0.0.1:${port}/`),
      CalDavUnreachableError,
    );
  });
});

Deno.test("caldav recorded: a multiget of 450 hrefs goes in batches of at most 200", async () => {
  const cal = "/alice/calendars/calendar/";
  await using server = recordedServer((req) => {
    const hrefs = [...req.body.matchAll(/<d:href>([^<]+)<\/d:href>/g)].map((m) => m[1]);
    return multistatus(
      hrefs.map((href) =>
        href.endsWith("/gone.ics")
          ? `<D:response><D:href>${href}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`
          : `<D:response><D:href>${href}</D:href><D:propstat><D:prop><D:getetag>"e"</D:getetag>
  <C:calendar-data>${ICS}</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
      ).join("\n"),
    );
  });
  const url = `${server.url}${cal}`;
  const hrefs = Array.from({ length: 449 }, (_, i) => `${url}e${i}.ics`).concat(`${url}gone.ics`);
  const meter = aMeter();
  const result = await multigetObjects(aClient(ALICE, meter), url, hrefs);
  assert.equal(result.objects.length, 449);
  assert.deepEqual(result.missing, [`${url}gone.ics`]);
  assert.ok(result.objects.every((o) => o.etag === '"e"' && o.calendarData.includes("UID:m1")));
  assert.deepEqual(
    server.seen.map((r) => r.body.match(/<d:href>/g)?.length),
    [200, 200, 50],
  );
  assert.equal(meter.counts.get("caldav.report.multiget"), 3);
});
