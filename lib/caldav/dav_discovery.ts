/**
 * From a server address to the account's calendar home (RFC 6764 §5, RFC 4791 §6.2): PROPFIND
 * `current-user-principal` at `/.well-known/caldav` (the injected fetch follows its redirect:
 * Radicale and Xandikos answer with a relative `Location: /`, Cyrus with an absolute URL), then
 * at the address itself, then at `/remote.php/dav/` (Nextcloud, whose well-known redirect
 * depends on the web server in front of it); then `calendar-home-set` on the principal.
 */
import { z } from "zod";
import { CalDavError, CalDavNotFoundError } from "./dav_errors.ts";
import type { DavClient } from "./dav_transport.ts";
import { davXmlRequest, hrefHolder, isMultistatus, NS, oneOrMany, xmlText } from "./dav_xml.ts";

/** Where an account's calendars live. */
export interface CalDavAccount {
  /** The principal URL (iCloud moves it to its own `pNN-caldav` host). */
  principalUrl: string;
  /** The calendar home: its Depth-1 listing holds the calendars. */
  homeUrl: string;
  /**
   * The owner's addresses from `calendar-user-address-set` (RFC 6638), lowercased, without
   * `mailto:`: an invitation names them as an ATTENDEE. Empty when the server names none.
   */
  addresses: string[];
}

/**
 * Finds the principal and calendar home of `client`'s user starting at `serverUrl`. Throws
 * CalDavAuthError for a wrong password, CalDavUnreachableError when nothing answers, and
 * CalDavNotFoundError when the server answers but none of the candidates is CalDAV.
 */
export async function discoverAccount(
  client: DavClient,
  serverUrl: string,
): Promise<CalDavAccount> {
  const base = new URL(serverUrl);
  const candidates = [
    new URL("/.well-known/caldav", base).href,
    base.href,
    new URL("/remote.php/dav/", base).href,
  ];
  const tried: string[] = [];
  for (const candidate of [...new Set(candidates)]) {
    const principalUrl = await findPrincipal(client, candidate);
    if (principalUrl.found) {
      return { principalUrl: principalUrl.found, ...await findHome(client, principalUrl.found) };
    }
    tried.push(`${candidate}: ${principalUrl.answer}`);
  }
  throw new CalDavNotFoundError(base.href, `tried ${tried.join("; ")}`);
}

const principalProps = z.object({ currentUserPrincipal: hrefHolder });
// A principal may name several homes (RFC 4791 §6.2.1); the first is the account's own.
const homeProps = z.object({ calendarHomeSet: z.object({ href: oneOrMany(xmlText) }) });
const addressProps = z.object({
  calendarUserAddressSet: z.object({ href: oneOrMany(xmlText) }),
});

async function findPrincipal(
  client: DavClient,
  url: string,
): Promise<{ found: string; answer?: undefined } | { found?: undefined; answer: string }> {
  const answer = await davXmlRequest(client, "caldav.propfind", url, {
    method: "PROPFIND",
    depth: "0",
    body: `<?xml version="1.0" encoding="utf-8"?>
<d:propfind ${NS}><d:prop><d:current-user-principal/></d:prop></d:propfind>`,
  });
  if (!isMultistatus(answer)) return { answer: `HTTP ${answer.status}` };
  for (const response of answer.responses) {
    const props = principalProps.safeParse(response.props);
    if (props.success) {
      return { found: new URL(props.data.currentUserPrincipal.href, answer.url).href };
    }
  }
  return { answer: "no current-user-principal" };
}

async function findHome(
  client: DavClient,
  principalUrl: string,
): Promise<{ homeUrl: string; addresses: string[] }> {
  const answer = await davXmlRequest(client, "caldav.propfind", principalUrl, {
    method: "PROPFIND",
    depth: "0",
    body: `<?xml version="1.0" encoding="utf-8"?>
<d:propfind ${NS}><d:prop><c:calendar-home-set/><c:calendar-user-address-set/></d:prop>
</d:propfind>`,
  });
  if (!isMultistatus(answer)) {
    throw new CalDavError(
      answer.status,
      principalUrl,
      `the principal ${principalUrl} answered ${answer.status}`,
    );
  }
  const addresses = new Set<string>();
  for (const response of answer.responses) {
    // Only mailto: addresses are names an invitation uses (Radicale names its principal URL).
    for (
      const href of addressProps.safeParse(response.props).data?.calendarUserAddressSet.href ?? []
    ) {
      const address = /^mailto:(.+@.+)$/i.exec(href.trim())?.[1];
      if (address) addresses.add(address.toLowerCase());
    }
  }
  for (const response of answer.responses) {
    const props = homeProps.safeParse(response.props);
    if (props.success) {
      return {
        homeUrl: new URL(props.data.calendarHomeSet.href[0], answer.url).href,
        addresses: [...addresses],
      };
    }
  }
  throw new CalDavNotFoundError(principalUrl, "the principal names no calendar-home-set");
}
