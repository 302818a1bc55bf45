/**
 * The alert rules as Prometheus itself reads them: `promtool check rules` (syntax, PromQL,
 * templates) and `promtool test rules` (each alert fires on its situation and not on a lookalike),
 * with Debian's `prometheus` package, and the README's scrape job loading them (`promtool check
 * config`). That the rules and the dashboard read only metrics a real scrape has is
 * tests/metrics_test.ts's part.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { findTool, INFRA, needing, ROOT, run } from "../support/infrastructure.ts";

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

Deno.test({
  name: needing("prometheus: the README's scrape job is a valid configuration with the rules", {
    promtool,
  }),
  ignore: !promtool && !required,
  fn: async () => {
    assert.ok(promtool, "promtool is not installed: apt-get install prometheus");
    const readme = await Deno.readTextFile(`${ROOT}README.md`);
    const section = readme.slice(readme.indexOf("### Metrics and alerts"));
    const yaml = /```yaml\n(scrape_configs:[\s\S]*?)```/.exec(section)?.[1];
    assert.ok(yaml, "the README shows a scrape job");
    const config = parse(yaml) as {
      scrape_configs: { authorization?: { credentials_file: string } }[];
    };
    const dir = await Deno.makeTempDir({ prefix: "busysync-prometheus-" });
    try {
      // promtool reads the token file it names; a stand-in one takes its place.
      await Deno.writeTextFile(`${dir}/token`, "a-metrics-token-of-some-length");
      for (const job of config.scrape_configs) {
        if (job.authorization) job.authorization.credentials_file = `${dir}/token`;
      }
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        stringify({ rule_files: [RULES], ...config }),
      );
      const check = await run(promtool, ["check", "config", `${dir}/prometheus.yml`]);
      assert.equal(check.code, 0, check.output);
      assert.match(check.output, /SUCCESS: \d+ rules found/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
