import { useState } from "preact/hooks";
import { callApi } from "../lib/browser/api.ts";
import type { GroupDraft } from "../lib/browser/group_draft.ts";
import type { CalendarOption, RuleDraft } from "../lib/browser/rule_draft.ts";
import { calendarKey } from "../lib/model/calendar_ref.ts";
import { fullCalendarName } from "../lib/model/calendar_name.ts";

/** `POST /api/groups/proposal`'s answer: the group that would do what the rules cannot. */
interface Proposal {
  group: GroupDraft;
  /** The rules whose busy blocks the group takes over; they go when it is made. */
  adoptRuleIds: string[];
  /** The name of the rule whose settings the group takes. */
  settingsFrom: string;
  /** Where the other rules' settings differ, in sentences. */
  differences: string[];
}

type State =
  | { step: "offer" }
  | { step: "asking" }
  | { step: "shown"; proposal: Proposal }
  | { step: "making"; proposal: Proposal };

/**
 * Under a rule that would close a cycle: "Make them a group" asks the API for the group that
 * makes those calendars block each other (`POST /api/groups/proposal` with the draft), shows its
 * members and which settings it takes, and on confirmation makes it (`POST /api/groups` with
 * `adoptRuleIds`: it keeps the rules' busy blocks and replaces the rules). The rules page then
 * says what happened.
 */
export function GroupProposal(
  { draft, calendars }: { draft: RuleDraft; calendars: CalendarOption[] },
) {
  const [state, setState] = useState<State>({ step: "offer" });
  const [error, setError] = useState<string | null>(null);
  const byKey = new Map(calendars.map((c) => [c.key, c]));

  const ask = async () => {
    setState({ step: "asking" });
    setError(null);
    const res = await callApi<Proposal>("POST", "/api/groups/proposal", draft);
    if (res.ok) return setState({ step: "shown", proposal: res.data });
    setState({ step: "offer" });
    setError(res.error.message);
  };
  const make = async (proposal: Proposal) => {
    setState({ step: "making", proposal });
    setError(null);
    const res = await callApi<{ id: string }>("POST", "/api/groups", {
      ...proposal.group,
      adoptRuleIds: proposal.adoptRuleIds,
    });
    if (res.ok) {
      const run = res.headers.get("busysync-sync-run");
      const query = new URLSearchParams({
        saved: res.data.id,
        adopted: String(proposal.adoptRuleIds.length),
        ...(run ? { run } : {}),
      });
      location.assign(`/rules?${query}`);
      return;
    }
    setState({ step: "shown", proposal });
    setError(res.error.message);
  };

  return (
    <section class="callout group-proposal" aria-labelledby="proposal-title" data-proposal>
      <strong id="proposal-title">Make them a group instead</strong>
      {state.step === "offer" || state.step === "asking"
        ? (
          <>
            <p>
              A group makes every calendar in it block all the others. It takes over the busy blocks
              these rules already made, so nothing is removed and made again.
            </p>
            <button
              type="button"
              class="button"
              disabled={state.step === "asking"}
              onClick={ask}
            >
              {state.step === "asking" ? "Working…" : "Make them a group"}
            </button>
          </>
        )
        : (
          <>
            <p>
              “{state.proposal.group.name}” would hold {state.proposal.group.members.length}{" "}
              calendars:
            </p>
            <ul data-proposal-members>
              {state.proposal.group.members.map((m) => (
                <li key={calendarKey(m.calendar)}>
                  {fullCalendarName(byKey.get(calendarKey(m.calendar)))}
                </li>
              ))}
            </ul>
            <p>
              It takes its settings from “{state.proposal.settingsFrom}” and replaces{" "}
              {state.proposal.adoptRuleIds.length === 1
                ? "that rule"
                : `those ${state.proposal.adoptRuleIds.length} rules`}, keeping their busy blocks.
            </p>
            {state.proposal.differences.length > 0 && (
              <ul class="proposal-differences">
                {state.proposal.differences.map((d) => <li key={d}>{d}</li>)}
              </ul>
            )}
            <div class="dialog-actions">
              <button
                type="button"
                class="button"
                disabled={state.step === "making"}
                onClick={() => make(state.proposal)}
              >
                {state.step === "making" ? "Making the group…" : "Make the group"}
              </button>
              <button
                type="button"
                class="button button-secondary"
                disabled={state.step === "making"}
                onClick={() => setState({ step: "offer" })}
              >
                Not now
              </button>
            </div>
          </>
        )}
      {error && <p class="field-error" role="alert">{error}</p>}
    </section>
  );
}
