/**
 * The outbound fetch refuses what a user-supplied address must not reach, before any request:
 * names resolve through a small real DNS server of the test's own (answering with private,
 * loopback, link-local and IPv4-mapped addresses), and a TCP listener that must never see a
 * connection stands where such a name points. Redirects, credentials, size and time are
 * checked against local servers the policy allows.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { blockedBecause, parseCidr, parseIp } from "./address_ranges.ts";
import { createOutboundFetch, type OutboundPolicy } from "./outbound_fetch.ts";
import { OutboundRefusedError } from "./outbound_errors.ts";

/** A DNS server over UDP on loopback answering A/AAAA from `records` (NXDOMAIN otherwise). */
function startDns(records: Record<string, { a?: string[]; aaaa?: string[] }>) {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  const asked: string[] = [];
  (async () => {
    for await (const [packet, from] of socket) {
      const id = packet.slice(0, 2);
      let at = 12;
      const labels: string[] = [];
      while (packet[at] !== 0) {
        labels.push(new TextDecoder().decode(packet.slice(at + 1, at + 1 + packet[at])));
        at += packet[at] + 1;
      }
      const question = packet.slice(12, at + 5);
      const qtype = (packet[at + 1] << 8) | packet[at + 2];
      const name = labels.join(".").toLowerCase();
      asked.push(name);
      const entry = records[name];
      const values = qtype === 1 ? entry?.a ?? [] : qtype === 28 ? entry?.aaaa ?? [] : [];
      const answers = values.map((v) => {
        const rdata = parseIp(v)!;
        return [0xc0, 0x0c, 0, qtype, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata];
      });
      const header = [
        ...id,
        0x81,
        entry ? 0x80 : 0x83,
        0,
        1,
        0,
        answers.length,
        0,
        0,
        0,
        0,
      ];
      const reply = Uint8Array.from([...header, ...question, ...answers.flat()]);
      await socket.send(reply, from);
    }
  })().catch(() => {});
  return {
    asked,
    resolve: async (host: string) => {
      const opts = { nameServer: { ipAddr: "127.0.0.1", port } };
      const settle = (type: "A" | "AAAA") =>
        Deno.resolveDns(host, type, opts).catch((err) => {
          if (err instanceof Deno.errors.NotFound) return [];
          throw err;
        });
      return [...await settle("A"), ...await settle("AAAA")];
    },
    close: () => socket.close(),
  };
}

const POLICY: OutboundPolicy = {
  allow: [],
  allowHttp: false,
  maxBytes: 1024,
  timeoutMs: 2_000,
  maxRedirects: 3,
};

async function refusal(p: Promise<unknown>): Promise<OutboundRefusedError> {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err instanceof OutboundRefusedError, `refused, not ${err}`);
  return err;
}

Deno.test("outbound: names that resolve to private addresses are refused before any connection", async () => {
  // Where "inside.test" points: a listener that must see no connection.
  const trap = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const trapPort = (trap.addr as Deno.NetAddr).port;
  let connections = 0;
  (async () => {
    for await (const conn of trap) {
      connections++;
      conn.close();
    }
  })().catch(() => {});
  const dns = startDns({
    "inside.test": { a: ["127.0.0.1"] },
    "metadata.test": { a: ["169.254.169.254"] },
    "lan.test": { a: ["10.0.0.5"] },
    "mapped.test": { aaaa: ["::ffff:127.0.0.1"] },
    "mixed.test": { a: ["93.184.216.34", "192.168.1.1"] },
  });
  try {
    const get = createOutboundFetch(POLICY, { resolve: dns.resolve });
    for (const host of ["inside.test", "metadata.test", "lan.test", "mapped.test", "mixed.test"]) {
      const err = await refusal(get(`https://${host}:${trapPort}/dav/secret?token=abc`, {}));
      assert.equal(err.reason, "private_address", host);
      assert.match(err.message, new RegExp(host.replace(".", "\\.")));
      assert.doesNotMatch(err.message, /secret|token=abc/, "the path and query are never told");
    }
    assert.ok(dns.asked.includes("inside.test"), "the names went through the test's DNS server");
    assert.equal(connections, 0, "nothing connected to the refused addresses");
  } finally {
    dns.close();
    trap.close();
  }
});

