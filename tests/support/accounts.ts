/**
 * An app wired to a real emulator over HTTP and a real KV file, plus a cookie-carrying client
 * that walks the OAuth redirects by hand. Nothing is stubbed: every Google call goes through
 * google-auth-library / @googleapis/calendar to the emulator.
 */
import assert from "node:assert/strict";
import type { createApp } from "../../app.ts";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import type { Seed } from "../../emulator/seed.ts";
import type { Keyring } from "../../lib/auth/crypto.ts";
import { type AppSecrets, loadSecrets } from "../../lib/auth/secrets.ts";
import { type Config, loadConfig } from "../../lib/config.ts";
import { getConnectionEntry } from "../../lib/db/connections.ts";
import { openKv } from "../../lib/db/kv.ts";
import { randomKeyBase64 } from "../../lib/db/settings.ts";
import { createGoogleOAuth } from "../../lib/google/oauth.ts";
import { openAccessToken, openRefreshToken } from "../../lib/auth/connection_secrets.ts";
import { createTokenSource, type TokenSource } from "../../lib/google/token_source.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import type { Scheduler, SchedulerOptions } from "../../lib/scheduler/scheduler.ts";
import { loadManifest } from "../../lib/web/static_files.ts";
import { buildServerStack } from "../../server_stack.ts";
import { tempKvPath } from "./temp_kv.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

export const PUBLIC_URL = "http://busysync.test";
/** The same instance as if served over https (pass it as PUBLIC_URL). */
export const HTTPS_URL = "https://busysync.test";
export const CLIENT = { clientId: "busysync-test", clientSecret: "busysync-test-secret" };

/** Ann has a personal and a work account, Bob one account, Eve is outside any allow-list. */
export const ANN = "ann@example.com";
export const ANN_WORK = "ann@work.example.com";
export const BOB = "bob@example.org";
export const BOB_WORK = "bob@work.example.com";
export const EVE = "eve@outside.example";

export const SEED: Seed = {
  clients: [{
    ...CLIENT,
    redirectUris: [`${PUBLIC_URL}/api/auth/callback`, `${HTTPS_URL}/api/auth/callback`],
  }],
  users: [
    {
      email: ANN,
      name: "Ann Example",
      calendars: [
        { id: ANN, summary: "Ann", timeZone: "Europe/Berlin", primary: true },
        {
          id: "family@group.example",
          summary: "Family",
          timeZone: "Europe/Berlin",
          accessRole: "reader",
        },
      ],
    },
    {
      email: ANN_WORK,
      name: "Ann at Work",
      hd: "work.example.com",
      calendars: [
        { id: ANN_WORK, summary: "Ann (work)", timeZone: "Europe/London", primary: true },
        {
          id: "team@work.example.com",
          summary: "Team",
          timeZone: "Europe/London",
          accessRole: "writer",
          colorId: "17",
        },
      ],
    },
    {
      email: BOB,
      name: "Bob Example",
      calendars: [{ id: BOB, summary: "Bob", timeZone: "America/New_York", primary: true }],
    },
    {
      email: BOB_WORK,
      name: "Bob at Work",
      hd: "work.example.com",
      calendars: [{ id: BOB_WORK, summary: "Bob (work)", timeZone: "UTC", primary: true }],
    },
    {
      email: EVE,
      name: "Eve Outside",
      calendars: [{ id: EVE, summary: "Eve", timeZone: "UTC", primary: true }],
    },
  ],
};

export interface Clock {
  now: () => Date;
  advance(ms: number): void;
}

export interface Harness {
  app: ReturnType<typeof createApp>;
  kv: Deno.Kv;
  kvPath: string;
  config: Config;
  secrets: AppSecrets;
  clock: Clock;
  emulator: RunningEmulator;
  /** The scheduler behind `syncRequests`; its worker runs (no cron: tests call `tick`). */
  scheduler: Scheduler;
  /** Set with `serve`: where the app listens over real HTTP (push notifications reach it). */
  url?: string;
  /** Calls the emulator's admin API (`/__emulator/<path>`). */
  admin(path: string, body?: unknown, method?: string): Promise<unknown>;
  /** A browser-like client with its own cookie jar and client address. */
  client(address?: string): TestClient;
  /** A token source as the sync engine builds one, optionally with another keyring. */
  tokenSource(keyring?: Keyring): TokenSource;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Also serve the app over HTTP on a free port; push channels then point at it. */
  serve?: boolean;
  scheduler?: Partial<SchedulerOptions>;
  /** Start the scheduler's worker (default true); false leaves jobs to other processes. */
  worker?: boolean;
  /** A clock that follows real time (plus `advance`), for tests with other processes. */
  realTime?: boolean;
  /** The app's and the scheduler's logger (default: errors only, discarded). */
  log?: Logger;
}

