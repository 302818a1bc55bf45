/**
 * What every CLI command that works on the data store receives from cli.ts (which builds it):
 * the KV store (migrated, except for the commands that handle the schema themselves), and the
 * secrets and services for the commands that need them. Nothing here is a module-level singleton.
 * It has what the rule use cases need (lib/rules/save.ts), so commands pass it to them as it is.
 */
import type { AccountDeps } from "../accounts/deps.ts";
import type { AppSecrets } from "../auth/secrets.ts";
import { findUserByEmail, getUser, type User } from "../db/users.ts";
import type { Services } from "../services.ts";
import type { SyncRequests } from "../sync/requests.ts";

export interface CliContext {
  kv: Deno.Kv;
  /** Loads (in demo mode: first creates) the instance secrets; only commands that need them. */
  secrets(): Promise<AppSecrets>;
  /** The process's services (needs the secrets); only commands that call Google. */
  services(): Promise<Services>;
  /**
   * What the account use cases need (lib/accounts/lifecycle.ts), from the same services. No push
   * channels: the CLI runs no scheduler, so a deleted user's channels end at their expiry.
   */
  accountDeps(): Promise<AccountDeps>;
  /**
   * Where a command asks for a sync: a job in the KV job table, which the worker of a running
   * server claims (the CLI runs none; the job waits for one).
   */
  syncRequests: Pick<SyncRequests, "request">;
  now: () => Date;
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
