/**
 * BUSYSYNC_ALLOWED_EMAILS: who may sign in. Entries are whole addresses (`ann@example.com`) or
 * whole domains (`@example.com`, which does not admit subdomains such as `@eu.example.com`: a
 * self-hoster lists those explicitly). No list means anyone with a verified Google email.
 */
export function isEmailAllowed(allowList: readonly string[] | undefined, email: string): boolean {
  if (!allowList?.length) return true;
  const address = email.trim().toLowerCase();
  const domain = address.slice(address.lastIndexOf("@"));
  return allowList.some((entry) => entry === address || entry === domain);
}
