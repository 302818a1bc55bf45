/**
 * The guard of the owner's page and its API: only an instance owner passes. Everyone else, signed
 * in or not, gets the very answer an unknown path gets (404, not 403), so the page's existence
 * tells a visitor nothing. An owner is a signed-in user whose address is in
 * BUSYSYNC_ADMIN_EMAILS and whose Google account is the one that address is pinned to
 * (lib/db/owners.ts, pinned at the first sign-in that proved it: lib/auth/owners.ts).
 */
import type { MiddlewareHandler } from "hono";
import { getOwnerPin } from "../db/owners.ts";
import { getUser } from "../db/users.ts";
import type { AuthVariables } from "./auth_middleware.ts";
import { unknownPathError } from "./errors.ts";

export interface OwnerGuardOptions {
  kv: Deno.Kv;
  /** BUSYSYNC_ADMIN_EMAILS, lower case. */
  adminEmails: readonly string[];
}

/** True when the user is an owner now (listed address, pinned to their Google account). */
export async function isOwner(
  kv: Deno.Kv,
  adminEmails: readonly string[],
  userId: string,
): Promise<boolean> {
  // The record, not the session's copy: the pin names the Google account (issuer, sub).
  const user = await getUser(kv, userId);
  if (!user) return false;
  const address = user.email.toLowerCase();
  if (!adminEmails.includes(address)) return false;
  const pin = await getOwnerPin(kv, address);
  return pin !== null && pin.issuer === user.issuer && pin.sub === user.sub;
}

/** Passes owners on; answers everyone else as an unknown path. */
export function requireOwner(
  options: OwnerGuardOptions,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function owner(c, next) {
    const user = c.var.user;
    if (!user || !(await isOwner(options.kv, options.adminEmails, user.id))) {
      throw unknownPathError(c.req.path);
    }
    await next();
  };
}
