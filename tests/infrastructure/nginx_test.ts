import assert from "node:assert/strict";
import { findTool, INFRA, needing, renderTemplate, run } from "../support/infrastructure.ts";

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

Deno.test({
  name: needing("nginx: the rendered site passes nginx -t", { nginx, openssl }),
  ignore: !nginx || !openssl,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "busysync-nginx-" });
    try {
      const tls = `${dir}/tls/`;
      await Deno.mkdir(tls);
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
      const conf = await site();
      assert.ok(conf.includes(LIVE_TLS_DIR), "the site reads its certificate from the live link");
      await Deno.writeTextFile(`${dir}/busysync.conf`, conf.replaceAll(LIVE_TLS_DIR, tls));
      // A minimal main config in place of Debian's nginx.conf, with every path in the temp dir
      // so the check needs no root and leaves nothing behind.
      await Deno.writeTextFile(
        `${dir}/nginx.conf`,
        `pid ${dir}/nginx.pid;
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
