/**
 * What a person with no rule yet should do next, said once and plainly: connect the other
 * account (one form post: straight to Google), then make a rule. busysync has no groups of
 * calendars yet, so "make a rule" is the one way on once two accounts are connected.
 */
export function NextStep(
  { connections, calendars, back }: {
    connections: number;
    calendars: number;
    /** The page Google brings the person back to after connecting. */
    back: string;
  },
) {
  if (connections === 0) {
    return (
      <section class="callout next-step" aria-labelledby="next-step-title">
        <h2 id="next-step-title">Next: connect a Google account</h2>
        <p>Connect each account whose calendars take part, e.g. personal and work.</p>
        <ConnectButton back={back} label="Connect a Google account" />
      </section>
    );
  }
  if (connections === 1) {
    return (
      <section class="callout next-step" aria-labelledby="next-step-title">
        <h2 id="next-step-title">Next: connect your other account</h2>
        <p>
          Busy time moves between calendars: connect the other Google account too (work, say).
          {calendars >= 2 && " Or make a rule between this account's own calendars."}
        </p>
        <div class="next-step-actions">
          <ConnectButton back={back} label="Connect another Google account" />
          {calendars >= 2 && <a class="button button-secondary" href="/rules/new">Make a rule</a>}
        </div>
      </section>
    );
  }
  return (
    <section class="callout next-step" aria-labelledby="next-step-title">
      <h2 id="next-step-title">Next: make a rule</h2>
      <p>
        Your accounts are connected. A rule puts the busy time of one calendar into another, or both
        ways; you see a week of the busy blocks it would add before you save. (Groups of calendars
        are not in busysync yet: a rule is how calendars are linked.)
      </p>
      <a class="button" href="/rules/new">Make a rule</a>
    </section>
  );
}

function ConnectButton({ back, label }: { back: string; label: string }) {
  return (
    <form method="post" action="/api/user/calendars/connect" class="inline-form">
      <input type="hidden" name="next" value={back} />
      <button type="submit" class="button">{label}</button>
    </form>
  );
}
