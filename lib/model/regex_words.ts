/**
 * The JavaScript engine's regex syntax errors in words a person writing a filter understands.
 * V8 words them as "Invalid regular expression: /lunch(/iu: Unterminated group" (its
 * src/regexp/regexp-error.h); only the part after the pattern says what is wrong.
 */
const WORDS: Record<string, string> = {
  "Unterminated group": "has an opening bracket “(” without a closing one",
  "Unmatched ')'": "has a closing bracket “)” without an opening one",
  "Unterminated character class": "has a “[” without a closing “]”",
  "Nothing to repeat":
    "has “*”, “+”, “?” or “{…}” with nothing before it to repeat (write \\* to match a star)",
  "\\ at end of pattern": "ends with a lone backslash “\\” (write \\\\ to match one)",
  "Invalid escape": "has a backslash before a letter or sign that means nothing escaped " +
    "(escape only signs such as . * + ? ( ) [ ] { } | ^ $ \\ /)",
  "Lone quantifier brackets": "has a “{” or “}” that is not a count like {2,3} " +
    "(write \\{ to match a brace)",
  "numbers out of order in {} quantifier": "has a count {n,m} whose first number is the larger",
  "Range out of order in character class":
    "has a range in […] that runs backwards, like [z-a] (write the smaller end first)",
  "Incomplete quantifier": "has a count in braces that is not finished, like {2,",
  "Invalid group": "has “(?” followed by something that is not a kind of group",
};

/** "The pattern has an opening bracket “(” without a closing one." for the engine's error. */
export function explainRegexError(error: Error): string {
  const reason = error.message.slice(error.message.lastIndexOf(": ") + 2);
  const words = WORDS[reason];
  return words
    ? `The pattern ${words}.`
    : `The pattern is not a valid regular expression (${
      reason.charAt(0).toLowerCase() + reason.slice(1)
    }).`;
}
