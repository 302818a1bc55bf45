import type { RuleStatus } from "../lib/model/rule.ts";

/** A rule's state in one word: off, on, or what is wrong. */
export function RuleStatusPill({ enabled, status }: { enabled: boolean; status: RuleStatus }) {
  if (!enabled) return <span class="pill pill-muted">Off</span>;
  if (status === "broken") return <span class="pill pill-bad">Broken</span>;
  if (status === "failing") return <span class="pill pill-bad">Failing</span>;
  if (status === "needs_confirmation") return <span class="pill pill-warn">Waiting for you</span>;
  if (status === "paused") return <span class="pill pill-warn">Paused</span>;
  return <span class="pill pill-ok">On</span>;
}