Deno.test("outbound: literal addresses in every spelling are refused", async () => {
  const get = createOutboundFetch(POLICY, { resolve: () => Promise.reject(new Error("no DNS")) });
  for (
    const url of [
      "https://127.0.0.1/",
      "https://2130706433/",
      "https://0x7f.1/",
      "https://017700000001/",
      "https://[::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:a00:1]/",
      "https://[fe80::1]/",
      "https://[fd00::1]/",
      "https://0.0.0.0/",
    ]
  ) {
    assert.equal((await refusal(get(url, {}))).reason, "private_address", url);
  }
});

Deno.test("outbound: http, userinfo and unknown schemes are refused; an allowed range may use http", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const strict = createOutboundFetch({ ...POLICY, allow: [] });
    assert.equal((await refusal(strict(url, {}))).reason, "private_address");
    assert.equal((await refusal(strict("ftp://example.com/", {}))).reason, "scheme");
    assert.equal((await refusal(strict("https://a:b@example.com/", {}))).reason, "scheme");
    const publicHttp = createOutboundFetch(POLICY, {
      resolve: () => Promise.resolve(["93.184.216.34"]),
    });
    assert.equal((await refusal(publicHttp("http://example.com/", {}))).reason, "scheme");
    const lan = createOutboundFetch({ ...POLICY, allow: [parseCidr("127.0.0.1/32")!] });
    const res = await lan(url, {});
    assert.equal(await res.text(), "ok");
  } finally {
    await server.shutdown();
  }
});

Deno.test("outbound: every redirect hop is checked, credentials stay with their origin", async () => {
  const dns = startDns({
    "a.test": { a: ["127.0.0.1"] },
    "b.test": { a: ["127.0.0.1"] },
    "evil.test": { a: ["169.254.169.254"] },
  });
  const seen: { host: string; auth: string | null; method: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    seen.push({
      host: req.headers.get("host")!,
      auth: req.headers.get("authorization"),
      method: req.method,
    });
    const port = url.port;
    if (url.pathname === "/to-evil") return Response.redirect(`http://evil.test:${port}/`, 302);
    if (url.pathname === "/to-b") {
      return new Response(null, { status: 307, headers: { location: `http://b.test:${port}/b` } });
    }
    if (url.pathname === "/same") {
      return new Response(null, { status: 301, headers: { location: "/b" } });
    }
    if (url.pathname === "/loop") {
      return new Response(null, { status: 302, headers: { location: "/loop" } });
    }
    return new Response("here");
  });
  try {
    const port = server.addr.port;
    // The names resolve only through the test's DNS, which the system resolver never asks:
    // every request reaches the server at the address the check approved.
    const get = createOutboundFetch(
      { ...POLICY, allow: [parseCidr("127.0.0.1/32")!] },
      { resolve: dns.resolve },
    );
    const auth = { headers: { authorization: "Basic c2VjcmV0" } };
    assert.equal(
      (await refusal(get(`http://a.test:${port}/to-evil`, auth))).reason,
      "private_address",
    );

    seen.length = 0;
    await (await get(`http://a.test:${port}/to-b`, { ...auth, method: "PROPFIND" })).text();
    assert.deepEqual(seen.map((s) => [s.host.split(":")[0], s.auth, s.method]), [
      ["a.test", "Basic c2VjcmV0", "PROPFIND"],
      ["b.test", null, "PROPFIND"],
    ]);

    seen.length = 0;
    const same = await get(`http://a.test:${port}/same`, auth);
    assert.equal(await same.text(), "here");
    assert.equal(seen[1].auth, "Basic c2VjcmV0", "the same origin keeps its credentials");
    assert.equal(new URL(same.url).pathname, "/b", "the answer says where it came from");

    assert.equal(
      (await refusal(get(`http://a.test:${port}/loop`, {}))).reason,
      "too_many_redirects",
    );
  } finally {
    dns.close();
    await server.shutdown();
  }
});

