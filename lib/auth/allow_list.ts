/**
 * BUSYSYNC_ALLOWED_EMAILS: who may sign in. Entries are whole addresses (`ann@example.com`) or
 * whole domains (`@example.com`, which does not admit subdomains such as `@eu.example.com`: a
 * self-hoster lists those explicitly). No list means anyone with a verified Google email.
 *
 * A domain entry admits the Workspace accounts of that domain, known by the id_token's `hd`:
 * a verified address at the domain alone is no proof, since a personal Google account can carry
 * a work address (kept after its owner left, say). Google's OpenID Connect guide says to check
 * `hd` when restricting to a domain (notes §10). `@gmail.com` and `@googlemail.com` are
 * consumer domains with no `hd`, so for them, as for whole addresses, the verified email counts.
 */

/** Who the verified id_token says the person is. */
export interface SignInIdentity {
  /** The verified email address. */
  email: string;
  /** The Workspace domain (`hd`), if the account is a managed one. */
  hd?: string;
}

const CONSUMER_DOMAINS = new Set(["@gmail.com", "@googlemail.com"]);

export function isEmailAllowed(
  allowList: readonly string[] | undefined,
  identity: SignInIdentity,
): boolean {
  if (!allowList?.length) return true;
  const address = identity.email.trim().toLowerCase();
  const domain = address.slice(address.lastIndexOf("@"));
  const hosted = identity.hd && `@${identity.hd.trim().toLowerCase()}`;
  return allowList.some((entry) => {
    if (!entry.startsWith("@")) return entry === address;
    return CONSUMER_DOMAINS.has(entry) ? entry === domain : entry === hosted;
  });
}
