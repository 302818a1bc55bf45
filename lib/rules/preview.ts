/**
 * What a rule or a group would do if it ran now: the engine's dry run of that one owner (stored,
 * or a draft the editor has not saved), as busy blocks with their summaries and times so the
 * editor can draw them on a week view. Nothing is written anywhere.
 */
import { z } from "@hono/zod-openapi";
import { type RunError, RunRecordSchema } from "../db/history.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import { type SyncDeps, syncUser } from "../sync/engine.ts";
import type { WriteOp } from "../model/events.ts";
import { buildEdges } from "../model/rule_graph.ts";
import { readMarker } from "../sync/marker.ts";
import type { Group } from "../model/group.ts";
import type { Rule } from "../model/rule.ts";
import { computeWindow } from "../model/time_window.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";

const EventTimeSchema = z.union([
  z.object({ date: z.string() }),
  z.object({ dateTime: z.string(), timeZone: z.string().optional() }),
]).openapi("EventTime", { description: "All-day `{ date }` or timed `{ dateTime }`." });

/**
 * What a rule would do: the answer of `POST /api/rules/preview` and of a stored rule's preview,
 * as the API documents it and the editor reads it.
 */
export const RulePreviewSchema = z.object({
  /** The span the rule mirrors, as of now. */
  window: z.object({ start: z.string(), end: z.string() }),
  counts: z.object({ create: z.number().int(), patch: z.number().int(), delete: z.number().int() }),
  /** One busy block per op the rule would create, change or remove. */
  ops: z.array(z.object({
    kind: z.enum(["create", "patch", "delete"]),
    /** Why: "new", "changed", or why the mirror goes ("source_gone", "declined" ...). */
    reason: z.string(),
    direction: z.string().openapi({
      description: "For a rule `forward` or `reverse`; for a group, the pair's key.",
    }),
    target: z.string().openapi({ description: "The calendar, as `connectionId:calendarId`." }),
    sourceEventId: z.string(),
    mirrorId: z.string(),
    summary: z.string(),
    start: EventTimeSchema,
    end: EventTimeSchema,
  })).openapi({
    description: "Busy blocks with their times (for a week view); a removal whose block is " +
      "already gone is only counted.",
  }),
  /**
   * An event already in a target calendar (the person's own, or another rule's busy block):
   * the new blocks are judged against them (does the week fill up, does a block land on a
   * meeting?).
   */
  existing: z.array(z.object({
    /** calendarKey of the calendar it is in. */
    target: z.string(),
    summary: z.string(),
    start: EventTimeSchema,
    end: EventTimeSchema,
  })).openapi({
    description: "What each target already holds over the window, besides this rule's own " +
      "busy blocks: the person's own events and other rules' blocks.",
  }),
  errors: z.array(RunRecordSchema.shape.errors.element).openapi({
    description: "What kept the dry run from reading or planning something.",
  }),
}).openapi("RulePreview");

export type RulePreview = z.infer<typeof RulePreviewSchema>;
export type PreviewBlock = RulePreview["ops"][number];
export type ExistingEvent = RulePreview["existing"][number];

/**
 * Plans `owner` (a rule or a group) as if it were enabled and stored (replacing a stored one
 * with its id, whose existing mirrors then show as changes or removals). One held by the delete
 * guard shows the removals it is held for.
 */
export async function previewOwner(deps: SyncDeps, owner: Rule | Group): Promise<RulePreview> {
  const draft: Rule | Group = { ...owner, enabled: true, status: "ok" };
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
  owner: Rule | Group,
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
    targetsOf(owner).map((target) => [calendarKey(target), target]),
  );
  // A group's blocks taken over from rules still carry those rules' ids.
  const own = new Set(
    ["members" in owner ? owner.adopted.map((a) => a.ruleId) : [], owner.id].flat(),
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
          // Its own blocks are in `ops` (or stay as they are): not "already there".
          else if (!own.has(readMarker(event.privateProps)?.ruleId ?? "")) {
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

/** Where `owner` writes: a rule's targets, or every member of a group (readers list nothing). */
function targetsOf(owner: Rule | Group): CalendarRef[] {
  return "members" in owner
    ? owner.members.map((m) => m.calendar)
    : buildEdges([owner]).map((e) => e.target);
}
