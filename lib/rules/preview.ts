/**
 * What a rule would do if it ran now: the engine's dry run of that one rule (a stored rule, or
 * a draft the editor has not saved), as busy blocks with their summaries and times so the
 * editor can draw them on a week view. Nothing is written anywhere.
 */
import type { RunError } from "../db/history.ts";
import { calendarKey } from "../sync/calendar_key.ts";
import { type SyncDeps, syncUser } from "../sync/engine.ts";
import type { WriteOp } from "../sync/engine_source.ts";
import { buildEdges } from "../sync/graph.ts";
import { readMarker } from "../sync/marker.ts";
import type { Rule } from "../sync/rule.ts";
import { computeWindow } from "../sync/time.ts";
import type { CalendarRef, EventTime } from "../sync/types.ts";

/** One busy block the rule would create, change or remove. */
export interface PreviewBlock {
  kind: "create" | "patch" | "delete";
  /** Why: "new", "changed", or why the mirror goes ("source_gone", "declined" ...). */
  reason: string;
  direction: "forward" | "reverse";
  /** calendarKey of the calendar the block is in. */
  target: string;
  sourceEventId: string;
  mirrorId: string;
  summary: string;
  start: EventTime;
  end: EventTime;
}

/** An event already in a target calendar (the person's own, or another rule's busy block). */
export interface ExistingEvent {
  /** calendarKey of the calendar it is in. */
  target: string;
  summary: string;
  start: EventTime;
  end: EventTime;
}

export interface RulePreview {
  /** The span the rule mirrors, as of now. */
  window: { start: string; end: string };
  counts: { create: number; patch: number; delete: number };
  /** Blocks with their times; a removal whose mirror is already gone is counted only. */
  ops: PreviewBlock[];
  /**
   * What each target already holds over the window, besides this rule's own blocks: the new
   * blocks are judged against it (does the week fill up, does a block land on a meeting?).
   */
  existing: ExistingEvent[];
  /** What stopped the dry run from reading or planning (an unreadable calendar ...). */
  errors: RunError[];
}

/**
 * Plans `rule` as if it were enabled and stored (replacing a stored rule with its id, whose
 * existing mirrors then show as changes or removals). A stored rule held by the delete guard
 * shows the removals it is held for.
 */
export async function previewRule(deps: SyncDeps, rule: Rule): Promise<RulePreview> {
  const draft: Rule = { ...rule, enabled: true, status: "ok" };
  delete draft.statusReason;
  const summary = await syncUser({
    ...deps,
    trigger: "manual",
    dryRun: true,
    draft,
    ruleIds: [draft.id],
    confirmRuleIds: [draft.id],
  });
  if (summary.status !== "planned") throw new Error("a dry run always plans");
  const ops = summary.planned.filter((op) => op.ruleId === draft.id);
  const window = computeWindow(deps.clock(), draft.window);
  const errors = [...summary.run.errors];
  const { removed, existing } = await readTargets(deps, draft, ops, window, errors);
  const blocks: PreviewBlock[] = [];
  for (const op of ops) {
    const base = {
      kind: op.kind,
      reason: op.reason,
      direction: op.direction,
      target: calendarKey(op.entry.target),
      sourceEventId: op.sourceEventId,
      mirrorId: op.entry.mirrorId,
    };
    if (op.kind !== "delete") {
      blocks.push({
        ...base,
        summary: op.mirror.summary,
        start: op.mirror.start,
        end: op.mirror.end,
      });
      continue;
    }
    const found = removed.get(`${base.target}/${op.entry.mirrorId}`);
    if (found) blocks.push({ ...base, ...found });
  }
  return {
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    counts: {
      create: ops.filter((op) => op.kind === "create").length,
      patch: ops.filter((op) => op.kind === "patch").length,
      delete: ops.filter((op) => op.kind === "delete").length,
    },
    ops: blocks,
    existing,
    errors,
  };
}

type Times = Pick<PreviewBlock, "summary" | "start" | "end">;

/**
 * One listing of each target over the rule's window gives both the current times of the
 * mirrors the plan removes (the ledger keeps no times) and what else the target holds. A target
 * that cannot be read adds to `errors`; its removals are then counted without times.
 */
async function readTargets(
  deps: SyncDeps,
  rule: Rule,
  ops: readonly WriteOp[],
  window: { start: Date; end: Date },
  errors: RunError[],
): Promise<{ removed: Map<string, Times>; existing: ExistingEvent[] }> {
  const removed = new Map<string, Times>();
  const existing: ExistingEvent[] = [];
  const wanted = new Set(
    ops.filter((op) => op.kind === "delete").map((op) =>
      `${calendarKey(op.entry.target)}/${op.entry.mirrorId}`
    ),
  );
  const targets = new Map<string, CalendarRef>(
    buildEdges([rule]).map((e) => [calendarKey(e.target), e.target]),
  );
  for (const [key, target] of targets) {
    try {
      // A preview is no run: nothing keeps its request counts.
      const provider = deps.providerFor(target.connectionId, { count: () => {} });
      const listing = await provider.listChanges(target, null, window);
      for await (const page of listing.pages) {
        for (const event of page.events) {
          if (event.status === "cancelled") continue;
          const times = { summary: event.summary ?? "", start: event.start, end: event.end };
          if (wanted.has(`${key}/${event.id}`)) removed.set(`${key}/${event.id}`, times);
          // This rule's own blocks are in `ops` (or stay as they are): not "already there".
          else if (readMarker(event.privateProps)?.ruleId !== rule.id) {
            existing.push({ target: key, ...times });
          }
        }
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      errors.push({ calendar: key, error: e.name, message: e.message });
    }
  }
  return { removed, existing };
}
