/**
 * Real CalDAV servers for tests: Radicale (its own htpasswd auth, a read-only share bob →
 * alice/shared) and Xandikos (no auth of its own in 0.2.8, so behind nginx doing Basic auth), each
 * on a free loopback port with its storage in a fresh temp folder, so `deno test --parallel` can
 * run several at once. Set-ups as measured in shared/docs/caldav.md §1.
 *
 * Each server runs in its own process group (started through `setsid`) and `close()` kills the
 * whole group, so no Python worker or nginx child outlives the test; use `await using`.
 */
import { findTool } from "./infrastructure.ts";
import { until } from "./poll.ts";

/** A user of a test server (HTTP Basic). */
export interface CalDavUser {
  username: string;
  password: string;
}

/** A running test server: where it answers, who may sign in, and how to stop it. */
export interface CalDavTestServer extends AsyncDisposable {
  name: "radicale" | "xandikos";
  /** The server root (`http://127.0.0.1:<port>/`), which discovery starts from. */
  baseUrl: string;
  alice: CalDavUser;
  /** Radicale only: a second user who may read alice/shared and nothing else of alice's. */
  bob?: CalDavUser;
  /** The calendar home of alice, where tests make their calendars. */
  aliceHome: string;
  /** Milliseconds from spawning the processes to the first authenticated answer. */
  startupMs: number;
  close(): Promise<void>;
}

const PYTHON = "/usr/bin/python3"; // Debian's interpreter: the one with the radicale package
const tools = {
  setsid: findTool("setsid"),
  htpasswd: findTool("htpasswd"),
  xandikos: findTool("xandikos"),
  nginx: findTool("nginx"),
  radicale: exists("/usr/lib/python3/dist-packages/radicale") ? PYTHON : undefined,
};

/** The tools each server needs, for `needing()` and `ignore:` (undefined = missing). */
export const RADICALE_TOOLS = {
  setsid: tools.setsid,
  htpasswd: tools.htpasswd,
  radicale: tools.radicale,
};
export const XANDIKOS_TOOLS = {
  setsid: tools.setsid,
  htpasswd: tools.htpasswd,
  xandikos: tools.xandikos,
  nginx: tools.nginx,
};

/**
 * Whether a test needing `tools` is skipped here: only when one is missing and the run does not
 * require them (.ci/run sets BUSYSYNC_REQUIRE_TOOLS=1, and then the test fails instead).
 */
export function toolsMissing(needed: Record<string, string | undefined>): boolean {
  const required = Deno.env.get("BUSYSYNC_REQUIRE_TOOLS") === "1";
  return !required && Object.values(needed).some((path) => !path);
}

const ALICE: CalDavUser = { username: "alice", password: "alicepw" };
const BOB: CalDavUser = { username: "bob", password: "bobpw" };

/** Starts Radicale with alice and bob; resolves once it answers alice. */
export async function startRadicale(): Promise<CalDavTestServer> {
  need(RADICALE_TOOLS);
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "busysync-radicale-" });
  await Deno.mkdir(`${dir}/collections`);
  await writeHtpasswd(`${dir}/users`, [ALICE, BOB]);
  await Deno.writeTextFile(
    `${dir}/rights`,
    `[root]
user: .+
collection:
permissions: R
[principal]
user: .+
collection: {user}
permissions: RW
[calendars]
user: .+
collection: {user}/[^/]+
permissions: rw
[bob-reads-alice-shared]
user: bob
collection: alice/shared
permissions: r
`,
  );
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/config`,
    `[server]
hosts = 127.0.0.1:${port}
[auth]
type = htpasswd
htpasswd_filename = ${dir}/users
htpasswd_encryption = bcrypt
# no delay after a wrong password: the auth tests would otherwise wait for it
delay = 0
[rights]
type = from_file
file = ${dir}/rights
[storage]
filesystem_folder = ${dir}/collections
[logging]
level = warning
`,
  );
  const group = spawnGroup(PYTHON, ["-m", "radicale", "--config", `${dir}/config`], `${dir}/log`);
  const baseUrl = `http://127.0.0.1:${port}/`;
  const server = await ready("radicale", baseUrl, [group], dir, started);
  return { ...server, bob: BOB, aliceHome: `${baseUrl}alice/` };
}

/** Starts Xandikos (on a unix socket) behind nginx with Basic auth for alice. */
export async function startXandikos(): Promise<CalDavTestServer> {
  need(XANDIKOS_TOOLS);
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "busysync-xandikos-" });
  await Deno.mkdir(`${dir}/data`);
  await Deno.mkdir(`${dir}/nginx-tmp`);
  await writeHtpasswd(`${dir}/htpasswd`, [ALICE]);
  const port = freePort();
  // A unix socket between nginx and Xandikos leaves one port to pick, so one race fewer.
  const socket = `${dir}/xandikos.sock`;
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `worker_processes 1; daemon off; master_process off; pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-tmp/body; proxy_temp_path ${dir}/nginx-tmp/proxy;
  fastcgi_temp_path ${dir}/nginx-tmp/fastcgi; uwsgi_temp_path ${dir}/nginx-tmp/uwsgi;
  scgi_temp_path ${dir}/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:${port}; client_max_body_size 10m;
    auth_basic "xandikos"; auth_basic_user_file ${dir}/htpasswd;
    location / { proxy_pass http://unix:${socket}:; proxy_set_header Host $http_host;
                 proxy_buffering off; }
  }
}
`,
  );
  const xandikos = spawnGroup(tools.xandikos!, [
    "-d",
    `${dir}/data`,
    "-l",
    socket,
    "--current-user-principal",
    "/alice/",
    "--defaults",
  ], `${dir}/xandikos.log`);
  const nginx = spawnGroup(
    tools.nginx!,
    ["-c", `${dir}/nginx.conf`, "-p", `${dir}/`, "-e", `${dir}/nginx-error.log`],
    `${dir}/nginx.out`,
  );
  const baseUrl = `http://127.0.0.1:${port}/`;
  const server = await ready("xandikos", baseUrl, [xandikos, nginx], dir, started);
  return { ...server, aliceHome: `${baseUrl}alice/calendars/` };
}

