/**
 * Drift: what a target really holds against what the ledger says busysync wrote there. A user
 * may delete or edit a mirror by hand, and a lost ledger (or a crash between a write and its
 * ledger entry) leaves mirrors the ledger does not know. Comparing the mirrors found in a
 * target's listing with the mirrors wanted turns each case into a ledger view the planner
 * already handles: a forgotten hash forces a write, a seeded entry lets a stale mirror be
 * deleted, and a found mirror that is exactly right is adopted without any write.
 */
import { buildMarker, classifyEvent, type MirrorIdOf } from "./marker.ts";
import { atGeneration, desiredMirror, type MirrorContext } from "./mirror.ts";
import { ledgerEntryFor } from "./plan.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { readEventSpan } from "../model/time_window.ts";
import type { Edge, LedgerEntry, LiveSourceEvent, Mirror, SourceEvent } from "../model/events.ts";

/** A hash no mirror body has: the planner then rewrites the mirror (a patch, or a restore). */
export const UNKNOWN_HASH = "";

/**
 * True when an event read back from a target carries everything `want` asks for: the same
 * title, description and location, the same instants (timed) or dates (all-day), still busy,
 * confirmed and of the same visibility. Times are compared as instants, because a service may
 * write an offset differently from how it was sent. Reminders are not read back, so an edit
 * of them alone goes unnoticed.
 */
export function mirrorMatches(found: LiveSourceEvent, want: Mirror): boolean {
  if (found.status !== "confirmed") return false;
  if ((found.summary ?? "") !== want.summary) return false;
  if ((found.description ?? "") !== (want.description ?? "")) return false;
  if ((found.location ?? "") !== (want.location ?? "")) return false;
  if ((found.visibility ?? "default") !== want.visibility) return false;
  if ((found.transparency ?? "opaque") !== want.transparency) return false;
  const a = readEventSpan(found, "UTC");
  const b = readEventSpan({ id: "", status: "confirmed", start: want.start, end: want.end }, "UTC");
  return !!a && !!b && a.allDay === b.allDay && a.start === b.start && a.end === b.end;
}

/** A mirror found in a target, with the source event and id generation its marker names. */
export type FoundMirror = LiveSourceEvent & { sourceEventId: string; generation: number };

/**
 * The mirrors of `edge` among events listed in its target, by id: events whose marker names
 * this edge's rule and source and whose id is derived from that marker (a user's copy of a
 * mirror is a real event, not ours), whatever their id generation.
 */
export function mirrorsOfEdge(
  edge: Edge,
  listed: Iterable<SourceEvent>,
  idOf?: MirrorIdOf,
): Map<string, FoundMirror> {
  const mine = buildMarker(edge, "");
  const out = new Map<string, FoundMirror>();
  for (const event of listed) {
    if (event.status === "cancelled") continue;
    const cls = classifyEvent(event, idOf);
    if (cls.kind !== "mirror" || event.recurringEventId) continue;
    const { marker } = cls;
    if (
      marker.ruleId !== mine.ruleId || marker.sourceCalendar !== mine.sourceCalendar ||
      marker.targetCalendar !== mine.targetCalendar
    ) continue;
    // Only what mirrorMatches and repairLedger read: a reconcile keeps every mirror of a target
    // until its edge is planned, and attendees or extended properties would be dead weight.
    out.set(event.id, {
      id: event.id,
      status: event.status,
      start: event.start,
      end: event.end,
      ...(event.summary !== undefined ? { summary: event.summary } : {}),
      ...(event.description !== undefined ? { description: event.description } : {}),
      ...(event.location !== undefined ? { location: event.location } : {}),
      ...(event.visibility !== undefined ? { visibility: event.visibility } : {}),
      ...(event.transparency !== undefined ? { transparency: event.transparency } : {}),
      sourceEventId: marker.sourceEvent,
      generation: marker.generation,
    });
  }
  return out;
}

export interface LedgerRepair {
  /** The ledger the planner should see. */
  ledger: Map<string, LedgerEntry>;
  /** Found mirrors that are exactly right but unknown to the ledger: record them, write nothing. */
  adopted: LedgerEntry[];
  /** Mirrors that will be rewritten because they are missing or were edited. */
  repaired: number;
  /**
   * Source events whose mirror the ledger knows and the target's listing does not show (deleted
   * by hand, or purged): the write that follows brings it back, and says so.
   */
  missing: Set<string>;
}

