/**
 * `log-id VALUE`: the tokens the logs write for a user, or for any id or address (lib/log.ts
 * hashes them under the instance's key, so only this instance can say which token is whose).
 * For a user (by id or sign-in address): their user id, address, connections and calendars,
 * each with what it stands for, so an owner can grep every line about them.
 */
import { listCalendars } from "../db/calendars.ts";
import { listConnections } from "../db/connections.ts";
import { findUserByEmail, getUser } from "../db/users.ts";
import { type IdKind, logIdsFromSecret } from "../log_ids.ts";
import type { CliContext } from "./context.ts";

/** Prints one `token  what it stands for` line per id; exit 0. */
export async function logIdCommand(ctx: CliContext, opts: { value: string }): Promise<number> {
  const ids = logIdsFromSecret((await ctx.secrets()).sessionSecret);
  const line = (kind: IdKind, value: string, what: string) =>
    ctx.print(`${ids.hash(kind, value)}  ${what}`);
  const user = await getUser(ctx.kv, opts.value) ?? await findUserByEmail(ctx.kv, opts.value);
  if (!user) {
    // One value hashes to one hex whatever the field it was logged in.
    const hex = ids.hash("user", opts.value).slice("user:".length);
    ctx.print(`${hex}  ${opts.value}, logged as user:, conn:, cal: or email: (no user has it)`);
    return 0;
  }
  line("user", user.id, `user ${user.id}`);
  line("email", user.email, `${user.email}, the address they sign in with`);
  const connections = await listConnections(ctx.kv, user.id);
  for (const connection of connections) {
    line("conn", connection.id, `connection ${connection.id} to ${connection.email}`);
  }
  for (const calendar of await listCalendars(ctx.kv, user.id)) {
    line("cal", calendar.id, `calendar ${calendar.id}`);
  }
  return 0;
}
