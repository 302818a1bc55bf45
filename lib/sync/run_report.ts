/**
 * What one run did, collected while it runs and turned into its history record at the end:
 * per rule counts, every error with its cause, API calls, and the per-event actions (capped).
 */
import {
  type ApiCalls,
  MAX_LEFT_OUT_ACTIONS,
  MAX_RUN_ACTIONS,
  MAX_RUN_ERRORS,
  type RemovedOwnerCause,
  type RuleRun,
  type RunAction,
  type RunError,
  type RunRecord,
  type WriteOutcome,
} from "../db/history.ts";
import type { SyncTrigger } from "../model/sync_reasons.ts";
import { calendarKey } from "../model/calendar_ref.ts";
import type { EdgeOwner } from "../model/edge_owner.ts";
import type { ApiMeter } from "./provider.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { EventTime, PlannedOp, SourceEvent } from "../model/events.ts";
import type { ActionDraft } from "../db/history_titles.ts";

/** What an action tells of its source event: what the person sees in their calendar. */
type SourceFacts = Pick<ActionDraft, "sourceTitle" | "start" | "end">;

function factsOf(event: SourceEvent | undefined): SourceFacts {
  if (!event || event.status === "cancelled") return {};
  const time = (t: EventTime) => ("date" in t ? { date: t.date } : { ...t });
  return {
    // Enough to recognise the event; keeps the ciphertext within ActionSchema's bound.
    ...(event.summary ? { sourceTitle: event.summary.slice(0, 200) } : {}),
    start: time(event.start),
    end: time(event.end),
  };
}

const sourceKey = (op: Pick<PlannedOp, "ruleId" | "direction" | "sourceEventId">) =>
  `${op.ruleId}\u0000${op.direction}\u0000${op.sourceEventId}`;

type Counts = Omit<RuleRun, "ruleId" | "kind" | "name" | "removed" | "status" | "statusReason">;

/** A rule or group whose busy blocks a run removed because the person turned it off or deleted it. */
export interface RemovedOwner {
  id: string;
  kind?: "group";
  name?: string;
  removed: RemovedOwnerCause;
}

/** Mutable, hence a class: one per run, written by every step of it. */
export class RunReport {
  readonly #rules = new Map<string, Counts>();
  readonly #removedOwners = new Map<string, RemovedOwner>();
  readonly #errors: RunError[] = [];
  #errorsDropped = 0;
  readonly #actions: ActionDraft[] = [];
  #actionsDropped = 0;
  readonly #leftOut: ActionDraft[] = [];
  /** The source events of writes planned and not yet applied (noteSources, recordApplied). */
  readonly #sources = new Map<string, SourceFacts>();
  readonly calls: Omit<ApiCalls, "requests" | "methods"> = {
    listPages: 0,
    putMirror: 0,
    deleteMirror: 0,
    listMarked: 0,
  };
  readonly #methods = new Map<string, number>();
  /** Counts this run's HTTP requests by method; the providers of the run report to it. */
  readonly meter: ApiMeter = {
    count: (method) => this.#methods.set(method, (this.#methods.get(method) ?? 0) + 1),
  };

  /** Who hears of the record when the run finishes (RunContext sets it from SyncDeps). */
  #onFinished?: (record: RunRecord) => void;

  constructor(readonly runId: string, readonly startedAt: Date) {}

  /** Has `listener` hear of this run's record once `finish` has made it. */
  onFinished(listener: (record: RunRecord) => void): void {
    this.#onFinished = listener;
  }

