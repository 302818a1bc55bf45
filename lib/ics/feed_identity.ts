/**
 * Which key a feed's events go by. Normally their UID (RFC 5545's identity: a moved event keeps
 * it, so its busy block is patched in place). Some publishers write a fresh UID for every event
 * on every fetch; keyed by UID, each fetch would then delete every busy block and create it
 * again. Such a feed is recognised by comparing one fetch with the one before: when hardly any
 * UID recurs (under 10%) but most events recur by content (at least half: same start, end or
 * duration, recurrence and title), the feed is keyed by that content from then on, for good.
 * The fetch made when the feed was added counts as the one before the first sync's, so such a
 * feed is usually recognised before any busy block is written; one that starts rewriting later
 * is re-keyed once (as many blocks created as removed, which the delete guard does not count as
 * a loss). Afterwards an unchanged event keeps its key whatever its UID.
 *
 * What is compared is a bottom-k sample (the k smallest hashes) of each fetch's UIDs and
 * contents: the share of the sample found again estimates the share of the feed found again,
 * and keeps what is stored per feed small whatever the feed's size.
 */
import { createHash } from "node:crypto";
import { encodeBase32Hex } from "../encoding.ts";
import type { FeedGroup } from "../ical/ical_feed.ts";

export type FeedIdentity = "uid" | "content";

/** What a feed's last fetch left to judge the next one by. */
export interface IdentityMemory {
  identity: FeedIdentity;
  /** Bottom-k sample of the hashed UIDs of the last fetch. */
  uids: string[];
  /** Bottom-k sample of the hashed contents of the last fetch. */
  contents: string[];
}

/** Sample size: 64 hashes of 12 hex digits each keep a feed's memory under 2 KB. */
const SAMPLE = 64;
/** Fewer UIDs than this in the last fetch say too little to judge a feed by. */
const MIN_JUDGED = 5;
/** At most this share of the last fetch's UIDs recurring counts as UIDs rewritten. */
const UIDS_KEPT_AT_MOST = 0.1;
/** At least this share of the last fetch's contents recurring counts as the same events. */
const CONTENT_KEPT_AT_LEAST = 0.5;

function shortHash(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 12);
}

function sampleOf(hashes: ReadonlySet<string>): string[] {
  return [...hashes].sort().slice(0, SAMPLE);
}

function keptShare(sample: readonly string[], now: ReadonlySet<string>): number {
  return sample.filter((h) => now.has(h)).length / sample.length;
}

/**
 * The identity the feed is read with now, and the memory to keep for the next fetch. A feed
 * keyed by content stays so (switching back would re-key every busy block again).
 */
export function judgeIdentity(
  previous: IdentityMemory | undefined,
  groups: readonly FeedGroup[],
): IdentityMemory {
  const uids = new Set(groups.flatMap((g) => g.uid === undefined ? [] : [shortHash(g.uid)]));
  const contents = new Set(groups.map((g) => shortHash(g.content)));
  const rewritten = previous !== undefined && previous.uids.length >= MIN_JUDGED &&
    keptShare(previous.uids, uids) <= UIDS_KEPT_AT_MOST &&
    keptShare(previous.contents, contents) >= CONTENT_KEPT_AT_LEAST;
  const identity: FeedIdentity = previous?.identity === "content" || rewritten ? "content" : "uid";
  return { identity, uids: sampleOf(uids), contents: sampleOf(contents) };
}

/**
 * Each group's key (the id its event has, and the series id of its instances), in the order of
 * `groups`: `u-` and a hash of its UID, or `c-` and a hash of its content when the feed is keyed
 * by content or the event has no UID. Equal contents are told apart by their order in the feed.
 * Hashed because a UID may be long and hold any character.
 */
export function groupKeys(groups: readonly FeedGroup[], identity: FeedIdentity): string[] {
  const seen = new Map<string, number>();
  return groups.map((group) => {
    if (identity === "uid" && group.uid !== undefined) return "u-" + keyHash(group.uid);
    const base = "c-" + keyHash(group.content);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

/** 130 bits of SHA-256 in base32hex: lowercase letters and digits, safe in any id. */
function keyHash(value: string): string {
  return encodeBase32Hex(createHash("sha256").update(value).digest()).slice(0, 26);
}