/** Starts the emulator and an app on a temp KV file; `env` adds or overrides settings. */
export async function startHarness(
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const emulator = startEmulator({ port: 0, admin: true, seed: SEED });
  const temp = await tempKvPath();
  const kv = await openKv(temp.path);
  // Each reading moves the clock on by 1 ms, as real time would between two writes: ids made
  // from it (ULIDs) then sort in creation order.
  const t0 = Date.now();
  let t = t0;
  const clock: Clock = options.realTime
    ? { now: () => new Date(Date.now() + (t - t0)), advance: (ms) => t += ms }
    : { now: () => new Date(t++), advance: (ms) => t += ms };
  const config = loadConfig({
    PUBLIC_URL,
    GOOGLE_CLIENT_ID: CLIENT.clientId,
    GOOGLE_CLIENT_SECRET: CLIENT.clientSecret,
    GOOGLE_ISSUER: emulator.url,
    GOOGLE_API_URL: emulator.url,
    BUSYSYNC_ENCRYPTION_KEY: randomKeyBase64(),
    BUSYSYNC_KV: temp.path,
    ...env,
  });
  const secrets = await loadSecrets(kv, config);
  const log = options.log ?? createLogger("error", () => {});
  const built: { app?: ReturnType<typeof createApp> } = {};
  const server = options.serve
    ? Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      // As a reverse proxy for PUBLIC_URL's host would pass it on (nginx: `Host $host`), so
      // the app, which sends pages at other hosts to PUBLIC_URL, serves them here.
      (r, i) => {
        const url = new URL(r.url);
        const at = new URL(`${url.pathname}${url.search}`, config.publicUrl);
        return built.app!.fetch(new Request(at, r), i);
      },
    )
    : undefined;
  const url = server && `http://127.0.0.1:${server.addr.port}`;
  // Built as main.ts builds it, so tests see the production assembly (one set of services).
  const { app, scheduler } = buildServerStack({
    config,
    kv,
    log,
    manifest: await loadManifest(ROOT),
    secrets,
    root: ROOT,
    now: clock.now,
    schedulerOptions: {
      ...(url ? { webhookUrl: `${url}/api/webhooks/google` } : {}),
      ...options.scheduler,
    },
  });
  built.app = app;
  if (options.worker ?? true) scheduler.start();
  const harness: Harness = {
    app,
    kv,
    kvPath: temp.path,
    config,
    secrets,
    clock,
    emulator,
    scheduler,
    url,
    async admin(path, body, method = "POST") {
      const res = await fetch(`${emulator.url}/__emulator/${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    client: (address = "192.0.2.1") => new TestClient(harness, address),
    tokenSource: (keyring = secrets.keyring) =>
      createTokenSource({
        kv,
        keyring,
        oauth: createGoogleOAuth({
          issuer: config.google.issuer,
          clientId: config.google.clientId,
          clientSecret: config.google.clientSecret,
          redirectUri: `${config.publicUrl}/api/auth/callback`,
          now: clock.now,
        }),
        now: clock.now,
      }),
    async close() {
      await scheduler.stop();
      await server?.shutdown();
      kv.close();
      await emulator.close();
      await temp.cleanup();
    },
  };
  return harness;
}

/** Runs `fn` with a fresh harness (see startHarness) and closes it afterwards, thrown or not. */
export async function withHarness(
  fn: (h: Harness) => Promise<void>,
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<void> {
  const h = await startHarness(env, options);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/**
 * Sends requests to the app in-process as a browser would: with its cookies, an Origin header
 * on unsafe methods (override with `origin: null`), and its client address.
 */
export class TestClient {
  readonly cookies = new Map<string, string>();

  constructor(private readonly h: Harness, readonly address: string) {}

  async request(
    path: string,
    init: RequestInit & { origin?: string | null; json?: unknown } = {},
  ): Promise<Response> {
    const { origin, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    const method = (rest.method ?? "GET").toUpperCase();
    const site = this.h.config.publicUrl;
    if (!["GET", "HEAD"].includes(method) && origin !== null && !headers.has("origin")) {
      headers.set("origin", origin ?? site);
    }
    if (this.cookies.size && !headers.has("cookie")) {
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    let body = rest.body;
    if (json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(json);
    }
    const res = await this.h.app.request(`${site}${path}`, { ...rest, headers, body }, {
      remoteAddr: { hostname: this.address, port: 40000, transport: "tcp" },
    });
    this.#store(res);
    return res;
  }

  /**
   * Signs in as `email` through the emulator (login_hint stands in for picking the account), as
   * a browser that signed in to busysync before (sign-in scopes only); `firstTime: true` is a
   * new person's first sign-in, which also connects the account's calendars.
   */
  async signIn(
    email: string,
    next?: string,
    options: { firstTime?: boolean } = {},
  ): Promise<Response> {
    if (!options.firstTime) this.markReturning();
    const query = next === undefined ? "" : `?${new URLSearchParams({ next })}`;
    const login = await this.request(`/api/auth/login${query}`);
    if (login.status !== 302) throw new Error(`login answered ${login.status}`);
    return await this.#completeAtGoogle(login.headers.get("location")!, email);
  }

  /** Makes this browser one someone signed in with before (busysync's `busysync_known` cookie). */
  markReturning(): void {
    const secure = this.h.config.publicUrl.startsWith("https://");
    this.cookies.set(`${secure ? "__Host-" : ""}busysync_known`, "1");
  }

  /** Connects the Google account `email` to the signed-in user. */
  async connect(email: string): Promise<Response> {
    const start = await this.request("/api/user/calendars/connect", { method: "POST", json: {} });
    if (start.status !== 200) throw new Error(`connect answered ${start.status}`);
    const { url } = await start.json();
    return await this.#completeAtGoogle(url, email);
  }

  /**
   * Visits Google's authorization URL as `email` and returns where Google sends the browser
   * back to, without following it.
   */
  async authorizeAtGoogle(authUrl: string, email: string): Promise<URL> {
    const url = new URL(authUrl);
    url.searchParams.set("login_hint", email);
    const res = await fetch(url, { redirect: "manual" });
    await res.body?.cancel();
    if (res.status !== 302) throw new Error(`authorization answered ${res.status}`);
    return new URL(res.headers.get("location")!);
  }

  async #completeAtGoogle(authUrl: string, email: string): Promise<Response> {
    const back = await this.authorizeAtGoogle(authUrl, email);
    return await this.request(`${back.pathname}${back.search}`);
  }

  /** The connections of the signed-in user as the API lists them. */
  async connections(): Promise<{ id: string; email: string; status: string }[]> {
    const res = await this.request("/api/user/connections");
    if (res.status !== 200) throw new Error(`connections answered ${res.status}`);
    return (await res.json()).items;
  }

  #store(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attrs.some((a) => /^max-age=0$/i.test(a)) ||
        attrs.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now());
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** A connection as stored, with its tokens decrypted. */
export async function storedTokens(h: Harness, userId: string, connectionId: string) {
  const entry = await getConnectionEntry(h.kv, userId, connectionId);
  assert.ok(entry);
  const { tokens } = entry.connection;
  assert.ok(tokens, "the connection keeps tokens");
  const ref = { userId, connectionId };
  return {
    connection: entry.connection,
    refresh: await openRefreshToken(h.secrets.keyring, ref, tokens),
    access: await openAccessToken(h.secrets.keyring, ref, tokens),
  };
}

/** Asks the emulator's token endpoint directly whether a refresh token still works. */
export async function refreshWorks(h: Harness, refreshToken: string): Promise<boolean> {
  const res = await fetch(`${h.emulator.url}/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    }),
  });
  await res.body?.cancel();
  return res.ok;
}

/** Every key and value of the KV file as text, for "no token in plain text" checks. */
export async function dumpKv(path: string): Promise<string> {
  const kv = await Deno.openKv(path);
  try {
    const parts: string[] = [];
    for await (const entry of kv.list({ prefix: [] })) {
      parts.push(JSON.stringify(entry.key), describe(entry.value));
    }
    return parts.join("\n");
  } finally {
    kv.close();
  }
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);
}