Deno.test("outbound: a body past the cap is an error, a server that does not answer times out", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/slow"
        ? new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("late")), 1_000))
        : new Response("x".repeat(5_000)),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const get = createOutboundFetch({
      ...POLICY,
      allow: [parseCidr("127.0.0.1/32")!],
      timeoutMs: 200,
    });
    const big = await get(`${base}/big`, {});
    const err = await big.text().then(() => undefined, (e) => e);
    assert.ok(err instanceof OutboundRefusedError && err.reason === "too_large", String(err));
    assert.equal((await refusal(get(`${base}/slow`, {}))).reason, "timeout");
  } finally {
    await server.shutdown();
  }
});

Deno.test("outbound: an IPv4-mapped or NAT64 IPv6 address is judged as the IPv4 it carries", () => {
  fc.assert(
    fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), (b) => {
      const v4 = b.join(".");
      const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
      const mapped = `::ffff:${hex(b[0], b[1])}:${hex(b[2], b[3])}`;
      const nat64 = `64:ff9b::${v4}`;
      const expected = blockedBecause(v4, []) !== undefined;
      return (blockedBecause(mapped, []) !== undefined) === expected &&
        (blockedBecause(nat64, []) !== undefined) === expected;
    }),
  );
});

/** A self-signed certificate and key for `name` (openssl), as PEM. */
async function selfSigned(name: string): Promise<{ cert: string; key: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        `/CN=${name}`,
        "-addext",
        `subjectAltName=DNS:${name}`,
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("outbound: https goes to the checked address, its certificate checked against the name", async () => {
  const { cert, key } = await selfSigned("secure.test");
  // Names only the test's DNS knows: reaching them at all shows the connection went to the
  // address the check approved, with no second lookup a rebinding DNS server could answer.
  const dns = startDns({
    "secure.test": { a: ["127.0.0.1"] },
    "impostor.test": { a: ["127.0.0.1"] },
  });
  const seen: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    async (req) => {
      const body = await req.text();
      seen.push(`${req.method} ${req.headers.get("host")} ${body.length}`);
      if (req.method === "DELETE") return new Response(null, { status: 204 });
      if (new URL(req.url).pathname === "/gz") {
        const zipped = new Response("<multistatus/>").body!.pipeThrough(
          new CompressionStream("gzip"),
        );
        return new Response(zipped, { headers: { "content-encoding": "gzip" } });
      }
      return new Response(`hello ${new URL(req.url).pathname}`, { headers: { etag: '"e1"' } });
    },
  );
  try {
    const port = server.addr.port;
    const get = createOutboundFetch(
      { ...POLICY, allow: [parseCidr("127.0.0.1/32")!] },
      { resolve: dns.resolve, tls: { caCerts: [cert] } },
    );
    const answer = await get(`https://secure.test:${port}/cal/`, {
      method: "PUT",
      headers: { "content-type": "text/calendar" },
      body: "BEGIN:VCALENDAR",
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("etag"), '"e1"');
    assert.equal(await answer.text(), "hello /cal/");
    const gone = await get(`https://secure.test:${port}/x.ics`, { method: "DELETE" });
    assert.equal(gone.status, 204);
    assert.deepEqual(seen, [`PUT secure.test:${port} 15`, `DELETE secure.test:${port} 0`]);

    const zipped = await get(`https://secure.test:${port}/gz`, {});
    assert.equal(await zipped.text(), "<multistatus/>", "a gzip answer is decoded");

    const before = seen.length;
    // The certificate names the host but nobody vouches for it: refused, whatever
    // NODE_TLS_REJECT_UNAUTHORIZED says (set here as a forgotten dev setting would be).
    Deno.env.set("NODE_TLS_REJECT_UNAUTHORIZED", "0");
    try {
      const untrusting = createOutboundFetch(
        { ...POLICY, allow: [parseCidr("127.0.0.1/32")!] },
        { resolve: dns.resolve },
      );
      const selfSignedRefused = await untrusting(`https://secure.test:${port}/`, {})
        .then(() => undefined, (e) => e);
      assert.ok(selfSignedRefused instanceof TypeError, `untrusted: ${selfSignedRefused}`);
    } finally {
      Deno.env.delete("NODE_TLS_REJECT_UNAUTHORIZED");
    }
    const wrongName = await get(`https://impostor.test:${port}/`, {}).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(wrongName instanceof TypeError, `a certificate for another name fails: ${wrongName}`);
    assert.equal(seen.length, before, "no request went through a TLS handshake that failed");
  } finally {
    dns.close();
    await server.shutdown();
  }
});
