import { z } from "zod";
import { parseCidr } from "./net/address_ranges.ts";
import type { OutboundPolicy } from "./net/outbound_fetch.ts";
import { decodeBase64 } from "./encoding.ts";

/** Demo OAuth client the emulator's demo seed registers; only used when no Google client is set. */
export const DEMO_CLIENT = { id: "busysync-demo", secret: "busysync-demo-secret" } as const;

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const percent = z.coerce.number().min(0).max(100);

const emailOrDomain = z.string().trim().toLowerCase().regex(
  /^([^@\s]+@[^@\s]+\.[^@\s]+|@[^@\s]+\.[^@\s]+)$/,
  "expected user@example.com or @example.com",
);

const emailAddress = z.string().trim().toLowerCase().regex(
  /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
  "expected user@example.com (a whole address: owners are people, not domains)",
);

/** Comma-separated list, empty entries dropped. */
const csv = <T extends z.ZodType<unknown, string>>(item: T) =>
  z.string().transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean)).pipe(
    z.array(item),
  );

const base64Key = z.string().refine((s) => decodeBase64Any(s)?.length === 32, {
  message: "each key must be 32 random bytes in base64 (standard or URL-safe)",
});

const httpUrl = z.url({ protocol: /^https?$/ }).transform((s) => s.replace(/\/+$/, ""));

/** The environment variables busysync reads; names and defaults are a documented contract. */
const EnvSchema = z.object({
  PORT: intFrom(0, 65535).default(8000),
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_URL: httpUrl.optional(),
  BUSYSYNC_KV: z.string().min(1).default("./data/busysync.kv"),
  GOOGLE_API_URL: httpUrl.optional(),
  GOOGLE_ISSUER: httpUrl.optional(),
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  BUSYSYNC_ENCRYPTION_KEY: csv(base64Key).pipe(z.array(z.string()).min(1)).optional(),
  BUSYSYNC_SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  BUSYSYNC_ALLOWED_EMAILS: csv(emailOrDomain).optional(),
  BUSYSYNC_ADMIN_EMAILS: csv(emailAddress).optional(),
  BUSYSYNC_SYNC_INTERVAL_MINUTES: intFrom(1, 1440).default(30),
  BUSYSYNC_CALDAV_POLL_MINUTES: intFrom(1, 1440).default(5),
  BUSYSYNC_ICS_POLL_MINUTES: intFrom(1, 1440).default(15),
  BUSYSYNC_RECONCILE_HOURS: intFrom(1, 24 * 30).default(24),
  BUSYSYNC_HISTORY_MAX_RUNS: intFrom(1, 100_000).default(500),
  BUSYSYNC_HISTORY_MAX_DAYS: intFrom(1, 3650).default(30),
  BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE: intFrom(1, 100_000).default(500),
  BUSYSYNC_GOOGLE_CREATES_PER_DAY: intFrom(1, 100_000).default(2000),
  BUSYSYNC_GOOGLE_QUOTA_PAUSE_HOURS: intFrom(1, 168).default(6),
  BUSYSYNC_DELETE_GUARD_PERCENT: percent.default(20),
  BUSYSYNC_DELETE_GUARD_MIN: intFrom(0, 100_000).default(10),
  BUSYSYNC_PUSH: z.enum(["auto", "on", "off"]).default("auto"),
  BUSYSYNC_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  BUSYSYNC_NOTIFY_WEBHOOK_URL: httpUrl.optional(),
  BUSYSYNC_SMTP_URL: z.url({ protocol: /^smtps?$/, error: "expected smtp:// or smtps://" })
    .optional(),
  BUSYSYNC_SMTP_FROM: z.string().trim().min(3).max(200).optional(),
  BUSYSYNC_HTTP_WORKERS: intFrom(0, 32).default(0),
  BUSYSYNC_METRICS_TOKEN: z.string().trim().min(16, "must be at least 16 characters")
    .regex(/^\S+$/, "must not contain spaces").optional(),
  BUSYSYNC_METRICS_ADDRESS: z.string().trim().regex(
    /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/,
    "expected host:port, e.g. 127.0.0.1:9464",
  ).transform((s) => {
    const colon = s.lastIndexOf(":");
    return {
      hostname: s.slice(0, colon).replace(/^\[|\]$/g, ""),
      port: Number(s.slice(colon + 1)),
    };
  }).refine((a) => a.port <= 65535, "the port must be at most 65535").optional(),
  BUSYSYNC_TRUST_PROXY: z.enum(["0", "1"]).default("0").transform((v) => v === "1"),
  BUSYSYNC_OUTBOUND_ALLOW: csv(
    z.string().transform((s, ctx) => {
      const cidr = parseCidr(s);
      if (!cidr) {
        ctx.addIssue({ code: "custom", message: `"${s}" is not an address range like 10.0.0.0/8` });
        return z.NEVER;
      }
      return cidr;
    }),
  ).default([]),
  BUSYSYNC_OUTBOUND_ALLOW_HTTP: z.enum(["0", "1"]).default("0").transform((v) => v === "1"),
  EMULATOR_PORT: intFrom(0, 65535).default(8025),
  EMULATOR_ADMIN: z.enum(["0", "1"]).default("0").transform((v) => v === "1"),
  // Read by Deno itself at start-up (lib/telemetry/tracing.ts); here only to refuse a
  // combination that would export URLs with OAuth codes and calendar ids in them.
  OTEL_DENO: z.string().optional().transform((v) => v?.toLowerCase() === "true"),
  OTEL_TRACES_SAMPLER: z.string().optional(),
  OTEL_PROPAGATORS: z.string().optional(),
});

