/**
 * Series edits leave no tombstones (notes §10): "this and following" ends a series and starts an
 * `_R` one, a whole-series time change replaces the instance ids, and Google sends nothing for
 * the instances that vanish. After an incremental listing that touched a series, a run lists
 * what the series holds now and removes the mirrors of instances no longer in it.
 */
import { LeaseLostError } from "../db/leases.ts";
import { ReconnectRequiredError } from "./provider.ts";
import type { RunContext } from "./run_context.ts";
import type { TimeWindow } from "../model/time_window.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { LedgerEntry, SourceEvent } from "../model/events.ts";

/** "This and following" ends a series and starts one whose id is the old one + `_R<start>`. */
const SPLIT_SUFFIX = /_R\d{8}(?:T\d{6}Z?)?$/;

/** The live instances of the series an incremental listing touched, by series id. */
export interface SeriesNow {
  instances: Map<string, SourceEvent[]>;
  /**
   * Some series could not be listed: the source's cursor must stay, so the next run meets the
   * change again and lists them then (their vanished instances leave no other trace).
   */
  incomplete: boolean;
}

/**
 * Lists, with events.instances, every series an instance in `events` belongs to, and every
 * series a split one came from (`abc_R20261203T100000` came from `abc`), whose instances after
 * the split vanished; undefined when no series was touched. Cancelled instances count: a series
 * moved and then deleted before a run is listed as its new instances, cancelled, and only the
 * series (now without instances) tells that the mirrored, older ones are gone too. A series the
 * calendar does not know is left out: its mirrors are judged by the full reconcile (a cancelled
 * series listed as itself is planned from the listing). A series whose listing failed is left
 * out too, and marks the result incomplete.
 */
export async function listTouchedSeries(
  ctx: RunContext,
  cal: CalendarRef,
  events: readonly SourceEvent[],
  window: TimeWindow,
): Promise<SeriesNow | undefined> {
  const ids = new Set<string>();
  for (const event of events) {
    if (!event.recurringEventId) continue;
    for (let id = event.recurringEventId; !ids.has(id);) {
      ids.add(id);
      const parent = id.replace(SPLIT_SUFFIX, "");
      if (parent === id) break;
      id = parent;
    }
  }
  if (ids.size === 0) return undefined;
  const provider = ctx.provider(cal.connectionId);
  const instances = new Map<string, SourceEvent[]>();
  let incomplete = false;
  for (const id of ids) {
    ctx.report.calls.listPages++;
    let found: SourceEvent[] | null;
    try {
      found = await provider.listInstances(cal, id, window);
    } catch (err) {
      // Only lost authorization concerns the whole source; any other failure leaves this
      // series to the next run (the cursor stays) rather than failing every rule reading the
      // calendar.
      if (err instanceof LeaseLostError || err instanceof ReconnectRequiredError) throw err;
      ctx.report.recordError(err, { calendar: cal });
      incomplete = true;
      continue;
    }
    // Unknown to this calendar (an invitation to some of its instances only, or gone): no
    // conclusion about its instances can be drawn from it.
    if (found) instances.set(id, found);
  }
  return { instances, incomplete };
}

/**
 * Cancelled stand-ins for the mirrored instances of the touched series that are neither in the
 * listing nor in their series any more, so the planner removes their mirrors; and the live
 * instances the listing did not carry, so a mirror missing among them is made.
 */
export function vanishedInstances(
  series: SeriesNow,
  listed: readonly SourceEvent[],
  ledgers: Iterable<ReadonlyMap<string, LedgerEntry>>,
): SourceEvent[] {
  const present = new Set(listed.map((e) => e.id));
  const out: SourceEvent[] = [];
  const live = new Set<string>();
  for (const instances of series.instances.values()) {
    for (const instance of instances) {
      live.add(instance.id);
      if (!present.has(instance.id)) {
        present.add(instance.id);
        out.push(instance);
      }
    }
  }
  for (const ledger of ledgers) {
    for (const entry of ledger.values()) {
      const seriesId = entry.recurringEventId;
      if (!seriesId || !series.instances.has(seriesId)) continue;
      if (live.has(entry.sourceEventId) || present.has(entry.sourceEventId)) continue;
      present.add(entry.sourceEventId);
      out.push({ id: entry.sourceEventId, status: "cancelled", recurringEventId: seriesId });
    }
  }
  return out;
}
