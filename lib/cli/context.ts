/**
 * What every CLI command that works on the data store receives from cli.ts (which builds it):
 * the KV store (migrated, except for the commands that handle the schema themselves), and the
 * secrets and services for the commands that need them. Nothing here is a module-level singleton.
 */
import type { AppSecrets } from "../auth/secrets.ts";
import { findUserByEmail, getUser, type User } from "../db/users.ts";
import type { Services } from "../services.ts";

export interface CliContext {
  kv: Deno.Kv;
  /** Loads (in demo mode: first creates) the instance secrets; only commands that need them. */
  secrets(): Promise<AppSecrets>;
  /** The process's services (needs the secrets); only commands that call Google. */
  services(): Promise<Services>;
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

/** Finds a user by id, or by the email they signed in with. */
export async function findUser(kv: Deno.Kv, idOrEmail: string): Promise<User> {
  const user = await getUser(kv, idOrEmail) ?? await findUserByEmail(kv, idOrEmail);
  if (user) return user;
  throw new UsageError(`no user with id or email ${idOrEmail}`);
}