export type Env = z.input<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  kvPath: string;
  /** True when no Google client is configured: the app runs against the bundled emulator. */
  demo: boolean;
  google: {
    apiUrl: string;
    issuer: string;
    clientId: string;
    clientSecret: string;
  };
  /** Base64 keys; the first encrypts, all decrypt. Undefined only in demo mode until generated. */
  encryptionKeys: string[] | undefined;
  sessionSecret: string | undefined;
  allowedEmails: string[] | undefined;
  /**
   * The instance owners' addresses (lower case): who may open /admin, once they signed in with
   * a Google account that proves the address (lib/auth/owners.ts). Empty: nobody.
   */
  adminEmails: string[];
  syncIntervalMinutes: number;
  /**
   * How often the rules and groups reading a CalDAV calendar are synced (CalDAV has no push).
   * An idle check costs one sync-collection request per calendar.
   */
  caldavPollMinutes: number;
  /**
   * How often the rules and groups reading an ICS feed are synced (feeds have no push). An
   * unchanged feed costs one conditional GET (a 304) per feed.
   */
  icsPollMinutes: number;
  reconcileHours: number;
  historyMaxRuns: number;
  historyMaxDays: number;
  googleRequestsPerMinute: number;
  /**
   * Event creations per Google account per UTC day, and how long writes into an account wait
   * after Google put its calendars in read-only mode (Calendar usage limits: notes §10).
   */
  googleAccountLimits: { createsPerDay: number; pauseHours: number };
  deleteGuard: { percent: number; min: number };
  push: "auto" | "on" | "off";
  logLevel: "debug" | "info" | "warn" | "error";
  /**
   * True when busysync runs behind one reverse proxy that appends the client address to
   * `X-Forwarded-For`; only then is that header believed (rate limits key on the address).
   */
  trustProxy: boolean;
  /**
   * What a fetch of an address a person typed (a CalDAV server) may reach: private ranges only
   * when listed (BUSYSYNC_OUTBOUND_ALLOW), plain http only to those or with
   * BUSYSYNC_OUTBOUND_ALLOW_HTTP.
   */
  outbound: OutboundPolicy;
  /** Extra threads serving HTTP on the same port (lib/server/http_threads.ts); 0: only main. */
  httpWorkers: number;
  /**
   * Where Prometheus scrapes `/metrics`: on the app's port with `Authorization: Bearer <token>`
   * when a token is set, and on a listener of its own (no token) when an address is set.
   * Neither: there is no `/metrics`.
   */
  metrics: { token?: string; address?: { hostname: string; port: number } };
  /** Where incidents are sent besides the dashboard banner (each channel optional). */
  notify: {
    /** A JSON POST per incident (Slack/ntfy-style receivers). */
    webhookUrl?: string;
    /** smtp(s)://user:pass@host:port; e-mail goes to the user's sign-in address. */
    smtpUrl?: string;
    /** The From of those e-mails; default busysync@<PUBLIC_URL's host>. */
    smtpFrom?: string;
  };
  emulator: { port: number; admin: boolean };
  /** OTEL_DENO=true: spans are exported over OTLP (lib/telemetry/tracing.ts). */
  tracing: boolean;
}

/**
 * What Deno's OpenTelemetry must be told with OTEL_DENO=true, so that its own request and fetch
 * spans, which carry whole URLs, are never exported (lib/telemetry/tracing.ts says how).
 */
export const TRACING_ENV = {
  OTEL_TRACES_SAMPLER: "parentbased_always_off",
  OTEL_PROPAGATORS: "none",
} as const;

