import { createLogContext, type LogFields } from "./log_context.ts";
import { type IdKind, type LogIds, randomLogIds } from "./log_ids.ts";

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * Runs `fn` with `fields` on every line this logger writes meanwhile, however deep in the
   * calls and awaits of `fn` (lib/log_context.ts): whoever was handed the logger is covered.
   */
  within<T>(fields: LogFields, fn: () => T): T;
}

export interface LoggerOptions {
  /**
   * The instance's hashing of ids and addresses (lib/log_ids.ts). Default: a key of this logger
   * alone, so nothing is ever logged in the clear, though its hashes match no other process's.
   */
  ids?: LogIds;
}

/**
 * One JSON line per entry on stderr. Callers pass fields, never secrets: tokens and keys are
 * not logged anywhere (tests/security/log_secrets_test.ts greps a whole run's output), and the
 * serialiser below redacts secret-named keys and strips errors to name, message, stack, cause.
 * Each line written while a request is handled carries its `requestId`, and while a sync job
 * runs its `jobId` and the `runId` of the run (Logger.within); lines of neither (start-up, a
 * cron tick) carry none. Nor does a line name anyone: user, connection and calendar ids and
 * every e-mail address in it, the message included, are written as keyed hashes
 * (`user:3fa2…`), here rather than at the call sites, so that none can forget.
 */
export function createLogger(
  level: LogLevel,
  write = (line: string) => console.error(line),
  options: LoggerOptions = {},
): Logger {
  const ids = options.ids ?? randomLogIds();
  // One per logger, which the composition root builds once and hands to everything.
  const context = createLogContext();
  const emit = (at: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const entry = {
      level: at,
      msg: ids.hashEmails(msg),
      ...serialise({ ...context.fields(), ...fields }, ids),
    };
    write(JSON.stringify({ time: new Date().toISOString(), ...entry }));
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    within: (fields, fn) => context.run(fields, fn),
  };
}

/**
 * Key names whose values are credentials: redacted wherever they appear, as a second line of
 * defence behind "callers never log secrets" (a Google client error carries its request's
 * Authorization header, for one).
 */
const SECRET_KEY = /^(authorization|cookie|set-cookie|password|code_verifier)$|token$|secret$/i;
const MAX_DEPTH = 6;

/**
 * Key names whose string values name someone (a user, an account, a calendar, whose id is
 * often its owner's address): written as the hash of the whole value. Addresses under any other
 * name, and in any text, are caught by their shape.
 */
const ID_KEYS: Record<string, IdKind> = {
  userId: "user",
  connectionId: "conn",
  calendarId: "cal",
  calendar: "cal",
  sourceCalendar: "cal",
  targetCalendar: "cal",
};

function serialise(
  fields: Record<string, unknown> | undefined,
  ids: LogIds,
): Record<string, unknown> {
  if (!fields) return {};
  return clean(fields, 0, new WeakSet(), ids) as Record<string, unknown>;
}

/**
 * A loggable copy of `value`: an error keeps only its name, message, stack and cause (never its
 * other properties: a request config, a response), secret-named keys are redacted, ids and
 * addresses hashed, cycles and very deep structures are cut.
 */
function clean(value: unknown, depth: number, ancestors: WeakSet<object>, ids: LogIds): unknown {
  if (typeof value === "string") return ids.hashEmails(value);
  if (value === null || typeof value !== "object") return value;
  if (ancestors.has(value)) return "[cycle]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (value instanceof Date) return value.toISOString();
  ancestors.add(value);
  const inner = (v: unknown) => clean(v, depth + 1, ancestors, ids);
  let copy: unknown;
  if (value instanceof Error) {
    copy = {
      name: value.name,
      message: inner(value.message),
      stack: inner(value.stack),
      ...(value.cause === undefined ? {} : { cause: inner(value.cause) }),
    };
  } else if (Array.isArray(value)) {
    copy = value.map(inner);
  } else {
    copy = Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (SECRET_KEY.test(k)) return [k, "[redacted]"];
        const kind = Object.hasOwn(ID_KEYS, k) ? ID_KEYS[k] : undefined;
        // A key can be data too (a map by calendar): its addresses are hashed like a value's.
        return [ids.hashEmails(k), kind && typeof v === "string" ? ids.hash(kind, v) : inner(v)];
      }),
    );
  }
  // Only the path from the root counts: the same object twice side by side is no cycle.
  ancestors.delete(value);
  return copy;
}
