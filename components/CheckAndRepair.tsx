import SyncNow, { type SyncWords } from "../islands/SyncNow.tsx";
import { Island } from "./Island.tsx";

type Owner = { kind: "rule"; ruleId: string } | { kind: "group"; groupId: string };

const wordsFor = (what: string): SyncWords => ({
  button: "Check and repair",
  busy: "Checking…",
  disabled: `Turn the ${what} on to check its busy blocks.`,
  idle: "Where everything is right, nothing changes.",
  working: "Reading the calendars in full…",
  nothingToDo: "every busy block was already right",
});

/**
 * A full reconcile of one rule or group on demand. Above the editor rather than below it: the
 * editor's preview grows once it loads, and a card under it would jump.
 */
export function CheckAndRepair({ owner, enabled }: { owner: Owner; enabled: boolean }) {
  const request = owner.kind === "rule"
    ? { ruleId: owner.ruleId, full: true }
    : { groupId: owner.groupId, full: true };
  const calendars = owner.kind === "rule" ? "both calendars" : "every member";
  return (
    <section class="card repair-card" aria-labelledby="repair-title">
      <h2 id="repair-title">Something looks off?</h2>
      <p>
        busysync follows each calendar's changes, so a busy block deleted or edited by hand waits
        for the scheduled full check. Check and repair runs it now for this {owner.kind}{" "}
        as saved: it reads {calendars}{" "}
        over the whole window, puts back what is missing or changed, and removes duplicates and
        leftovers. It costs more Google requests than a sync.
      </p>
      <Island
        name="SyncNow"
        component={SyncNow}
        props={{ disabled: !enabled, request, words: wordsFor(owner.kind) }}
      />
    </section>
  );
}
