/**
 * Connections: a Google or CalDAV account or an ICS feed a user connected for calendar access.
 * Secrets (Google tokens, a CalDAV app password, a feed's address) are stored only as ciphertexts (lib/auth/connection_secrets.ts);
 * this module never sees a plaintext. One connection per account per user
 * (`connections_by_sub`: Google's issuer and subject, or "caldav" and the principal URL), so
 * connecting an account again renews it; `connections_by_account` finds every user's connection
 * to one account.
 */
import { z } from "zod";
import { commitOnce, commitWithRetry, ConflictError } from "./commit.ts";
import { keys } from "./keys.ts";

/**
 * `disconnected`: the person disconnected the account but kept its rules, paused. Told apart
 * from `needs_reconnect` because nothing went wrong: it is no incident to raise or count, and
 * no token is stored to try.
 */
export const CONNECTION_STATUSES = ["active", "needs_reconnect", "disconnected"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** Which service a connection reaches; records from before CalDAV are Google's. */
export const CONNECTION_KINDS = ["google", "caldav", "ics"] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

/** The `issuer` of every CalDAV connection: its `sub` is the account's principal URL. */
export const CALDAV_ISSUER = "caldav";

/**
 * The `issuer` of every ICS feed connection: its `sub` is a hash of the feed's address (the
 * address itself is a secret, sealed in the tokens' place).
 */
export const ICS_ISSUER = "ics";

/** How a feed reads as keys: by UID, or by content once it was seen rewriting every UID. */
const FeedIdentitySchema = z.object({
  identity: z.enum(["uid", "content"]),
  uids: z.array(z.string()).max(256),
  contents: z.array(z.string()).max(256),
});
export type FeedIdentityRecord = z.infer<typeof FeedIdentitySchema>;

/** What is stored in plain of an ICS feed: never its address, which holds its secret. */
const IcsPlaceSchema = z.object({
  /** Scheme and host only ("https://example.com/…"), for showing and for messages. */
  maskedUrl: z.string(),
  /** What the person named it (or the feed's own name): its one calendar's title. */
  name: z.string(),
  /** The feed's zone (X-WR-TIMEZONE), where floating times and dates are placed. */
  timeZone: z.string(),
  /** Set after the first sync's fetch (lib/ics/feed_identity.ts). */
  memory: FeedIdentitySchema.optional(),
});
export type IcsPlace = z.infer<typeof IcsPlaceSchema>;

/** Where a CalDAV account lives, as discovery found it. */
const CalDavPlaceSchema = z.object({
  /** The address the person gave (or the preset's). */
  serverUrl: z.url(),
  principalUrl: z.url(),
  homeUrl: z.url(),
  username: z.string().min(1),
  /** The owner's addresses in invitations (lowercase, no `mailto:`); older records have none. */
  addresses: z.array(z.string()).default([]),
});
export type CalDavPlace = z.infer<typeof CalDavPlaceSchema>;

const StoredTokensSchema = z.object({
  /** Ciphertext of the refresh token. */
  refresh: z.string(),
  /** Ciphertext of the last access token, with when it was issued and when it expires. */
  access: z.string().optional(),
  accessIssuedAt: z.string().optional(),
  accessExpiresAt: z.string().optional(),
});
export type StoredTokens = z.infer<typeof StoredTokensSchema>;

const ConnectionSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  userId: z.string(),
  kind: z.enum(CONNECTION_KINDS).default("google"),
  issuer: z.string(),
  /** Google's stable id of the connected account; a CalDAV account's principal URL. */
  sub: z.string(),
  /**
   * Google's address of the account; for CalDAV, the user name and host ("ann @ dav.example");
   * for a feed, "Feed from" and its host (its name is its calendar's).
   */
  email: z.string(),
  /** Set on a CalDAV connection only. */
  caldav: CalDavPlaceSchema.optional(),
  /** Set on an ICS feed connection only. */
  ics: IcsPlaceSchema.optional(),
  scopes: z.array(z.string()),
  status: z.enum(CONNECTION_STATUSES),
  /** Why the connection needs attention, in words a user can act on. */
  statusReason: z.string().optional(),
  /** Absent only while `disconnected`: a paused connection keeps no access to the account. */
  tokens: StoredTokensSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Connection = z.infer<typeof ConnectionSchema>;

/** A connection with the versionstamp it was read at, for checked writes. */
export interface ConnectionEntry {
  connection: Connection;
  versionstamp: string;
}

/** What a completed connect flow stores. */
export interface ConnectionGrant {
  userId: string;
  /** The id to use when this account is not connected yet (see `connectionIdFor`). */
  connectionId: string;
  issuer: string;
  sub: string;
  email: string;
  scopes: string[];
  tokens: StoredTokens;
  now: Date;
  /** Absent (and `ics` absent): a Google account. */
  caldav?: CalDavPlace;
  /** An ICS feed. */
  ics?: IcsPlace;
}

/**
 * The id this user's connection to that Google account has, or null when it is new. Tokens are
 * encrypted with the id as context, so the caller learns the id before encrypting.
 */
export async function connectionIdFor(
  kv: Deno.Kv,
  userId: string,
  issuer: string,
  sub: string,
): Promise<string | null> {
  const entry = await kv.get<string>(keys.connectionBySub(userId, issuer, sub));
  return entry.value;
}

/**
 * Creates the connection, or renews the existing one for the same account (new tokens, scopes
 * and email; status back to active). Throws ConflictError when the account got connected under
 * another id meanwhile (two connect flows racing), so the caller retries from `connectionIdFor`.
 */
export async function saveConnectionGrant(
  kv: Deno.Kv,
  grant: ConnectionGrant,
): Promise<Connection> {
  let saved: Connection | undefined;
  await commitWithRetry(async () => {
    const index = await kv.get<string>(keys.connectionBySub(grant.userId, grant.issuer, grant.sub));
    if (index.value !== null && index.value !== grant.connectionId) throw new ConflictError();
    const entry = await kv.get(keys.connection(grant.userId, grant.connectionId));
    const at = grant.now.toISOString();
    const previous = entry.value === null ? undefined : ConnectionSchema.parse(entry.value);
    saved = {
      v: 1,
      id: grant.connectionId,
      userId: grant.userId,
      kind: grant.caldav ? "caldav" : grant.ics ? "ics" : "google",
      issuer: grant.issuer,
      sub: grant.sub,
      email: grant.email,
      ...(grant.caldav ? { caldav: CalDavPlaceSchema.parse(grant.caldav) } : {}),
      ...(grant.ics ? { ics: IcsPlaceSchema.parse(feedPlace(grant.ics, previous?.ics)) } : {}),
      scopes: grant.scopes,
      status: "active",
      tokens: grant.tokens,
      createdAt: previous?.createdAt ?? at,
      updatedAt: at,
    };
    return {
      op: kv.atomic().check(index, entry)
        .set(entry.key, saved)
        .set(keys.connectionBySub(grant.userId, grant.issuer, grant.sub), grant.connectionId)
        .set(keys.connectionByAccount(grant.issuer, grant.sub, grant.userId), grant.connectionId),
    };
  });
  return saved!;
}

/**
 * A feed added again keeps a content identity its fetches taught (it rewrites its UIDs), which
 * the one fetch of adding it cannot undo; otherwise that fetch is the one the next is judged by.
 */
function feedPlace(next: IcsPlace, previous: IcsPlace | undefined): IcsPlace {
  const memory = previous?.memory?.identity === "content"
    ? previous.memory
    : next.memory ?? previous?.memory;
  return { ...next, ...(memory ? { memory } : {}) };
}

/** The user's connection with this id (and its versionstamp), or null. */
export async function getConnectionEntry(
  kv: Deno.Kv,
  userId: string,
  connectionId: string,
): Promise<ConnectionEntry | null> {
  const entry = await kv.get(keys.connection(userId, connectionId));
  if (entry.value === null) return null;
  return { connection: ConnectionSchema.parse(entry.value), versionstamp: entry.versionstamp };
}

/** The user's connections, oldest first. */
export async function listConnections(kv: Deno.Kv, userId: string): Promise<Connection[]> {
  const out: Connection[] = [];
  for await (const entry of kv.list({ prefix: keys.connections(userId) })) {
    out.push(ConnectionSchema.parse(entry.value));
  }
  return out;
}

/**
 * The connections of every user to the Google account (issuer, sub), oldest user first. An
 * index entry whose connection is gone (an account deletion cut short) is left out.
 */
export async function listConnectionsToAccount(
  kv: Deno.Kv,
  issuer: string,
  sub: string,
): Promise<Connection[]> {
  const out: Connection[] = [];
  for await (const entry of kv.list<string>({ prefix: keys.connectionsByAccount(issuer, sub) })) {
    const userId = String(entry.key[3]);
    const connection = await kv.get(keys.connection(userId, entry.value));
    if (connection.value !== null) out.push(ConnectionSchema.parse(connection.value));
  }
  return out;
}

/**
 * Puts every connection into `connections_by_account` (migration 0003; idempotent). Each entry
 * is written only if its connection is unchanged since it was read, so a connection deleted
 * meanwhile is not indexed again.
 */
export async function indexConnectionsByAccount(kv: Deno.Kv): Promise<void> {
  for await (const { connection, versionstamp } of listAllConnectionEntries(kv)) {
    const key = keys.connection(connection.userId, connection.id);
    await commitOnce(() =>
      kv.atomic().check({ key, versionstamp })
        .set(
          keys.connectionByAccount(connection.issuer, connection.sub, connection.userId),
          connection.id,
        )
    );
  }
}

/**
 * Removes the user's entries from `connections_by_account`, for account deletion: that index
 * is keyed by Google account, not by user, so deleting the user's collections misses it.
 */
export async function deleteAccountIndexOfUser(kv: Deno.Kv, userId: string): Promise<void> {
  for (const connection of await listConnections(kv, userId)) {
    await commitOnce(() =>
      kv.atomic().delete(keys.connectionByAccount(connection.issuer, connection.sub, userId))
    );
  }
}

/** Every connection of every user, for maintenance such as key rotation. */
export async function* listAllConnectionEntries(kv: Deno.Kv): AsyncGenerator<ConnectionEntry> {
  for await (const entry of kv.list({ prefix: keys.allConnections() })) {
    yield { connection: ConnectionSchema.parse(entry.value), versionstamp: entry.versionstamp };
  }
}

/**
 * Replaces the stored tokens if the connection is unchanged since `read`. Returns false when
 * someone else wrote it first (a parallel refresh, a reconnect, a disconnect): the caller
 * re-reads instead of overwriting newer tokens with older ones.
 */
export async function replaceTokens(
  kv: Deno.Kv,
  read: ConnectionEntry,
  tokens: StoredTokens,
  now: Date,
): Promise<boolean> {
  const { connection } = read;
  const key = keys.connection(connection.userId, connection.id);
  const next: Connection = { ...connection, tokens, updatedAt: now.toISOString() };
  const res = await commitOnce(() =>
    kv.atomic().check({ key, versionstamp: read.versionstamp }).set(key, next)
  );
  return res.ok;
}

/**
 * Stores what a feed's last fetch taught about its identity (lib/ics/feed_identity.ts). No-op
 * when the connection is gone or is no feed.
 */
export async function saveFeedIdentity(
  kv: Deno.Kv,
  userId: string,
  connectionId: string,
  memory: FeedIdentityRecord,
): Promise<void> {
  await commitWithRetry(async () => {
    const entry = await kv.get(keys.connection(userId, connectionId));
    if (entry.value === null) return null;
    const connection = ConnectionSchema.parse(entry.value);
    if (!connection.ics) return null;
    const next: Connection = {
      ...connection,
      ics: { ...connection.ics, memory: FeedIdentitySchema.parse(memory) },
    };
    return { op: kv.atomic().check(entry).set(entry.key, next) };
  });
}

/**
 * Marks a connection as needing the user to connect the account again, keeping everything else
 * (its rules and mirrors stay). No-op when the connection is gone or already marked: the first
 * reason is the one to act on.
 */
export async function markNeedsReconnect(
  kv: Deno.Kv,
  userId: string,
  connectionId: string,
  reason: string,
  now: Date,
): Promise<void> {
  await commitWithRetry(async () => {
    const entry = await kv.get(keys.connection(userId, connectionId));
    if (entry.value === null) return null;
    const connection = ConnectionSchema.parse(entry.value);
    // A disconnected account has no access to lose; its reason says how it comes back.
    if (connection.status !== "active") return null;
    const next: Connection = {
      ...connection,
      status: "needs_reconnect",
      statusReason: reason,
      updatedAt: now.toISOString(),
    };
    return { op: kv.atomic().check(entry).set(entry.key, next) };
  });
}

/**
 * Keeps the connection record (its id, indexes and calendar cache) but drops its tokens and
 * marks it `disconnected` with the reason, so connecting the same Google account again renews
 * it under the same id and the rules using it resume. Returns false when there is no such
 * connection.
 */
export async function pauseConnection(
  kv: Deno.Kv,
  userId: string,
  connectionId: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  let found = false;
  await commitWithRetry(async () => {
    const entry = await kv.get(keys.connection(userId, connectionId));
    found = entry.value !== null;
    if (!found) return null;
    const { tokens: _dropped, ...connection } = ConnectionSchema.parse(entry.value);
    const next: Connection = {
      ...connection,
      status: "disconnected",
      statusReason: reason,
      updatedAt: now.toISOString(),
    };
    return { op: kv.atomic().check(entry).set(entry.key, next) };
  });
  return found;
}

/**
 * Deletes a connection, its index entries and its cached calendars in one operation. Returns the
 * deleted connection, or null when the user has no connection with this id.
 */
export async function deleteConnection(
  kv: Deno.Kv,
  userId: string,
  connectionId: string,
): Promise<Connection | null> {
  let deleted: Connection | null = null;
  await commitWithRetry(async () => {
    deleted = null;
    const entry = await kv.get(keys.connection(userId, connectionId));
    if (entry.value === null) return null;
    const connection = ConnectionSchema.parse(entry.value);
    deleted = connection;
    const op = kv.atomic().check(entry)
      .delete(entry.key)
      .delete(keys.connectionBySub(userId, connection.issuer, connection.sub))
      .delete(keys.connectionByAccount(connection.issuer, connection.sub, userId));
    // A calendar list has at most a few hundred entries, well inside one operation's limits.
    for await (const cal of kv.list({ prefix: keys.calendarsOfConnection(userId, connectionId) })) {
      op.delete(cal.key);
    }
    return { op };
  });
  return deleted;
}