/** A setting that failed to parse; its message names the variable so start-up can print one line. */
export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`invalid ${variable}: ${detail}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses the environment into a Config. Throws ConfigError naming the first bad variable.
 * Empty strings count as unset, so `FOO=` in an env file falls back to the default.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(
    Object.keys(EnvSchema.shape).map((k) => [k, env[k] === "" ? undefined : env[k]]),
  );
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue.path[0] ?? "environment"), issue.message);
  }
  const e = parsed.data;
  if (Boolean(e.GOOGLE_CLIENT_ID) !== Boolean(e.GOOGLE_CLIENT_SECRET)) {
    throw new ConfigError(
      e.GOOGLE_CLIENT_ID ? "GOOGLE_CLIENT_SECRET" : "GOOGLE_CLIENT_ID",
      "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are set together or not at all",
    );
  }
  if (e.BUSYSYNC_HTTP_WORKERS > 0 && e.BUSYSYNC_KV === ":memory:") {
    throw new ConfigError(
      "BUSYSYNC_HTTP_WORKERS",
      "needs a KV file or URL in BUSYSYNC_KV: a :memory: store is private to one thread",
    );
  }
  if (e.OTEL_DENO) {
    for (const [name, wanted] of Object.entries(TRACING_ENV)) {
      if (e[name as keyof typeof TRACING_ENV] === wanted) continue;
      throw new ConfigError(
        name,
        `must be ${wanted} with OTEL_DENO=true: otherwise Deno exports its own spans of HTTP ` +
          "requests and fetches, whose URLs carry OAuth codes and calendar ids",
      );
    }
  }
  const demo = !e.GOOGLE_CLIENT_ID;
  // Demo mode is the real app pointed at the bundled emulator, which main.ts starts on this port.
  const emulatorUrl = `http://127.0.0.1:${e.EMULATOR_PORT}`;
  if (!demo && !e.BUSYSYNC_ENCRYPTION_KEY) {
    throw new ConfigError(
      "BUSYSYNC_ENCRYPTION_KEY",
      "required with Google credentials; generate one with: " +
        'openssl rand -base64 32  (or: deno eval "console.log(btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))))")',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    kvPath: e.BUSYSYNC_KV,
    demo,
    google: {
      apiUrl: e.GOOGLE_API_URL ?? (demo ? emulatorUrl : "https://www.googleapis.com"),
      issuer: e.GOOGLE_ISSUER ?? (demo ? emulatorUrl : "https://accounts.google.com"),
      clientId: e.GOOGLE_CLIENT_ID ?? DEMO_CLIENT.id,
      clientSecret: e.GOOGLE_CLIENT_SECRET ?? DEMO_CLIENT.secret,
    },
    encryptionKeys: e.BUSYSYNC_ENCRYPTION_KEY,
    sessionSecret: e.BUSYSYNC_SESSION_SECRET,
    allowedEmails: e.BUSYSYNC_ALLOWED_EMAILS,
    adminEmails: e.BUSYSYNC_ADMIN_EMAILS ?? [],
    syncIntervalMinutes: e.BUSYSYNC_SYNC_INTERVAL_MINUTES,
    caldavPollMinutes: e.BUSYSYNC_CALDAV_POLL_MINUTES,
    icsPollMinutes: e.BUSYSYNC_ICS_POLL_MINUTES,
    reconcileHours: e.BUSYSYNC_RECONCILE_HOURS,
    historyMaxRuns: e.BUSYSYNC_HISTORY_MAX_RUNS,
    historyMaxDays: e.BUSYSYNC_HISTORY_MAX_DAYS,
    googleRequestsPerMinute: e.BUSYSYNC_GOOGLE_REQUESTS_PER_MINUTE,
    googleAccountLimits: {
      createsPerDay: e.BUSYSYNC_GOOGLE_CREATES_PER_DAY,
      pauseHours: e.BUSYSYNC_GOOGLE_QUOTA_PAUSE_HOURS,
    },
    deleteGuard: { percent: e.BUSYSYNC_DELETE_GUARD_PERCENT, min: e.BUSYSYNC_DELETE_GUARD_MIN },
    push: e.BUSYSYNC_PUSH,
    logLevel: e.BUSYSYNC_LOG_LEVEL,
    trustProxy: e.BUSYSYNC_TRUST_PROXY,
    outbound: {
      allow: e.BUSYSYNC_OUTBOUND_ALLOW,
      allowHttp: e.BUSYSYNC_OUTBOUND_ALLOW_HTTP,
      maxBytes: 20 * 1024 * 1024,
      timeoutMs: 30_000,
      maxRedirects: 5,
    },
    httpWorkers: e.BUSYSYNC_HTTP_WORKERS,
    metrics: {
      ...(e.BUSYSYNC_METRICS_TOKEN ? { token: e.BUSYSYNC_METRICS_TOKEN } : {}),
      ...(e.BUSYSYNC_METRICS_ADDRESS ? { address: e.BUSYSYNC_METRICS_ADDRESS } : {}),
    },
    notify: {
      webhookUrl: e.BUSYSYNC_NOTIFY_WEBHOOK_URL,
      smtpUrl: e.BUSYSYNC_SMTP_URL,
      smtpFrom: e.BUSYSYNC_SMTP_FROM,
    },
    emulator: { port: e.EMULATOR_PORT, admin: e.EMULATOR_ADMIN },
    tracing: e.OTEL_DENO,
  };
}

/** True when push notifications should be used for this configuration. */
export function pushEnabled(config: Config): boolean {
  if (config.push === "auto") return config.publicUrl.startsWith("https://");
  return config.push === "on";
}

/** Decodes standard or URL-safe base64 (padding optional); undefined when it is not base64. */
export function decodeBase64Any(s: string): Uint8Array | undefined {
  const std = s.trim().replaceAll("-", "+").replaceAll("_", "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std)) return undefined;
  const padded = std.padEnd(Math.ceil(std.length / 4) * 4, "=");
  try {
    return decodeBase64(padded);
  } catch {
    return undefined;
  }
}