/**
 * Compares one edge's ledger with the mirrors found in its target, for a run that lists the
 * edge's source in full, page by page (`page`, then `finish` once the listing is complete),
 * turning the ledger view it was given into the one the planner should see. For each wanted
 * mirror: missing or edited → its entry's hash is forgotten (the planner rewrites it); found but
 * not in the ledger → adopted when right, else seeded with an unknown hash. Found mirrors whose
 * source event is not wanted (filtered, or never listed) are seeded so that the planner deletes
 * them. Of two live mirrors of one event under different id generations, the ledger's (else the
 * newest) counts; the other is left to the orphan sweep, which removes mirrors no entry accounts
 * for. A `trusted` event (its busy block written earlier in this run, after the target was
 * listed) keeps its stored entry.
 */
export class DriftRepair {
  /** Mirrors that will be rewritten because they are missing or were edited. */
  repaired = 0;
  /** Found mirrors adopted into the ledger as they are. */
  adopted = 0;
  /** See LedgerRepair.missing. */
  readonly missing = new Set<string>();
  readonly #bySource = new Map<string, FoundMirror[]>();
  readonly #seen = new Set<string>();
  readonly #targetKey: string;

  constructor(
    private readonly edge: Edge,
    /** The ledger view, changed in place. */
    private readonly ledger: Map<string, LedgerEntry>,
    private readonly found: ReadonlyMap<string, FoundMirror>,
    private readonly ctx: MirrorContext,
    private readonly trusted: ReadonlySet<string> = new Set(),
  ) {
    this.#targetKey = calendarKey(edge.target);
    for (const mirror of found.values()) {
      const list = this.#bySource.get(mirror.sourceEventId);
      if (list) list.push(mirror);
      else this.#bySource.set(mirror.sourceEventId, [mirror]);
    }
  }

  /** Repairs the view for one page of the source listing; returns the entries it adopted. */
  page(events: Iterable<SourceEvent>): LedgerEntry[] {
    const { edge, ledger, ctx } = this;
    const adopted: LedgerEntry[] = [];
    for (const event of events) {
      const entry = ledger.get(event.id);
      const candidates = this.#bySource.get(event.id) ?? [];
      for (const m of candidates) this.#seen.add(m.id);
      if (entry && this.trusted.has(event.id)) continue;
      const mirror = entry
        ? candidates.find((m) => m.id === entry.mirrorId)
        : candidates.reduce<FoundMirror | undefined>(
          (best, m) => !best || m.generation > best.generation ? m : best,
          undefined,
        );
      const decision = desiredMirror(event, edge, ctx);
      if (!entry) {
        if (!mirror) continue;
        const want = decision.kind === "mirror"
          ? atGeneration(decision.mirror, edge, event.id, mirror.generation)
          : undefined;
        if (want && mirrorMatches(mirror, want)) {
          const adoptedEntry = ledgerEntryFor(edge, event, want, mirror.generation, ctx.mirrorIdOf);
          ledger.set(event.id, adoptedEntry);
          adopted.push(adoptedEntry);
          this.adopted++;
        } else {
          this.#seed(mirror, event.recurringEventId);
          if (decision.kind === "mirror") this.repaired++;
        }
        continue;
      }
      // A mirror the rule moves elsewhere is the planner's business, not drift.
      if (calendarKey(entry.target) !== this.#targetKey) continue;
      if (decision.kind !== "mirror") continue;
      if (!mirror || !mirrorMatches(mirror, decision.mirror)) {
        ledger.set(event.id, { ...entry, hash: UNKNOWN_HASH });
        this.repaired++;
        if (!mirror) this.missing.add(event.id);
      }
    }
    return adopted;
  }

  /** Seeds the found mirrors no listed event accounted for, so that the planner removes them. */
  finish(): void {
    for (const [id, mirror] of this.found) {
      if (this.#seen.has(id) || this.ledger.has(mirror.sourceEventId)) continue;
      this.#seed(mirror);
    }
  }

  #seed(found: FoundMirror, recurringEventId?: string): void {
    this.ledger.set(found.sourceEventId, {
      mirrorId: found.id,
      hash: UNKNOWN_HASH,
      target: this.edge.target,
      sourceEventId: found.sourceEventId,
      ...(recurringEventId ? { recurringEventId } : {}),
      ...(found.generation > 0 ? { generation: found.generation } : {}),
    });
  }
}

/** DriftRepair over one whole listing, leaving `ledger` as it was. */
export function repairLedger(
  edge: Edge,
  events: readonly SourceEvent[],
  ledger: ReadonlyMap<string, LedgerEntry>,
  found: ReadonlyMap<string, FoundMirror>,
  ctx: MirrorContext,
): LedgerRepair {
  const view = new Map(ledger);
  const repair = new DriftRepair(edge, view, found, ctx);
  const adopted = repair.page(events);
  repair.finish();
  return { ledger: view, adopted, repaired: repair.repaired, missing: repair.missing };
}
