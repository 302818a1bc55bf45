import type { RunRecord } from "../db/history.ts";
import type { SpanAttributes } from "./tracing.ts";

/**
 * What a `sync.run` span says of the run it covered: its id (the history record's, which the
 * run's log lines carry too), what started it, how it ended and the writes it made, added up
 * over its rules. Never who it ran for, nor a rule's or calendar's id.
 */
export function runAttributes(record: RunRecord): SpanAttributes {
  const total = (pick: (rule: RunRecord["rules"][number]) => number) =>
    record.rules.reduce((sum, rule) => sum + pick(rule), 0);
  return {
    "busysync.run_id": record.id,
    "busysync.trigger": record.trigger,
    "busysync.full": record.full,
    "busysync.outcome": record.outcome,
    "busysync.rules": record.rules.length,
    "busysync.writes.created": total((r) => r.created + r.restored),
    "busysync.writes.updated": total((r) => r.updated),
    "busysync.writes.deleted": total((r) => r.deleted),
    "busysync.writes.failed": total((r) => r.failed),
    "busysync.errors": record.errors.length + record.errorsDropped,
    "busysync.requests": record.apiCalls.requests ?? 0,
  };
}
