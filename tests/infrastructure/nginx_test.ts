import assert from "node:assert/strict";
import { findTool, INFRA, needing, renderTemplate, run } from "../support/infrastructure.ts";
import { until } from "../support/poll.ts";

const nginx = findTool("nginx");
const openssl = findTool("openssl");
const DOMAIN = "busysync.example.com";
/** Where the site expects the certificate; the test swaps in a throwaway self-signed one. */
const LIVE_TLS_DIR = "/etc/ssl/busysync/live/";

const site = async () =>
  renderTemplate(await Deno.readTextFile(`${INFRA}nginx/busysync.conf`), { domain: DOMAIN });

/** The server block listening on `port`, as text (the site has no nested braces deeper than locations). */
function serverBlock(conf: string, port: number): string {
  const blocks = conf.split(/^server \{$/m).slice(1);
  const block = blocks.find((b) => new RegExp(`^\\s+listen ${port}\\b`, "m").test(b));
  assert.ok(block, `a server listening on ${port}`);
  return block;
}

/** A location block's body. */
function location(block: string, path: string): string {
  const start = block.indexOf(`location ${path} {`);
  assert.ok(start >= 0, `location ${path}`);
  return block.slice(start, block.indexOf("}", start));
}

/** A throwaway self-signed certificate for DOMAIN in `tls` (fullchain.pem, privkey.pem). */
/**
 * A minimal main config in place of Debian's nginx.conf, including `dir`/busysync.conf, with
 * every path in the temp dir so nginx needs no root and leaves nothing behind; `foreground` for
 * a server the test runs and stops itself.
 */
async function writeMainConfig(dir: string, opts: { foreground?: boolean } = {}): Promise<void> {
  const foreground = opts.foreground ? "daemon off;\nmaster_process off;\n" : "";
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `${foreground}pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/busysync.conf;
}
`,
  );
}

