/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * One JSON line per entry on stderr. Callers pass fields, never secrets: tokens and keys are
 * not logged anywhere (tests/security/log_secrets_test.ts greps a whole run's output), and the
 * serialiser below redacts secret-named keys and strips errors to name, message, stack, cause.
 */
export function createLogger(
  level: LogLevel,
  write = (line: string) => console.error(line),
): Logger {
  const emit = (at: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...serialise(fields) }));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/**
 * Key names whose values are credentials: redacted wherever they appear, as a second line of
 * defence behind "callers never log secrets" (a Google client error carries its request's
 * Authorization header, for one).
 */
const SECRET_KEY = /^(authorization|cookie|set-cookie|password|code_verifier)$|token$|secret$/i;
const MAX_DEPTH = 6;

function serialise(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields) return {};
  return clean(fields, 0, new WeakSet()) as Record<string, unknown>;
}

/**
 * A loggable copy of `value`: an error keeps only its name, message, stack and cause (never its
 * other properties: a request config, a response), secret-named keys are redacted, cycles and
 * very deep structures are cut.
 */
function clean(value: unknown, depth: number, ancestors: WeakSet<object>): unknown {
  if (value === null || typeof value !== "object") return value;
  if (ancestors.has(value)) return "[cycle]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (value instanceof Date) return value.toISOString();
  ancestors.add(value);
  const inner = (v: unknown) => clean(v, depth + 1, ancestors);
  let copy: unknown;
  if (value instanceof Error) {
    copy = {
      name: value.name,
      message: value.message,
      stack: value.stack,
      ...(value.cause === undefined ? {} : { cause: inner(value.cause) }),
    };
  } else if (Array.isArray(value)) {
    copy = value.map(inner);
  } else {
    copy = Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? "[redacted]" : inner(v)]),
    );
  }
  // Only the path from the root counts: the same object twice side by side is no cycle.
  ancestors.delete(value);
  return copy;
}
