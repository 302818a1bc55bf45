import assert from "node:assert/strict";
import { findRegexProblem } from "./rule.ts";

Deno.test("regex words: a pattern that does not compile is refused in words, not the engine's", async (t) => {
  for (
    const [pattern, words] of [
      ["lunch(", "The pattern has an opening bracket “(” without a closing one."],
      ["lunch)", "The pattern has a closing bracket “)” without an opening one."],
      ["[lunch", "The pattern has a “[” without a closing “]”."],
      ["*lunch", "The pattern has “*”, “+”, “?” or “{…}” with nothing before it to repeat"],
      ["lunch\\", "The pattern ends with a lone backslash “\\”"],
      ["\\q", "The pattern has a backslash before a letter or sign that means nothing escaped"],
      ["a{2", "The pattern has a count in braces that is not finished, like {2,."],
      ["a}", "The pattern has a “{” or “}” that is not a count like {2,3}"],
      ["a{3,2}", "The pattern has a count {n,m} whose first number is the larger."],
      ["[z-a]", "The pattern has a range in […] that runs backwards"],
    ] as const
  ) {
    await t.step(pattern, () => {
      const problem = findRegexProblem(pattern) ?? "";
      assert.ok(problem.startsWith(words), problem);
      assert.doesNotMatch(problem, /Invalid regular expression/);
    });
  }
});
