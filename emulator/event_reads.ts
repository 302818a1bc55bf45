/**
 * events.list and events.instances: filtering, expansion, ordering, paging and sync tokens with
 * the semantics of notes §1.
 *
 * Paging is consistent under concurrent writes: the first page fixes a snapshot (the change
 * position at that moment) that later pages carry, and later pages leave out events changed after
 * it. The sync token on the last page points at the snapshot, so anything left out is exactly what
 * the next incremental sync returns. Page cursors are sort keys, not offsets, so a deletion
 * between two page requests cannot shift an unchanged event off both pages.
 */
import { expandInstances, instantRange } from "./instances.ts";
import type { StoredEvent } from "./event_resource.ts";
import { badRequest, invalidParameter } from "./google_errors.ts";
import { type CalendarRecord, decodeToken, EmulatorState, encodeToken } from "./state.ts";

export interface ListQuery {
  maxResults: number;
  pageToken?: string;
  syncToken?: string;
  singleEvents: boolean;
  /** Undefined when the client did not send it (sending false with a syncToken is a 400). */
  showDeleted?: boolean;
  timeMin?: number;
  timeMax?: number;
  updatedMin?: number;
  orderBy?: "startTime" | "updated";
  q?: string;
  iCalUID?: string;
  privateExtendedProperty: string[];
  sharedExtendedProperty: string[];
  eventTypes: string[];
}

/** A listed event; tombstones are rendered with the minimal fields of notes §1. */
export interface ListedEvent {
  event: StoredEvent;
  tombstone: boolean;
}

export interface ListPage {
  items: ListedEvent[];
  nextPageToken?: string;
  nextSyncToken?: string;
}

type SortKey = (number | string)[];

interface PagePosition {
  epoch: string;
  snapshot: number;
  after: SortKey;
}

/** Parameters Google refuses next to a syncToken (notes §1, [SYNC]). */
const FORBIDDEN_WITH_SYNC_TOKEN = [
  "iCalUID",
  "orderBy",
  "privateExtendedProperty",
  "q",
  "sharedExtendedProperty",
  "timeMin",
  "timeMax",
  "updatedMin",
] as const;

function checkQuery(query: ListQuery): void {
  if (query.syncToken !== undefined) {
    for (const name of FORBIDDEN_WITH_SYNC_TOKEN) {
      const value = query[name];
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        throw invalidParameter(name, `The parameter ${name} cannot be used with a syncToken.`);
      }
    }
    // Deletions are always part of an incremental result, so hiding them is refused (notes §1).
    if (query.showDeleted === false) {
      throw invalidParameter("showDeleted", "showDeleted=false cannot be used with a syncToken.");
    }
  }
  if (query.orderBy === "startTime" && !query.singleEvents) {
    throw invalidParameter(
      "orderBy",
      "The requested ordering is not available for the particular query.",
    );
  }
  checkTimeRange(query.timeMin, query.timeMax);
}

/** timeMin must be before timeMax: 400 timeRangeEmpty otherwise (notes §1, [ERR]). */
function checkTimeRange(timeMin?: number, timeMax?: number): void {
  if (timeMin !== undefined && timeMax !== undefined && timeMin >= timeMax) {
    throw badRequest("timeRangeEmpty", "The specified time range is empty.", {
      type: "parameter",
      name: "timeMax",
    });
  }
}

function parsePropertyFilters(values: string[], name: string): [string, string][] {
  return values.map((v) => {
    const eq = v.indexOf("=");
    if (eq <= 0) throw invalidParameter(name, `Invalid value for ${name}: ${v}`);
    return [v.slice(0, eq), v.slice(eq + 1)];
  });
}