async function makeCertificate(tls: string): Promise<void> {
  const cert = await run(openssl!, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=${DOMAIN}`,
    "-keyout",
    `${tls}privkey.pem`,
    "-out",
    `${tls}fullchain.pem`,
  ]);
  assert.equal(cert.code, 0, cert.output);
}

Deno.test({
  name: needing("nginx: the rendered site passes nginx -t", { nginx, openssl }),
  ignore: !nginx || !openssl,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "busysync-nginx-" });
    try {
      const tls = `${dir}/tls/`;
      await Deno.mkdir(tls);
      await makeCertificate(tls);
      const conf = await site();
      assert.ok(conf.includes(LIVE_TLS_DIR), "the site reads its certificate from the live link");
      await Deno.writeTextFile(`${dir}/busysync.conf`, conf.replaceAll(LIVE_TLS_DIR, tls));
      await writeMainConfig(dir);
      const result = await run(nginx!, [
        "-t",
        "-p",
        `${dir}/`,
        "-c",
        `${dir}/nginx.conf`,
        "-e",
        `${dir}/error.log`,
      ]);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /test is successful/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("nginx: port 80 only redirects and answers ACME challenges", async () => {
  const http = serverBlock(await site(), 80);
  assert.match(http, new RegExp(`server_name ${DOMAIN.replaceAll(".", "\\.")};`));
  assert.match(location(http, "/.well-known/acme-challenge/"), /root \/var\/www\/certbot;/);
  assert.match(location(http, "/"), /return 301 https:\/\/\$host\$request_uri;/);
  assert.doesNotMatch(http, /proxy_pass/);
});

Deno.test("nginx: https proxies to the loopback app with limits and security headers", async () => {
  const conf = await site();
  const https = serverBlock(conf, 443);
  assert.match(conf, /upstream busysync \{\s+server 127\.0\.0\.1:8000;/);
  assert.doesNotMatch(conf, /listen\s+(\S+:)?8000\b/, "nginx never takes the app's port");
  assert.match(https, /client_max_body_size 1m;/);
  assert.match(https, /ssl_protocols TLSv1\.2 TLSv1\.3;/);
  for (
    const header of [
      /add_header Strict-Transport-Security "max-age=\d+; includeSubDomains" always;/,
      /add_header X-Content-Type-Options "nosniff" always;/,
      /add_header X-Frame-Options "DENY" always;/,
      /add_header Referrer-Policy "same-origin" always;/,
    ]
  ) assert.match(https, header);
  assert.match(https, /proxy_set_header X-Forwarded-For \$remote_addr;/);
  assert.match(https, /proxy_set_header X-Forwarded-Proto \$scheme;/);
  assert.match(location(https, "/"), /proxy_pass http:\/\/busysync;/);
});

Deno.test("nginx: the event stream is passed through unbuffered and kept open", async () => {
  const sse = location(serverBlock(await site(), 443), "/api/sync/events");
  assert.match(sse, /proxy_pass http:\/\/busysync;/);
  assert.match(sse, /proxy_buffering off;/);
  assert.match(sse, /proxy_cache off;/);
  const [, timeout, unit] = sse.match(/proxy_read_timeout (\d+)([smh]);/) ?? [];
  const seconds = Number(timeout) * ({ s: 1, m: 60, h: 3600 }[unit as "s" | "m" | "h"] ?? 0);
  assert.ok(seconds >= 600, "an idle stream is not cut after nginx's default 60 s");
  assert.doesNotMatch(sse, /add_header/, "a location add_header would drop the server's headers");
});

/** A port nothing listens on right now (the system's pick, released at once). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * One HTTP/1.1 request with `target` sent exactly as written (a URL parser would resolve dot
 * segments and re-encode, which is what a probe must not have done for it), over a new socket.
 */
async function rawRequest(port: number, target: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `GET ${target} HTTP/1.1\r\nHost: ${DOMAIN}\r\nConnection: close\r\n\r\n`,
    ),
  );
  const text = await new Response(conn.readable).text();
  return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test({
  name: needing(
    "nginx: /metrics in any spelling is refused before the app, everything else reaches it",
    {
      nginx,
    },
  ),
  ignore: !nginx,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "busysync-nginx-run-" });
    // The app: answers every request with the path it was given, so a probe that got through
    // shows up as a 200 with "app" in its body.
    const app = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => new Response(`app ${new URL(req.url).pathname}`),
    );
    const [httpPort, httpsPort] = [freePort(), freePort()];
    // The site as shipped, on free loopback ports and in front of the stand-in app. Its TLS
    // server is served without TLS here (its certificate still loads): what is tested is which
    // location answers, which TLS does not change, and a client then needs no trust in a
    // throwaway certificate.
    const tls = `${dir}/tls/`;
    await Deno.mkdir(tls);
    await makeCertificate(tls);
    const conf = (await site())
      .replaceAll(LIVE_TLS_DIR, tls)
      .replace(/server 127\.0\.0\.1:8000;/, `server 127.0.0.1:${app.addr.port};`)
      .replace(/^\s+listen \[::\]:\d+.*$/gm, "")
      .replace(/^(\s+)listen 80;$/m, `$1listen 127.0.0.1:${httpPort};`)
      .replace(/^(\s+)listen 443 ssl http2;$/m, `$1listen 127.0.0.1:${httpsPort};`);
    assert.ok(conf.includes(`listen 127.0.0.1:${httpsPort};`), "the TLS server was moved");
    await Deno.writeTextFile(`${dir}/busysync.conf`, conf);
    await writeMainConfig(dir, { foreground: true });
    const child = new Deno.Command(nginx!, {
      args: ["-p", `${dir}/`, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await until("nginx to listen", async () => {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port: httpsPort })).close();
          return true;
        } catch {
          return false;
        }
      });
      for (const path of ["/healthz", "/api/status", "/api/metrics", "/rules/metrics"]) {
        const { status, body } = await rawRequest(httpsPort, path);
        assert.equal(status, 200, path);
        assert.equal(body, `app ${path}`);
      }
      for (
        const probe of [
          "/metrics",
          "/metrics/",
          "/metrics?x=1",
          "/METRICS",
          "/Metrics",
          "//metrics",
          "///metrics",
          "/./metrics",
          "/api/../metrics",
          "/%6detrics",
          "/%6D%65trics",
          "/%2Fmetrics",
          "/metrics%3Fx",
          "/metrics;x",
          "/metrics/../metrics",
          `http://${DOMAIN}/metrics`,
        ]
      ) {
        const { status, body } = await rawRequest(httpsPort, probe);
        assert.equal(status, 404, probe);
        assert.doesNotMatch(body, /^app /, `${probe} reached the app`);
      }
      // The plain-http server only redirects, /metrics included.
      const redirect = await rawRequest(httpPort, "/metrics");
      assert.equal(redirect.status, 301);
    } finally {
      child.kill("SIGTERM");
      const { stderr } = await child.output();
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
      // nginx's own complaints, if any, are the first thing to read when this test fails.
      const complaints = new TextDecoder().decode(stderr).trim();
      if (complaints) console.error(complaints);
    }
  },
});
