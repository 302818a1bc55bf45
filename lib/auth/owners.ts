/**
 * BUSYSYNC_ADMIN_EMAILS: who owns the instance (may open /admin). An owner entry is a whole
 * address, and a sign-in proves it only with a verified email equal to it and, for an address
 * outside Google's consumer domains, the id_token's `hd` equal to its domain: a personal Google
 * account can carry a work address (kept after its owner left the company, say), and only the
 * Workspace account is the company's (Google's OpenID Connect guide says to check `hd`; notes
 * §10). Stricter than the allow-list on purpose: an owner can pause and delete other people's
 * accounts, so a custom-domain address on a personal Google account is refused, and such an
 * owner lists their Gmail address instead.
 *
 * The proof is needed once: the first proving sign-in pins the address to that account's `sub`
 * (lib/db/owners.ts), and afterwards only that account counts for the address.
 */

/** What the verified id_token says about the person signing in. */
export interface OwnerClaims {
  email: string;
  emailVerified: boolean;
  /** The Workspace domain (`hd`), present only for managed accounts. */
  hd?: string;
}

const CONSUMER_DOMAINS = new Set(["gmail.com", "googlemail.com"]);

/**
 * The owner address these claims prove (lower case), or null when they prove none: the email
 * is unverified, not listed, or a domain's address without that domain's `hd`.
 */
export function provenOwnerAddress(
  adminEmails: readonly string[],
  claims: OwnerClaims,
): string | null {
  if (!claims.emailVerified) return null;
  const address = claims.email.trim().toLowerCase();
  if (!adminEmails.includes(address)) return null;
  const domain = address.slice(address.lastIndexOf("@") + 1);
  const hd = claims.hd?.trim().toLowerCase();
  if (CONSUMER_DOMAINS.has(domain)) return hd === undefined ? address : null;
  return hd === domain ? address : null;
}
