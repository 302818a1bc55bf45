/**
 * What every CLI command that works on the data store shares: the parsed config, the KV store
 * with pending migrations applied, and the resolved secrets. Commands receive it; nothing here
 * is a module-level singleton.
 */
import { type AppSecrets, loadSecrets } from "../auth/secrets.ts";
import { type Config, loadConfig } from "../config.ts";
import { findUserByEmail, getUser, type User } from "../db/users.ts";
import { openKv } from "../db/kv.ts";
import { MIGRATIONS, runMigrations } from "../db/migrations.ts";
import { createLogger, type Logger } from "../log.ts";

export interface CliContext {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  /** Loads (in demo mode: first creates) the instance secrets; only commands that need them. */
  secrets(): Promise<AppSecrets>;
  /** Where command output goes (stdout); errors go to the logger / stderr. */
  print(line: string): void;
}

/** A command's wrong usage or a missing record: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Opens the store for a command and closes it when `fn` is done. */
export async function withStore<T>(
  env: Record<string, string | undefined>,
  fn: (ctx: CliContext) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  const config = loadConfig(env);
  const kv = await openKv(config.kvPath);
  try {
    if (options.migrate ?? true) await runMigrations(kv, MIGRATIONS);
    return await fn({
      config,
      kv,
      log: createLogger(config.logLevel),
      secrets: () => loadSecrets(kv, config),
      print: (line) => console.log(line),
    });
  } finally {
    kv.close();
  }
}

/** Finds a user by id, or by the email they signed in with. */
export async function findUser(kv: Deno.Kv, idOrEmail: string): Promise<User> {
  const user = await getUser(kv, idOrEmail) ?? await findUserByEmail(kv, idOrEmail);
  if (user) return user;
  throw new UsageError(`no user with id or email ${idOrEmail}`);
}
