/**
 * Owner pins: each address of BUSYSYNC_ADMIN_EMAILS belongs to the Google account that first
 * proved it at sign-in (lib/auth/owners.ts). Google lets an address move to another account (a
 * renamed Gmail, a Workspace address reassigned to a new employee); the pin keeps the owner's
 * powers with the account the operator first signed in with. Removing the address from the
 * list removes the powers; the pin stays, so listing the address again restores the same
 * account, never whoever holds the address by then. `busysync` has no command to move a pin:
 * an operator who must, deletes the key `["owner_pins", address]` (README, "The owner's page").
 */
import { z } from "zod";
import { commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

const OwnerPinSchema = z.object({
  v: z.literal(1),
  address: z.string(),
  issuer: z.string(),
  sub: z.string(),
  pinnedAt: z.string(),
});
export type OwnerPin = z.infer<typeof OwnerPinSchema>;

/**
 * Pins `address` to (issuer, sub) unless it is pinned already, and says whether that account is
 * the pinned one now: true for the first account and for it again later, false for any other.
 * A check(null) create, so two first sign-ins racing agree on one account.
 */
export async function pinOwner(
  kv: Deno.Kv,
  input: { address: string; issuer: string; sub: string; now: Date },
): Promise<{ owner: boolean; pin: OwnerPin }> {
  const key = keys.ownerPin(input.address);
  const res = await commitWithRetry<OwnerPin>(async () => {
    const entry = await kv.get(key);
    if (entry.value !== null) return null;
    const pin: OwnerPin = {
      v: 1,
      address: input.address,
      issuer: input.issuer,
      sub: input.sub,
      pinnedAt: input.now.toISOString(),
    };
    return { op: kv.atomic().check(entry).set(key, pin), result: pin };
  });
  const pin = res?.result ?? await getOwnerPin(kv, input.address);
  if (!pin) throw new Error(`owner pin of ${input.address} vanished while it was read`);
  return { owner: pin.issuer === input.issuer && pin.sub === input.sub, pin };
}

/** The pin of `address` (lower case), or null when no account has proved it yet. */
export async function getOwnerPin(kv: Deno.Kv, address: string): Promise<OwnerPin | null> {
  const entry = await kv.get(keys.ownerPin(address));
  return entry.value === null ? null : OwnerPinSchema.parse(entry.value);
}
