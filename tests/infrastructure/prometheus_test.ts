/**
 * The alert rules as Prometheus itself reads them: `promtool check rules` (syntax, PromQL,
 * templates) and `promtool test rules` (each alert fires on its situation and not on a lookalike),
 * with Debian's `prometheus` package. That the rules and the dashboard read only metrics a real
 * scrape has is tests/metrics_test.ts's part.
 */
import assert from "node:assert/strict";
import { findTool, INFRA, needing, run } from "../support/infrastructure.ts";

const promtool = findTool("promtool");
// .ci/run sets it: there a missing promtool fails the test instead of skipping it.
const required = Deno.env.get("BUSYSYNC_REQUIRE_TOOLS") === "1";
const RULES = `${INFRA}prometheus/busysync_alerts.yml`;
const RULE_TESTS = `${INFRA}prometheus/busysync_alerts_test.yml`;

Deno.test({
  name: needing("prometheus: promtool accepts the alert rules and their unit tests pass", {
    promtool,
  }),
  ignore: !promtool && !required,
  fn: async () => {
    assert.ok(promtool, "promtool is not installed: apt-get install prometheus");
    const check = await run(promtool, ["check", "rules", RULES]);
    assert.equal(check.code, 0, check.output);
    assert.match(check.output, /SUCCESS: \d+ rules found/);
    const tests = await run(promtool, ["test", "rules", RULE_TESTS]);
    assert.equal(tests.code, 0, tests.output);
    assert.match(tests.output, /SUCCESS/);
  },
});