function buildFilter(query: ListQuery): (e: StoredEvent) => boolean {
  const priv = parsePropertyFilters(query.privateExtendedProperty, "privateExtendedProperty");
  const shared = parsePropertyFilters(query.sharedExtendedProperty, "sharedExtendedProperty");
  const needle = query.q?.toLowerCase();
  // Repeated filters of one kind are OR'ed and the two kinds AND'ed, as the extended-properties
  // guide says ([EXT]); the reference text says "match all", which conflicts (notes §2).
  const matches = (map: Record<string, string> | undefined, filters: [string, string][]) =>
    filters.length === 0 || filters.some(([k, v]) => map?.[k] === v);
  return (e) => {
    const r = e.resource;
    if (query.eventTypes.length > 0 && !query.eventTypes.includes(r.eventType)) return false;
    if (query.iCalUID !== undefined && r.iCalUID !== query.iCalUID) return false;
    if (query.updatedMin !== undefined && Date.parse(r.updated) < query.updatedMin) return false;
    if (!matches(r.extendedProperties?.private, priv)) return false;
    if (!matches(r.extendedProperties?.shared, shared)) return false;
    if (needle !== undefined) {
      const text = [r.summary, r.description, r.location].join("\n").toLowerCase();
      if (!text.includes(needle)) return false;
    }
    return true;
  };
}

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

function readPageToken(state: EmulatorState, token: string | undefined): PagePosition | undefined {
  if (token === undefined) return undefined;
  const pos = decodeToken<PagePosition>(token);
  if (!pos || pos.epoch !== state.epoch() || !Array.isArray(pos.after)) {
    throw invalidParameter("pageToken", "Invalid page token.");
  }
  return pos;
}

function paginate(
  state: EmulatorState,
  items: ListedEvent[],
  keyOf: (e: StoredEvent) => SortKey,
  maxResults: number,
  position: PagePosition | undefined,
  snapshot: number,
): { items: ListedEvent[]; nextPageToken?: string } {
  const keyed = items.map((item) => ({ item, key: keyOf(item.event) }))
    .filter((k) => !position || compareKeys(k.key, position.after) > 0)
    .sort((a, b) => compareKeys(a.key, b.key));
  const page = keyed.slice(0, maxResults);
  if (keyed.length <= maxResults) return { items: page.map((k) => k.item) };
  const next: PagePosition = { epoch: state.epoch(), snapshot, after: page.at(-1)!.key };
  return { items: page.map((k) => k.item), nextPageToken: encodeToken(next) };
}

/**
 * events.list. Full listings honour showDeleted, singleEvents and the filters; with a syncToken
 * only events changed since the token's position come back, deletions as tombstones. Throws 400
 * for refused parameter combinations and 410 fullSyncRequired for unusable sync tokens.
 */
