/**
 * Accepts what `Intl` accepts, so a zone stored with a rule or a person's settings also works
 * wherever it is used to show or evaluate times (the server and the browser alike).
 */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
