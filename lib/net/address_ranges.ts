/**
 * Which IP addresses a fetch of a user-supplied URL must not reach: loopback, private,
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, reserved and
 * unspecified ranges, in IPv4 and IPv6, with IPv4 embedded in IPv6 (mapped, NAT64, 6to4) judged
 * as the IPv4 address it carries. An instance may allow some ranges (a LAN CalDAV server).
 */

/** A parsed CIDR block: 4 or 16 bytes and a prefix length. */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  /** As written, for messages. */
  text: string;
}

/** Parses `a.b.c.d`, or an IPv6 address (with `::`, an embedded IPv4 tail, no zone id). */
export function parseIp(text: string): Uint8Array | undefined {
  const t = text.replace(/^\[|\]$/g, "");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) {
    const parts = t.split(".").map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
  }
  if (!t.includes(":") || t.includes("%")) return undefined;
  // An embedded IPv4 tail ("::ffff:1.2.3.4") is two groups written in dotted form.
  let head = t;
  const v4 = t.match(/(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (v4) {
    const b = parseIp(v4[1]);
    if (!b) return undefined;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    head = t.slice(0, -v4[1].length) + `${hex(b[0], b[1])}:${hex(b[2], b[3])}`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const group = (s: string) => (s === "" ? [] : s.split(":"));
  const left = group(halves[0]);
  const right = halves.length === 2 ? group(halves[1]) : [];
  const words = [...left, ...right].map((
    w,
  ) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN));
  if (words.some(Number.isNaN)) return undefined;
  if (halves.length === 1 ? words.length !== 8 : words.length > 7) return undefined;
  const all = [
    ...words.slice(0, left.length),
    ...new Array(8 - words.length).fill(0),
    ...words.slice(left.length),
  ];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parses `10.0.0.0/8`, `fc00::/7` or a single address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, len] = text.trim().split("/");
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const prefix = len === undefined ? bytes.length * 8 : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bytes.length * 8) return undefined;
  return { bytes, prefix, text: text.trim() };
}

function inCidr(bytes: Uint8Array, cidr: Cidr): boolean {
  if (bytes.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((bytes[bit >> 3] & mask) !== (cidr.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

const BLOCKED = [
  ["0.0.0.0/8", "an unspecified address"],
  ["10.0.0.0/8", "a private network address"],
  ["100.64.0.0/10", "a carrier-grade NAT address"],
  ["127.0.0.0/8", "a loopback address"],
  ["169.254.0.0/16", "a link-local address (where cloud metadata services answer)"],
  ["172.16.0.0/12", "a private network address"],
  ["192.0.0.0/24", "a reserved address"],
  ["192.0.2.0/24", "a documentation address"],
  ["192.168.0.0/16", "a private network address"],
  ["198.18.0.0/15", "a benchmarking address"],
  ["198.51.100.0/24", "a documentation address"],
  ["203.0.113.0/24", "a documentation address"],
  ["224.0.0.0/4", "a multicast address"],
  ["240.0.0.0/4", "a reserved address"],
  ["::/128", "an unspecified address"],
  ["::1/128", "a loopback address"],
  ["fc00::/7", "a private network address"],
  ["fe80::/10", "a link-local address"],
  ["ff00::/8", "a multicast address"],
  ["2001:db8::/32", "a documentation address"],
].map(([cidr, why]) => ({ cidr: parseCidr(cidr)!, why }));

/** The IPv4 address an IPv6 one carries: mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96), 6to4. */
function embeddedV4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16) return undefined;
  const zero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  if (
    bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zero(4, 12)
  ) {
    return bytes.slice(12);
  }
  // IPv4-compatible (::a.b.c.d, deprecated), still routed as the IPv4 address by some stacks.
  if (zero(0, 12) && !zero(12, 16)) return bytes.slice(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6);
  return undefined;
}

/**
 * Why `address` must not be reached (in words), or undefined when it may be: public, or in one
 * of the `allowed` ranges. An address that is no IP at all is refused.
 */
export function blockedBecause(address: string, allowed: readonly Cidr[]): string | undefined {
  const bytes = parseIp(address);
  if (!bytes) return "not an IP address";
  const forms = [bytes, embeddedV4(bytes)].filter((b): b is Uint8Array => b !== undefined);
  if (forms.some((b) => allowed.some((c) => inCidr(b, c)))) return undefined;
  for (const b of forms) {
    const hit = BLOCKED.find((r) => inCidr(b, r.cidr));
    if (hit) return hit.why;
  }
  return undefined;
}