export function listEvents(
  state: EmulatorState,
  calendar: CalendarRecord,
  query: ListQuery,
): ListPage {
  checkQuery(query);
  const position = readPageToken(state, query.pageToken);
  const since = query.syncToken === undefined
    ? undefined
    : state.readSyncToken(query.syncToken, calendar);
  const snapshot = position?.snapshot ?? state.currentSeq();
  const zone = calendar.timeZone;
  const now = state.now();
  const window = { timeMin: query.timeMin, timeMax: query.timeMax };
  const inWindow = (e: StoredEvent) => {
    const [s, end] = instantRange(e.timing, zone);
    return (query.timeMin === undefined || end > query.timeMin) &&
      (query.timeMax === undefined || s < query.timeMax);
  };
  const stored = [...calendar.events.values()];
  // Generated instances an exception replaces are never listed beside it.
  const exceptionIds = new Set(
    stored.filter((e) => e.resource.recurringEventId).map((e) => e.resource.id),
  );
  // With updatedMin, deletions since then are listed whatever showDeleted says (notes §1).
  const showDeleted = query.showDeleted || query.updatedMin !== undefined;
  const filter = buildFilter(query);
  const out: ListedEvent[] = [];
  const add = (event: StoredEvent, tombstone: boolean) => {
    if (filter(event)) out.push({ event, tombstone });
  };

  for (const e of stored) {
    if (e.changeSeq > snapshot) continue;
    const cancelled = e.resource.status === "cancelled";
    if (since !== undefined) {
      if (e.changeSeq <= since) continue;
      if (e.series && query.singleEvents) {
        // A changed series changes every instance; with the series gone they are all tombstones
        // (Google's exact output here is undocumented).
        for (const i of expandInstances(e, zone, now)) {
          if (!exceptionIds.has(i.resource.id)) add(i, cancelled);
        }
      } else add(e, cancelled);
      continue;
    }
    if (e.resource.recurringEventId) {
      // Cancelled instances are listed even without showDeleted unless singleEvents is set, and
      // with both set "only deleted single instances" appear (notes §1).
      if (cancelled && !showDeleted && query.singleEvents) continue;
      if (inWindow(e)) add(e, false);
    } else if (e.series) {
      if (query.singleEvents) {
        if (cancelled) continue;
        for (const i of expandInstances(e, zone, now, window)) {
          if (!exceptionIds.has(i.resource.id)) add(i, false);
        }
      } else if (
        (!cancelled || showDeleted) &&
        (query.timeMin === undefined && query.timeMax === undefined ||
          expandInstances(e, zone, now, window).length > 0)
      ) add(e, false);
    } else if ((!cancelled || showDeleted) && inWindow(e)) add(e, false);
  }

  const keyOf = (e: StoredEvent): SortKey => {
    const start = instantRange(e.timing, zone)[0];
    if (query.orderBy === "startTime") return [start, e.resource.id];
    if (query.orderBy === "updated") return [Date.parse(e.resource.updated), e.resource.id];
    return [e.createdSeq, start, e.resource.id];
  };
  const page = paginate(state, out, keyOf, query.maxResults, position, snapshot);
  // nextSyncToken only on the last page, and never together with nextPageToken (notes §1).
  return page.nextPageToken
    ? page
    : { items: page.items, nextSyncToken: state.syncToken(calendar, snapshot) };
}

export interface InstancesQuery {
  maxResults: number;
  pageToken?: string;
  timeMin?: number;
  timeMax?: number;
  showDeleted: boolean;
  originalStart?: string;
}

/**
 * events.instances: the instances of a series (generated ones plus exceptions) in start order.
 * A non-recurring event is its own single instance (a guess; Google does not document it).
 */
export function listInstances(
  state: EmulatorState,
  calendar: CalendarRecord,
  parent: StoredEvent,
  query: InstancesQuery,
): ListPage {
  checkTimeRange(query.timeMin, query.timeMax);
  const position = readPageToken(state, query.pageToken);
  const snapshot = position?.snapshot ?? state.currentSeq();
  const zone = calendar.timeZone;
  const window = { timeMin: query.timeMin, timeMax: query.timeMax };
  let instances: StoredEvent[];
  if (!parent.series) instances = [parent];
  else {
    const exceptions = [...calendar.events.values()].filter((e) =>
      e.resource.recurringEventId === parent.resource.id && e.changeSeq <= snapshot
    );
    const exceptionIds = new Set(exceptions.map((e) => e.resource.id));
    instances = [
      ...expandInstances(parent, zone, state.now(), window).filter((i) =>
        !exceptionIds.has(i.resource.id)
      ),
      ...exceptions.filter((e) => {
        const [s, end] = instantRange(e.timing, zone);
        return (query.timeMin === undefined || end > query.timeMin) &&
          (query.timeMax === undefined || s < query.timeMax);
      }),
    ];
  }
  const items = instances
    .filter((i) => query.showDeleted || i.resource.status !== "cancelled")
    .filter((i) =>
      query.originalStart === undefined ||
      sameInstant(i.resource.originalStartTime ?? i.resource.start, query.originalStart)
    )
    .map((event) => ({ event, tombstone: false }));
  return paginate(
    state,
    items,
    (e) => [instantRange(e.timing, zone)[0], e.resource.id],
    query.maxResults,
    position,
    snapshot,
  );
}

function sameInstant(t: { date?: string; dateTime?: string }, text: string): boolean {
  if (t.date) return t.date === text;
  return Date.parse(t.dateTime!) === Date.parse(text);
}
