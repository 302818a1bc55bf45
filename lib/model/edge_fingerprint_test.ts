import assert from "node:assert/strict";
import { buildEdges } from "./rule_graph.ts";
import { edgeFingerprint } from "./edge_fingerprint.ts";
import { aRule } from "./test_builders.ts";

Deno.test("edge fingerprint: a renamed rule or a new status keeps it; a new filter changes it", () => {
  const [base] = buildEdges([aRule()]);
  const [renamed] = buildEdges([aRule({ name: "Other name", status: "broken" })]);
  const [stricter] = buildEdges([aRule({ filters: { skipAllDay: false } })]);
  assert.equal(edgeFingerprint(renamed), edgeFingerprint(base));
  assert.notEqual(edgeFingerprint(stricter), edgeFingerprint(base));
});

Deno.test("edge fingerprint: the two directions of a both-ways rule differ", () => {
  const [forward, reverse] = buildEdges([aRule({ bidirectional: true })]);
  assert.notEqual(edgeFingerprint(forward), edgeFingerprint(reverse));
});
