/**
 * The strategy most busy-sync tools use, written only so the benchmark can measure busysync
 * against it: no ledger and no cursor; every run lists each rule's source AND target over the
 * window and diffs them. It decides what a mirror looks like with busysync's own pure core and
 * writes through the same provider, so the comparison is about the strategy, not the plumbing.
 */
import { mirrorMatches } from "../lib/sync/drift.ts";
import { buildEdges } from "../lib/model/rule_graph.ts";
import { classifyEvent, mirrorIdFor } from "../lib/sync/marker.ts";
import { desiredMirror } from "../lib/sync/mirror.ts";
import type { CalendarProvider } from "../lib/sync/provider.ts";
import type { Rule } from "../lib/model/rule.ts";
import { computeWindow } from "../lib/model/time_window.ts";
import type { CalendarRef } from "../lib/model/calendar_ref.ts";
import type { Mirror, SourceEvent } from "../lib/model/events.ts";

async function listAll(
  provider: CalendarProvider,
  cal: CalendarRef,
  window: { start: Date; end: Date },
): Promise<SourceEvent[]> {
  const listing = await provider.listChanges(cal, null, window);
  const out: SourceEvent[] = [];
  for await (const page of listing.pages) out.push(...page.events);
  return out;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** One naive run over `rules`: list, diff, write. Returns the writes it made. */
export async function naiveSync(
  provider: CalendarProvider,
  rules: readonly Rule[],
  now: Date,
  concurrency = 8,
): Promise<number> {
  let writes = 0;
  for (const edge of buildEdges(rules)) {
    const window = computeWindow(now, edge.settings.window);
    const source = await listAll(provider, edge.source, window);
    const target = await listAll(provider, edge.target, window);
    const existing = new Map<string, SourceEvent>();
    for (const event of target) {
      const cls = classifyEvent(event);
      if (cls.kind === "mirror" && cls.marker.ruleId === edge.ruleId) existing.set(event.id, event);
    }
    const wanted = new Map<string, Mirror>();
    for (const event of source) {
      const decision = desiredMirror(event, edge, { now });
      if (decision.kind === "mirror") wanted.set(mirrorIdFor(edge, event.id), decision.mirror);
    }
    const puts = [...wanted].filter(([id, mirror]) => {
      const found = existing.get(id);
      return !found || found.status === "cancelled" || !mirrorMatches(found, mirror);
    });
    const deletes = [...existing.keys()].filter((id) => !wanted.has(id));
    await pool(puts, concurrency, async ([id, mirror]) => {
      await provider.putMirror(edge.target, id, mirror);
      writes++;
    });
    await pool(deletes, concurrency, async (id) => {
      await provider.deleteMirror(edge.target, id);
      writes++;
    });
  }
  return writes;
}