  #countsOf(ruleId: string): Counts {
    let counts = this.#rules.get(ruleId);
    if (!counts) {
      counts = {
        created: 0,
        restored: 0,
        updated: 0,
        deleted: 0,
        alreadyGone: 0,
        skipped: 0,
        failed: 0,
        unchanged: 0,
      };
      this.#rules.set(ruleId, counts);
    }
    return counts;
  }

  /** Counts ops that need no write: unchanged mirrors and events a rule does not mirror. */
  recordNoOps(ops: readonly PlannedOp[]): void {
    for (const op of ops) {
      if (op.kind !== "none") continue;
      const counts = this.#countsOf(op.ruleId);
      if (op.reason === "unchanged") counts.unchanged++;
      else counts.skipped++;
    }
  }

  /**
   * Keeps what the planned writes' source events look like, so that the action recorded when
   * a write succeeds names the event as the person sees it (title, day, time).
   */
  noteSources(ops: readonly PlannedOp[], events: ReadonlyMap<string, SourceEvent>): void {
    for (const op of ops) {
      if (op.kind === "none") continue;
      const facts = factsOf(events.get(op.sourceEventId));
      if (facts.start) this.#sources.set(sourceKey(op), facts);
    }
  }

  /**
   * Lists the events an edge leaves out, with why, up to MAX_LEFT_OUT_ACTIONS a run: enough
   * to explain the "Left out" count of an ordinary run, bounded for a full one. busysync's own
   * busy blocks are not listed: they are not the person's events.
   */
  recordLeftOut(
    target: CalendarRef,
    ops: readonly PlannedOp[],
    events: ReadonlyMap<string, SourceEvent>,
  ): void {
    for (const op of ops) {
      if (op.kind !== "none" || op.reason === "unchanged" || op.reason === "is_mirror") continue;
      if (this.#leftOut.length >= MAX_LEFT_OUT_ACTIONS) return;
      this.#leftOut.push({
        ruleId: op.ruleId,
        direction: op.direction,
        kind: "skip",
        reason: op.reason,
        sourceEventId: op.sourceEventId,
        mirrorId: "",
        target: calendarKey(target),
        ...factsOf(events.get(op.sourceEventId)),
      });
    }
  }

  /**
   * Records a write that succeeded (its ledger entry included), counted as what it turned out
   * to do: a planned create may have restored a deleted mirror, a delete found it gone.
   */
  recordApplied(op: Exclude<PlannedOp, { kind: "none" }>, outcome: WriteOutcome): void {
    const counts = this.#countsOf(op.ruleId);
    if (outcome === "already_gone") counts.alreadyGone++;
    else if (outcome === "patched") counts.updated++;
    else counts[outcome]++;
    this.recordAction({
      ruleId: op.ruleId,
      direction: op.direction,
      kind: op.kind,
      outcome,
      reason: op.reason,
      sourceEventId: op.sourceEventId,
      mirrorId: op.entry.mirrorId,
      target: calendarKey(op.entry.target),
      ...this.#sources.get(sourceKey(op)),
    });
    this.#sources.delete(sourceKey(op));
  }

  /**
   * Records a mirror removed outside planning (an orphan, a removed rule's mirror), where the
   * source event is known only when the ledger had it.
   */
  recordRemoval(
    removed: {
      ruleId: string;
      mirrorId: string;
      target: CalendarRef;
      reason: string;
      outcome: "deleted" | "already_gone";
    },
    ledger?: { direction: RunAction["direction"]; sourceEventId: string },
  ): void {
    const counts = this.#countsOf(removed.ruleId);
    if (removed.outcome === "deleted") counts.deleted++;
    else counts.alreadyGone++;
    this.recordAction({
      ruleId: removed.ruleId,
      direction: ledger?.direction ?? "forward",
      kind: "delete",
      outcome: removed.outcome,
      reason: removed.reason,
      sourceEventId: ledger?.sourceEventId ?? "",
      mirrorId: removed.mirrorId,
      target: calendarKey(removed.target),
    });
  }

  /**
   * Notes that this run removes `owner`'s busy blocks: its line in the record then carries
   * their counts, its name and why, although the run does not sync it.
   */
  recordRemovedOwner(owner: RemovedOwner): void {
    this.#removedOwners.set(owner.id, owner);
    this.#countsOf(owner.id);
  }

  recordAction(action: ActionDraft): void {
    if (this.#actions.length < MAX_RUN_ACTIONS) this.#actions.push(action);
    else this.#actionsDropped++;
  }

  /** Records a failure with its cause chain; `failedOp` also counts it against the rule. */
  recordError(
    err: unknown,
    where: { ruleId?: string; calendar?: CalendarRef; failedOp?: boolean } = {},
  ): void {
    if (where.ruleId && where.failedOp) this.#countsOf(where.ruleId).failed++;
    this.#pushError({
      ...(where.ruleId ? { ruleId: where.ruleId } : {}),
      ...(where.calendar ? { calendar: calendarKey(where.calendar) } : {}),
      error: err instanceof Error ? err.name : "Error",
      message: (err instanceof Error ? err.message : String(err)).slice(0, 1000),
      ...causeOf(err),
    });
  }

  /** Records a problem that is not a thrown error (an unreadable event in a listing). */
  recordProblem(problem: RunError): void {
    this.#pushError(problem);
  }

  #pushError(error: RunError): void {
    if (this.#errors.length < MAX_RUN_ERRORS) this.#errors.push(error);
    else this.#errorsDropped++;
  }

  get hasErrors(): boolean {
    return this.#errors.length > 0;
  }

  /**
   * The history record: `rules` are the rules and groups the run looked at, with their status
   * after it, then those whose blocks it removed because they were turned off or deleted.
   */
  finish(opts: {
    userId: string;
    trigger: SyncTrigger;
    endedAt: Date;
    dryRun: boolean;
    full: boolean;
    stopped: boolean;
    owners: readonly Pick<EdgeOwner, "kind" | "id" | "name" | "status" | "statusReason">[];
  }): { record: RunRecord; actions: ActionDraft[] } {
    const rules: RuleRun[] = opts.owners.map((rule) => {
      const removed = this.#removedOwners.get(rule.id)?.removed;
      return {
        ruleId: rule.id,
        ...(rule.kind === "group" ? { kind: "group" as const } : {}),
        name: rule.name,
        ...(removed ? { removed } : {}),
        ...this.#countsOf(rule.id),
        status: rule.status,
        ...(rule.statusReason ? { statusReason: rule.statusReason } : {}),
      };
    });
    const listed = new Set(opts.owners.map((o) => o.id));
    for (const owner of this.#removedOwners.values()) {
      if (listed.has(owner.id)) continue;
      rules.push({
        ruleId: owner.id,
        ...(owner.kind ? { kind: owner.kind } : {}),
        ...(owner.name !== undefined ? { name: owner.name } : {}),
        removed: owner.removed,
        ...this.#countsOf(owner.id),
      });
    }
    const outcome = opts.stopped ? "failed" : this.hasErrors ? "partial" : "ok";
    const record: RunRecord = {
      v: 1,
      id: this.runId,
      userId: opts.userId,
      trigger: opts.trigger,
      startedAt: this.startedAt.toISOString(),
      endedAt: opts.endedAt.toISOString(),
      dryRun: opts.dryRun,
      full: opts.full,
      outcome,
      rules,
      errors: this.#errors,
      errorsDropped: this.#errorsDropped,
      apiCalls: {
        ...this.calls,
        requests: [...this.#methods.values()].reduce((a, b) => a + b, 0),
        methods: Object.fromEntries([...this.#methods].sort(([a], [b]) => a < b ? -1 : 1)),
      },
      actionsDropped: this.#actionsDropped,
    };
    this.#onFinished?.(record);
    return { record, actions: [...this.#actions, ...this.#leftOut] };
  }
}

/** The messages of an error's causes, outermost first ("backendError ← ECONNRESET"). */
function causeOf(err: unknown): { cause?: string } {
  const parts: string[] = [];
  let at = err instanceof Error ? err.cause : undefined;
  for (let depth = 0; at !== undefined && depth < 4; depth++) {
    parts.push(at instanceof Error ? `${at.name}: ${at.message}` : String(at));
    at = at instanceof Error ? at.cause : undefined;
  }
  return parts.length ? { cause: parts.join(" ← ").slice(0, 1000) } : {};
}
