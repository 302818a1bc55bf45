/**
 * A run's listings of target calendars (full reconciles, first runs), kept compact. A target
 * can hold tens of thousands of events; a run needs of them only three things, so a scan keeps
 * those, built page by page as the listing arrives, and never the events themselves:
 * - the target's copies of meetings (meetingKey → blocks time), for skipInvitedInTarget;
 * - per edge writing there, its mirrors found, with the fields drift compares (drift.ts), handed
 *   out once: the edge plans once per run, so they are dropped as soon as it has taken them;
 * - every live busysync mirror there (id → its rule), for the orphan sweep at the run's end.
 */
import { calendarKey } from "../model/calendar_ref.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import { computeWindow, spanWindows } from "../model/time_window.ts";
import type { Edge, SourceEvent } from "../model/events.ts";
import { type FoundMirror, mirrorsOfEdge } from "./drift.ts";
import { type TargetCopies, targetCopyOf } from "./filters.ts";
import { forEachPage } from "./listing.ts";
import { deriveMirrorId, readMarker } from "./marker.ts";
import type { RunContext } from "./run_context.ts";

export interface TargetScan {
  copies: TargetCopies;
  /**
   * The mirrors of `edge` found in the target, by id (mirrorsOfEdge). Each edge gets them once;
   * a second call answers an empty map.
   */
  takeMirrorsOf(edge: Edge): Map<string, FoundMirror>;
  /** The live busysync mirrors in the target (marker and derived id agree), by id: their rule. */
  marked: ReadonlyMap<string, string>;
}

/** Target listings of one run, each read at most once however many edges write there. */
export interface TargetScans {
  scanOf(target: CalendarRef): Promise<TargetScan>;
}

const edgeKey = (e: Pick<Edge, "ruleId" | "direction">) => `${e.ruleId}/${e.direction}`;

/**
 * Indexes one target's listing for the edges writing into it, page by page. An event listed
 * twice counts as its last version, as in a source listing: each index is keyed by event id and
 * a later version replaces (and re-places) what an earlier one left.
 */
export class TargetScanBuilder {
  readonly #copies = new Map<string, { key: string; blocks: boolean }>();
  readonly #marked = new Map<string, string>();
  readonly #mirrors = new Map<string, Map<string, FoundMirror>>();
  /** One string per rule id, shared by every mirror of the rule. */
  readonly #ruleIds = new Map<string, string>();

  constructor(readonly edges: readonly Edge[]) {
    for (const edge of edges) this.#mirrors.set(edgeKey(edge), new Map());
  }

  add(events: readonly SourceEvent[]): void {
    for (const event of events) {
      this.#copies.delete(event.id);
      this.#marked.delete(event.id);
      for (const found of this.#mirrors.values()) found.delete(event.id);
      const copy = targetCopyOf(event);
      if (copy) this.#copies.set(event.id, copy);
      for (const edge of this.edges) {
        for (const [id, mirror] of mirrorsOfEdge(edge, [event])) {
          this.#mirrors.get(edgeKey(edge))!.set(id, mirror);
        }
      }
      if (event.status === "cancelled") continue;
      const marker = readMarker(event.privateProps);
      if (marker && deriveMirrorId(marker) === event.id) {
        let ruleId = this.#ruleIds.get(marker.ruleId);
        if (!ruleId) this.#ruleIds.set(marker.ruleId, ruleId = marker.ruleId);
        this.#marked.set(event.id, ruleId);
      }
    }
  }

  finish(): TargetScan {
    const copies = new Map<string, boolean>();
    for (const { key, blocks } of this.#copies.values()) {
      copies.set(key, (copies.get(key) ?? false) || blocks);
    }
    const mirrors = this.#mirrors;
    return {
      copies,
      marked: this.#marked,
      takeMirrorsOf(edge) {
        const found = mirrors.get(edgeKey(edge)) ?? new Map();
        mirrors.delete(edgeKey(edge));
        return found;
      },
    };
  }
}

/**
 * Lists each target in full over the span of the windows of the edges writing into it, so
 * every mirror the edges want is inside it, keeping only its compact scan.
 */
export function createTargetScans(ctx: RunContext, edges: readonly Edge[]): TargetScans {
  const scans = new Map<string, Promise<TargetScan>>();
  return {
    scanOf(target) {
      const key = calendarKey(target);
      let scan = scans.get(key);
      if (!scan) {
        const into = edges.filter((e) => calendarKey(e.target) === key);
        const window = spanWindows(into.map((e) => computeWindow(ctx.now, e.settings.window)));
        const builder = new TargetScanBuilder(into);
        scan = forEachPage(ctx, target, null, window, (events) => builder.add(events))
          .then(() => builder.finish());
        scans.set(key, scan);
      }
      return scan;
    },
  };
}