/**
 * Makes a calendar collection `name` under `home` with MKCALENDAR (VEVENT only, a display name
 * and a colour; Xandikos keeps neither the colour nor the component set) and returns its URL.
 */
export async function makeCalendar(
  home: string,
  user: CalDavUser,
  name: string,
  opts: { displayName?: string; color?: string } = {},
): Promise<string> {
  const url = new URL(`${encodeURIComponent(name)}/`, home).href;
  const response = await fetch(url, {
    method: "MKCALENDAR",
    headers: { authorization: basic(user), "content-type": "application/xml; charset=utf-8" },
    body: `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"
    xmlns:A="http://apple.com/ns/ical/">
  <D:set><D:prop>
    <D:displayname>${opts.displayName ?? name}</D:displayname>
    <A:calendar-color>${opts.color ?? "#3366CC"}</A:calendar-color>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>`,
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`MKCALENDAR ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return url;
}

/** The Authorization header for a user. */
export function basic(user: CalDavUser): string {
  return `Basic ${btoa(`${user.username}:${user.password}`)}`;
}

function need(needed: Record<string, string | undefined>): void {
  const missing = Object.entries(needed).filter(([, path]) => !path).map(([name]) => name);
  if (missing.length) {
    throw new Error(`CalDAV test servers need ${missing.join(", ")}: see .ci/run's apt packages`);
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * bcrypt at cost 4, the lowest: Radicale checks the hash on every request, and the tests make
 * hundreds.
 */
async function writeHtpasswd(path: string, users: CalDavUser[]): Promise<void> {
  let first = true;
  for (const user of users) {
    const flags = first ? ["-c"] : [];
    first = false;
    const out = await new Deno.Command(tools.htpasswd!, {
      args: ["-B", "-C", "4", "-b", ...flags, path, user.username, user.password],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`htpasswd failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * A loopback port that was free a moment ago. The server binds it a few ms later: another test
 * could take it in between, which then fails that start loudly rather than silently sharing.
 */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

interface Group {
  pid: number;
  status: Promise<Deno.CommandStatus>;
  log: string;
}

/**
 * Spawns `cmd` as the leader of a new session and process group (`setsid` execs it in place,
 * since a child of Deno is no group leader; so does the shell that points its output at `log`),
 * stdin closed.
 */
function spawnGroup(cmd: string, args: string[], log: string): Group {
  const child = new Deno.Command(tools.setsid!, {
    args: ["/bin/sh", "-c", 'exec "$@" >"$LOG" 2>&1', "sh", cmd, ...args],
    env: { LOG: log },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return { pid: child.pid, status: child.status, log };
}

/** Waits until `baseUrl` answers alice (or a process dies), and builds the handle. */
async function ready(
  name: CalDavTestServer["name"],
  baseUrl: string,
  groups: Group[],
  dir: string,
  started: number,
): Promise<Omit<CalDavTestServer, "aliceHome">> {
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const group of groups) {
      try {
        Deno.kill(-group.pid, "SIGTERM");
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e; // the group is gone already
      }
    }
    await Promise.all(groups.map((g) => g.status));
    await Deno.remove(dir, { recursive: true });
  };
  let exited: string | undefined;
  for (const group of groups) {
    group.status.then(async (s) => {
      if (!closed) exited = `${group.log} (code ${s.code}): ${await tail(group.log)}`;
    });
  }
  try {
    await until(
      `${name} to answer at ${baseUrl}`,
      async () => {
        if (exited) throw new Error(`${name} exited before it was ready: ${exited}`);
        try {
          const response = await fetch(baseUrl, {
            method: "PROPFIND",
            headers: { authorization: basic(ALICE), depth: "0" },
          });
          await response.body?.cancel();
          return response.status === 207;
        } catch (e) {
          if (e instanceof TypeError) return false; // connection refused: not listening yet
          throw e;
        }
      },
      15_000,
      20,
    );
  } catch (e) {
    await close();
    throw e;
  }
  return {
    name,
    baseUrl,
    alice: ALICE,
    startupMs: Math.round(performance.now() - started),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function tail(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).slice(-2000);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "(no log)"; // it died before the shell ran
    throw e;
  }
}

/** Both servers, for tests that run the same steps on each. */
export const CALDAV_TEST_SERVERS = [
  { name: "radicale", start: startRadicale, tools: RADICALE_TOOLS },
  { name: "xandikos", start: startXandikos, tools: XANDIKOS_TOOLS },
] as const;
