/**
 * What every log line written within a scope carries, whoever writes it: the request id while a
 * request is handled, the job and run ids while a sync job runs. Held in an AsyncLocalStorage,
 * so it follows the awaits, timers and promises started in the scope, and no function between
 * the scope and a log call has to pass a logger or an id along.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export type LogFields = Readonly<Record<string, string>>;

export interface LogContext {
  /** Runs `fn` with `fields` added to those of the enclosing scope (an inner one wins). */
  run<T>(fields: LogFields, fn: () => T): T;
  /** The fields of the current scope; none outside every scope (start-up, a cron tick). */
  fields(): LogFields;
}

/**
 * A context of its own: each logger holds one (lib/log.ts), so the scopes a logger opens are seen
 * by every line it writes, and by no other logger's.
 */
export function createLogContext(): LogContext {
  const storage = new AsyncLocalStorage<LogFields>();
  return {
    run: (fields, fn) => storage.run({ ...storage.getStore(), ...fields }, fn),
    fields: () => storage.getStore() ?? {},
  };
}
